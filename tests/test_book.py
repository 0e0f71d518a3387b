"""The built book in a real browser: headless Chromium loads pages from a server on 127.0.0.1, takes
screenshots (book/_build/screenshots/), and the test asserts that math was typeset by the vendored MathJax,
that figures are present, and that no request left 127.0.0.1.

Needs the book built (`make html`, part of `make test`); skipped otherwise unless VISIONBOOK_REQUIRE_BOOK=1."""
import functools
import http.server
import json
import os
import shutil
import subprocess
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "book" / "_build" / "html"
SHOTS = ROOT / "book" / "_build" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

if not (HTML / "index.html").is_file():
    if os.environ.get("VISIONBOOK_REQUIRE_BOOK") == "1":
        raise RuntimeError(f"the book is not built ({HTML}/index.html missing): run `make html` first")
    pytest.skip("book not built; run `make html`", allow_module_level=True)
if CHROMIUM is None:
    pytest.fail("chromium is not installed (apt-get install chromium; `make system` does it)", pytrace=False)


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(HTML)))
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def chromium(url, tmp, *extra):
    "Run headless Chromium on `url`; returns (stdout, set of hosts it requested)."
    netlog = tmp / "netlog.json"
    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-default-apps", "--disable-extensions", "--no-default-browser-check",
            f"--user-data-dir={tmp / 'profile'}", "--window-size=1280,900", "--virtual-time-budget=15000",
            f"--log-net-log={netlog}", "--net-log-capture-mode=Default", *extra, url]
    r = subprocess.run(args, capture_output=True, text=True, timeout=120)
    hosts = set()
    if netlog.is_file():
        text = netlog.read_text(errors="replace").rstrip()
        if not text.endswith("}"):                    # Chromium may leave the log unterminated
            text = text.rstrip(",") + "]}"
        log = json.loads(text)
        start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
        for ev in log["events"]:
            p = ev.get("params") or {}
            # requests made by the page carry the page's site in their network isolation key; Chromium's own
            # background requests (update checks, account pings) carry 'null' or google.com and are not the page's
            if ev["type"] == start and "127.0.0.1" in str(p.get("network_isolation_key", "")) and "url" in p:
                hosts.add(urlparse(p["url"]).hostname)
    return r.stdout, hosts


def pages_with(pattern):
    return sorted(p for p in HTML.glob("*.html") if pattern in p.read_text(errors="replace"))


def test_pages_have_no_external_assets():
    "No page references a script, stylesheet, font or image on another host (links to papers are fine)."
    import re
    bad = []
    for p in HTML.glob("**/*.html"):
        for m in re.finditer(r'<(script|link|img|iframe)\b[^>]*?(src|href)="(https?:)?//([^"/]+)', p.read_text(errors="replace")):
            tag = m.group(0)
            if m.group(1) == "link" and 'rel="stylesheet"' not in tag and 'rel="preload"' not in tag:
                continue
            bad.append((p.name, m.group(4)))
    assert not bad, f"pages load assets from the internet: {sorted(set(bad))[:10]}"


def test_math_is_typeset_offline(server, tmp_path):
    page = "_proc/02_learner.html"
    assert (HTML / page).is_file()
    dom, hosts = chromium(f"{server}/{page}", tmp_path, "--dump-dom")
    assert "mjx-container" in dom, "MathJax did not typeset the math on the Learner page"
    assert hosts == {"127.0.0.1"}, f"the page requested other hosts (or nothing was logged): {hosts}"


@pytest.mark.parametrize("page", ["_proc/index.html", "_proc/04_engine.html", "book/api/learner.html"])
def test_page_renders_with_figures(server, tmp_path, page):
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / page.replace("/", "_").replace(".html", ".png")
    _, hosts = chromium(f"{server}/{page}", tmp_path, f"--screenshot={shot}")
    assert shot.is_file() and shot.stat().st_size > 10_000, "no screenshot"
    assert hosts == {"127.0.0.1"}, f"{page} requested other hosts (or nothing was logged): {hosts}"
    if page.endswith("04_engine.html"):
        dom, _ = chromium(f"{server}/{page}", tmp_path / "b", "--dump-dom")
        imgs = [s for s in __import__("re").findall(r'<img[^>]*src="([^"]+)"', dom) if "_images/" in s or s.startswith("data:image")]
        assert imgs, "the engine chapter shows no figure"
        for s in imgs:
            if "_images/" in s:
                assert (HTML / page).parent.joinpath(s.split("?")[0]).resolve().is_file(), s
