"""Every chapter's command line at the ci tier, in smoke mode, in its own process: `python -m visionbook
<chapter> --scale ci --smoke` must run on the offline data alone, write its results file and checkpoints under
the run folder, resume from them, and reject an unknown override with a message that names the valid keys."""
import importlib
import json
import subprocess
import sys

import pytest

from conftest import ROOT, child_env
from visionbook.core import ConfigError

CHAPTERS = ("dist", "lightvit", "greenmim", "jomold", "dense", "maskd", "head", "gebd", "scalenet", "stylegan_human",
            "semm")


def cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "visionbook", *map(str, args)], cwd=ROOT, env=child_env(),
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_ci_smoke_writes_results_and_checkpoints_and_resumes(tmp_path, chapter):
    out = tmp_path / "run"
    r = cli(chapter, "--scale", "ci", "--smoke", "--out_dir", out)
    assert r.returncode == 0, f"{chapter} ci smoke run failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    res = out / f"{chapter}_ci.json"
    assert res.is_file(), f"no results file {res}; the run folder holds {sorted(p.name for p in out.iterdir())}"
    payload = json.loads(res.read_text())
    assert payload["results"]["chapter"] == chapter and payload["results"]["scale"] == "ci"
    assert payload["results"]["smoke"] is True and payload["results"]["config"]
    assert payload["env"]["hardware"] and payload["env"]["torch"] and payload["env"]["date"]
    ckpts = sorted(out.rglob("checkpoint.pt"))
    assert ckpts, f"{chapter}: no checkpoint.pt under {out}"
    units = sorted(out.rglob("result.json"))
    assert units, f"{chapter}: no finished piece (result.json) under {out}"
    # a kill after the last checkpoint of a piece but before its result was kept: --resume must finish it
    units[-1].unlink()
    r2 = cli(chapter, "--scale", "ci", "--smoke", "--out_dir", out, "--resume")
    assert r2.returncode == 0, f"{chapter} --resume failed:\n{r2.stdout[-3000:]}\n{r2.stderr[-3000:]}"
    assert units[-1].is_file(), f"{chapter} --resume did not finish the interrupted piece {units[-1].parent}"


TYPOS = dict(dist=("exp1_seedz", "exp1_seeds"), lightvit=("n_trains", "n_train"), greenmim=("pre_step", "pre_steps"),
             jomold=("seedz", "seeds"), dense=("segmentr", "segmenter"), maskd=("dett", "det"), head=("studnt", "student"),
             gebd=("globb", "glob"), scalenet=("serch", "search"), stylegan_human=("pca_kk", "pca_k"), semm=("variant", "variants"))


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_unknown_override_is_a_clear_error(chapter):
    mod = importlib.import_module(f"visionbook.{chapter}")
    typo, meant = TYPOS[chapter]
    with pytest.raises(ConfigError) as e:
        mod.main("ci", smoke=True, **{typo: 3})
    assert f"unknown override '{typo}' (did you mean '{meant}'?)" in str(e.value) and "Valid keys:" in str(e.value)


def test_cli_reports_a_configuration_error_without_a_traceback():
    r = cli("jomold", "--scale", "ci", "--smoke", "--seedz", "3")
    assert r.returncode != 0, "the CLI accepted an unknown override"
    assert "unknown override 'seedz' (did you mean 'seeds'?)" in r.stderr and "Traceback" not in r.stderr, r.stderr[-2000:]


def test_data_option_is_not_ignored_at_ci(tmp_path):
    from visionbook.data import DataNotFoundError
    with pytest.raises(ValueError, match="`data` is the ImageNet folder"):
        importlib.import_module("visionbook.lightvit").main("ci", smoke=True, data=tmp_path, out_dir=tmp_path / "run")
    with pytest.raises(DataNotFoundError, match="no LLP at"):
        importlib.import_module("visionbook.jomold").main("ci", smoke=True, data=tmp_path, out_dir=tmp_path / "run")


def test_gpu_tier_says_which_data_is_missing(tmp_path):
    from visionbook.data import DataNotFoundError
    with pytest.raises(DataNotFoundError, match="not found") as e:
        importlib.import_module("visionbook.greenmim").main("gpu", smoke=True, data=tmp_path / "imagenet",
                                                            out_dir=tmp_path / "run")
    assert str(tmp_path / "imagenet") in str(e.value)


def test_unknown_chapter():
    from visionbook.cli import main
    with pytest.raises(SystemExit, match="no chapter module visionbook.no_such_chapter"):
        main(["no_such_chapter", "--scale", "ci"])
