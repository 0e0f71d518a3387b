"""The one-command GPU benchmark runner (dry run on the CPU) and the cpu_threads setting."""
import importlib.util
import json
import subprocess
import sys

import pytest

from conftest import ROOT, child_env
from visionbook.measure import gpu_benchmark_chapters

PROVENANCE = {"gpu", "hardware", "date", "python", "torch", "torchvision", "timm", "commit", "cpu_threads"}


def run_all_module():
    spec = importlib.util.spec_from_file_location("run_all", ROOT / "nbs" / "bench" / "run_all.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_dry_run_writes_every_chapter_with_provenance(tmp_path):
    chapters = gpu_benchmark_chapters()
    assert {"dist", "lightvit", "greenmim"} <= set(chapters)
    book = {p.name: p.stat().st_mtime_ns for p in (ROOT / "nbs" / "results").glob("*_gpu.json")}
    r = subprocess.run([sys.executable, str(ROOT / "nbs" / "bench" / "run_all.py"), "--dry-run", "--results-dir", str(tmp_path)],
                       cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"run_all.py --dry-run failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    assert sorted(p.name for p in tmp_path.glob("*.json")) == sorted(f"{c}_gpu.json" for c in chapters)
    for c in chapters:
        payload = json.loads((tmp_path / f"{c}_gpu.json").read_text())
        assert payload["name"] == f"{c}_gpu" and payload["results"]["dry_run"] is True, c
        missing = PROVENANCE - set(payload["env"])
        assert not missing, f"{c}_gpu.json lacks provenance keys {missing}"
        assert payload["env"]["date"] and payload["env"]["torch"], c
    # the book's results are never touched by a dry run
    assert book == {p.name: p.stat().st_mtime_ns for p in (ROOT / "nbs" / "results").glob("*_gpu.json")}
    res = json.loads((tmp_path / "dist_gpu.json").read_text())["results"]
    assert set(res["timings"]) == {"plain", "distill", "cached", "kd_cached", "loss_only"}
    assert res["timings"]["plain"]["ratio_best"] == 1.0 and res["timings"]["plain"]["clock"] == "perf_counter"
    lv = json.loads((tmp_path / "lightvit_gpu.json").read_text())["results"]
    assert not lv["errors"] and lv["inference"] and lv["training"], lv["errors"]
    gm = json.loads((tmp_path / "greenmim_gpu.json").read_text())["results"]
    assert not [row for row in gm["rows"] if "error" in row] and "speedup_fp32" in gm["summary"]


def test_runner_rejects_bad_arguments(tmp_path):
    main = run_all_module().main
    with pytest.raises(ValueError, match="chapters with a gpu_benchmark"):
        main(["--dry-run", "--only", "no_such_chapter", "--results-dir", str(tmp_path)])
    with pytest.raises(SystemExit):
        main(["--dry-run", "--authors-repo", "lightvit", "--results-dir", str(tmp_path)])   # CHAPTER=PATH expected
    assert not list(tmp_path.iterdir())


def test_bench_scripts_import_the_package_normally():
    for script in sorted((ROOT / "nbs" / "bench").glob("*.py")):
        text = script.read_text()
        assert "sys.path" not in text, f"{script.name} edits sys.path; import visionbook as an installed package"
        assert "from visionbook.measure import" in text, f"{script.name} should call visionbook.measure's runner"
        compile(text, str(script), "exec")


def _threads_in_child(**env):
    e = child_env()
    e.pop("VISIONBOOK_CPU_THREADS", None)
    e.update(env)
    r = subprocess.run([sys.executable, "-c", "import torch, visionbook; print(torch.get_num_threads())"],
                       cwd=ROOT, env=e, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    return int(r.stdout.strip().splitlines()[-1]), r.stderr


def test_cpu_threads_setting_is_applied_on_import():
    from visionbook.core import setting
    n, _ = _threads_in_child()
    assert n == int(setting("cpu_threads", start=ROOT)), n
    n, _ = _threads_in_child(VISIONBOOK_CPU_THREADS="3")
    assert n == 3
    n, err = _threads_in_child(VISIONBOOK_CPU_THREADS="lots")
    assert n >= 1 and "cpu_threads must be" in err
