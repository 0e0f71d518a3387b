"""The built book in a real browser: headless Chromium loads pages from a server on 127.0.0.1, takes
screenshots (book/_build/screenshots/), and the test asserts that math was typeset by the vendored MathJax,
that figures are present, that no request left 127.0.0.1, that no page shows a raw `$` or has prose typeset
as math (a mis-parsed `$$` block), and that cells marked `#| code-fold: true` render collapsed.

Needs the book built (`make html`, part of `make test`); skipped otherwise unless VISIONBOOK_REQUIRE_BOOK=1."""
import functools
import html
import html.parser
import http.server
import json
import os
import re
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
        imgs = [s for s in re.findall(r'<img[^>]*src="([^"]+)"', dom) if "_images/" in s or s.startswith("data:image")]
        assert imgs, "the engine chapter shows no figure"
        for s in imgs:
            if "_images/" in s:
                assert (HTML / page).parent.joinpath(s.split("?")[0]).resolve().is_file(), s


# --- the text a reader sees ---------------------------------------------------------------------------------
BOOK_PAGES = sorted(str(p.relative_to(HTML)) for p in [*HTML.glob("_proc/*.html"), *HTML.glob("book/api/*.html")])
SKIP_TAGS = {"script", "style", "pre", "code", "kbd", "samp", "textarea", "svg", "mjx-container", "head"}


class VisibleText(html.parser.HTMLParser):
    "The text of a page outside code, scripts and typeset math (MathJax's `mjx-container`)."

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.skip, self.parts = [], []

    def handle_starttag(self, tag, attrs):
        if tag in SKIP_TAGS:
            self.skip.append(tag)

    def handle_endtag(self, tag):
        if self.skip and self.skip[-1] == tag:
            self.skip.pop()

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def visible_text(dom: str) -> str:
    v = VisibleText()
    v.feed(dom)
    return " ".join(" ".join(v.parts).split())


MATH = re.compile(r'<(span|div) class="math notranslate nohighlight">(.*?)</\1>', re.S)
TEXT_CMD = re.compile(r"\\(?:text\w*|mathrm|operatorname|mbox|label|tag)\s*\{[^{}]*\}")
PROSE = re.compile(r"(?<![\\\w])[A-Za-z]{2,}[,.;:']?\s+[A-Za-z]{2,}[,.;:']?\s+[A-Za-z]{2,}")
INLINE_MAX = 250                      # characters of TeX in one inline formula; the book's longest is ~150


def math_problems(page_html: str) -> list[str]:
    "TeX sources MathJax receives from a page that are prose rather than math: 3+ plain words in a row outside \\text{...}, or an implausibly long inline formula."
    bad = []
    for m in MATH.finditer(page_html):
        tex = html.unescape(re.sub(r"<[^>]+>", "", m.group(2)))
        bare = TEXT_CMD.sub(" ", tex)
        if (w := PROSE.search(bare)):
            bad.append(f"prose {w.group(0)!r} in math {tex[:120]!r}")
        elif m.group(1) == "span" and len(tex) > INLINE_MAX:
            bad.append(f"inline math of {len(tex)} characters: {tex[:120]!r}")
    return bad


def test_math_checks_can_fail():
    "The two checks below catch what a mis-parsed `$$` in a paragraph produces."
    good = r'<span class="math notranslate nohighlight">\(L = \alpha\,\text{CE of the labels} + \beta L_\text{KD}\)</span>'
    assert math_problems(good) == []
    prose = r'<span class="math notranslate nohighlight">\(\big(y\big),\) which is Swin\'s cyclic shift plus region mask \(</span>'
    assert math_problems(prose)
    assert math_problems('<span class="math notranslate nohighlight">\\(' + "x+" * 200 + "x\\)</span>")
    assert "$" in visible_text("<p>costs $5 <code>$x</code></p>")
    assert "$" not in visible_text("<p>costs <code>$x</code><mjx-container>$</mjx-container></p><pre>$</pre>")


@pytest.mark.parametrize("page", BOOK_PAGES)
def test_page_text_has_no_raw_dollar_or_prose_math(server, tmp_path, page):
    "No `$` shows outside code once MathJax has run, and no formula holds a sentence (a mis-parsed `$$...$$`)."
    bad = math_problems((HTML / page).read_text(errors="replace"))
    assert not bad, f"{page}: prose typeset as math (display math must be its own block, blank lines around it): {bad[:3]}"
    dom, _ = chromium(f"{server}/{page}", tmp_path, "--dump-dom")
    text = visible_text(dom)
    if "math notranslate" in dom:
        assert "mjx-container" in dom, f"{page}: MathJax did not typeset the math"
    dollars = [text[max(0, i - 60):i + 60] for i in [m.start() for m in re.finditer(r"\$", text)]]
    assert not dollars, f"{page}: a literal $ shows in the text outside code (unparsed math?): {dollars[:3]}"


FOLD = re.compile(r"^\s*#\|\s*code-fold:\s*true\s*$", re.M)


def folded_cells(nb: Path) -> int:
    "Code cells of a notebook marked `#| code-fold: true` (book/build.py tags them `hide-input`)."
    cells = json.loads(nb.read_text())["cells"]
    return sum(1 for c in cells if c["cell_type"] == "code" and FOLD.search("".join(c["source"])))


@pytest.mark.parametrize("stem", ["10_dist", "11_lightvit", "12_greenmim", "13_jomold"])
def test_assembly_cells_render_collapsed(stem):
    "The chapters' ledger/figure-assembly cells are marked, and each renders as a closed toggle above its output."
    n = folded_cells(ROOT / "nbs" / f"{stem}.ipynb")
    assert n >= 1, f"nbs/{stem}.ipynb marks no ledger/figure cell `#| code-fold: true`"
    page = (HTML / "_proc" / f"{stem}.html").read_text(errors="replace")
    toggles = re.findall(r'<details class="[^"]*\bhide\b[^"]*\babove-input\b[^"]*"(?![^>]*\bopen\b)', page)
    assert len(toggles) == n, f"{stem}: {n} cells marked code-fold, {len(toggles)} collapsed inputs rendered"
