"""Committed results files (nbs/results/<chapter>_<tier>.json written by a chapter's `main`) must still match
what the chapter's `experiment_config(tier)` produces; a file that does not is stale and must be re-run (the
page already refuses to show it as current). Benchmark files without a recorded configuration are not run
results and are skipped here."""
import json

import pytest

from conftest import ROOT
from visionbook.core import TIERS, load_tier_results, tier_config, write_run_results, start_run

RESULTS = ROOT / "nbs" / "results"


def run_results_files():
    out = []
    for p in sorted(RESULTS.glob("*.json")):
        payload = json.loads(p.read_text())
        res = payload.get("results") if isinstance(payload, dict) else None
        if isinstance(res, dict) and "config" in res and "chapter" in res:
            out.append(p)
    return out


@pytest.mark.parametrize("path", run_results_files(), ids=lambda p: p.name)
def test_committed_results_match_experiment_config(path):
    res = json.loads(path.read_text())["results"]
    chapter, scale = res["chapter"], res["scale"]
    assert path.stem == f"{chapter}_{scale}", f"{path.name} holds results of {chapter} at {scale}"
    assert scale in TIERS
    payload = load_tier_results(chapter, scale, results_dir=RESULTS)
    assert not payload["stale"], (f"{path} is stale: experiment_config({scale!r}) of visionbook.{chapter} no longer "
                                  f"produces its configuration (changed: {payload['stale_keys']}). Re-run "
                                  f"`python -m visionbook {chapter} --scale {scale}` and commit the new file.")
    assert not res["smoke"], f"{path} was written by a smoke run"
    env = json.loads(path.read_text())["env"]
    for key in ("hardware", "torch", "date", "commit"):
        assert key in env, f"{path} lacks env[{key!r}]"


def test_the_check_can_fail(tmp_path, monkeypatch):
    "A file written under one configuration is stale once the configuration changes, and fine while it does not."
    monkeypatch.setenv("VISIONBOOK_RESULTS_DIR", str(tmp_path))
    old = lambda s: tier_config(s, ci=dict(epochs=1), cpu=dict(epochs=5, lr=0.1))
    new = lambda s: tier_config(s, ci=dict(epochs=1), cpu=dict(epochs=6, lr=0.1))
    cfg, opts = start_run("toy", "cpu", dict(out_dir=tmp_path / "run"), old)
    assert opts["published"]
    write_run_results("toy", cfg, opts, dict(acc=0.5))
    assert (tmp_path / "toy_cpu.json").is_file()
    assert load_tier_results("toy", "cpu", experiment_config=old)["stale"] is False
    stale = load_tier_results("toy", "cpu", experiment_config=new)
    assert stale["stale"] and stale["stale_keys"] == ["epochs"]


def test_overridden_or_smoke_runs_are_not_published(tmp_path, monkeypatch):
    monkeypatch.setenv("VISIONBOOK_RESULTS_DIR", str(tmp_path / "published"))
    ec = lambda s: tier_config(s, ci=dict(epochs=1), cpu=dict(epochs=5))
    for over in (dict(epochs=2), dict(smoke=True)):
        cfg, opts = start_run("toy", "cpu", dict(over, out_dir=tmp_path / "run"), ec, smoke_config=dict(epochs=1))
        paths = write_run_results("toy", cfg, opts, dict(acc=0.5))
        assert [p.parent for p in paths] == [(tmp_path / "run").resolve()], over
    assert not (tmp_path / "published").exists()


def test_file_without_configuration_is_stale(tmp_path):
    (tmp_path / "toy_cpu.json").write_text(json.dumps(dict(name="toy_cpu", env={}, results=dict(acc=1))))
    payload = load_tier_results("toy", "cpu", results_dir=tmp_path, experiment_config=lambda s: tier_config(s, cpu={}))
    assert payload["stale"] and payload["stale_keys"] == ["(no configuration recorded)"]
