import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tests" / "_train_script.py"


def child_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env["OMP_NUM_THREADS"] = "1"
    env["VISIONBOOK_PROGRESS"] = "0"
    env.pop("WORLD_SIZE", None)
    return env


@pytest.fixture
def train_script():
    def run(out, *args, check=True, timeout=300):
        r = subprocess.run([sys.executable, str(SCRIPT), str(out), *args], env=child_env(), capture_output=True,
                           text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"training script failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
        return r
    return run
