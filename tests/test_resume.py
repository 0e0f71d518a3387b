"""(a) SIGKILL at a random step, resume: final weights bit-identical to an uninterrupted run.
(b) SIGKILL in the middle of a checkpoint write: the previous checkpoint stays loadable, and resuming from it
    still ends bit-identical.
(c) A checkpoint holding a pickled callable is refused with a clear error."""
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from conftest import SCRIPT, child_env
from visionbook.learner import CheckpointError, load_checkpoint


def run_until(out, marker, nth, *args):
    "Start the training script and SIGKILL it right after its `nth` line starting with `marker`."
    p = subprocess.Popen([sys.executable, str(SCRIPT), str(out), *args], env=child_env(), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    seen = 0
    for line in p.stdout:
        if line.startswith(marker):
            seen += 1
            if seen == nth:
                p.send_signal(signal.SIGKILL)
                break
    p.wait(timeout=120)
    assert p.returncode == -signal.SIGKILL, f"the run ended before it was killed (rc={p.returncode})"


def same_weights(a, b):
    wa, wb = load_file(str(a)), load_file(str(b))
    assert wa.keys() == wb.keys()
    for k in wa:
        assert torch.equal(wa[k], wb[k]), f"{k} differs after resume"


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref")
    subprocess.run([sys.executable, str(SCRIPT), str(out)], env=child_env(), check=True, capture_output=True, timeout=300)
    return out / "final.safetensors"


@pytest.mark.parametrize("trial", range(2))
def test_kill_at_random_step_then_resume_is_bit_identical(tmp_path, reference, train_script, trial):
    k = random.Random().randint(2, 44)          # 3 epochs x 16 steps
    run_until(tmp_path, "STEP", k, "--step-sleep", "0.01")
    st = load_checkpoint(tmp_path / "checkpoint.pt")
    assert 1 <= st["step"] <= 48
    r = train_script(tmp_path, "--resume")
    assert "DONE" in r.stdout
    same_weights(reference, tmp_path / "final.safetensors")


def test_kill_during_checkpoint_write_keeps_previous(tmp_path, reference, train_script):
    run_until(tmp_path, "SAVING", 6, "--slow-save")
    st = load_checkpoint(tmp_path / "checkpoint.pt")       # loads: the torn write never replaced it
    assert st["step"] == 5
    leftovers = [p.name for p in tmp_path.iterdir() if ".tmp" in p.name]
    assert leftovers, "expected the interrupted write's temporary file to be left beside the checkpoint"
    train_script(tmp_path, "--resume")
    same_weights(reference, tmp_path / "final.safetensors")
    left = [p.name for p in tmp_path.iterdir() if ".tmp" in p.name]
    assert not left, f"the killed writer's temporary files were not cleaned up after the resume: {left}"


def test_pickled_callable_is_refused(tmp_path, train_script):
    train_script(tmp_path, "--epochs", "1")
    st = load_checkpoint(tmp_path / "checkpoint.pt")
    st["hook"] = print                                   # something that would run code when unpickled
    torch.save(st, tmp_path / "checkpoint.pt")
    with pytest.raises(CheckpointError, match="refused"):
        load_checkpoint(tmp_path / "checkpoint.pt")
    r = train_script(tmp_path, "--resume", "--epochs", "2", check=False)
    assert r.returncode != 0 and "refused" in r.stderr and "weights_only" in r.stderr
