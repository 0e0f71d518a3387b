"""(d) A 2-process torchrun (gloo, CPU) run matches a 1-process run on the same global batch."""
import subprocess
import sys

import torch
from safetensors.torch import load_file

from conftest import SCRIPT, child_env


def test_two_process_ddp_matches_one_process(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    args = ["--no-dropout", "--epochs", "2", "--ckpt-every", "0", "--batch", "32"]
    subprocess.run([sys.executable, str(SCRIPT), str(one), *args], env=child_env(), check=True, capture_output=True, timeout=300)
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                        str(SCRIPT), str(two), *args], env=child_env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("DONE") == 2                   # both ranks finished
    a, b = load_file(str(one / "final.safetensors")), load_file(str(two / "final.safetensors"))
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-6, msg=lambda m: f"{k}: {m}")
    # and the comparison can fail: a 1-process run with batches of 16 (one rank's share) ends elsewhere
    half = tmp_path / "half"
    subprocess.run([sys.executable, str(SCRIPT), str(half), *args[:-1], "16"], env=child_env(), check=True,
                   capture_output=True, timeout=300)
    c = load_file(str(half / "final.safetensors"))
    assert any(not torch.allclose(a[k], c[k], atol=1e-4) for k in a)
