"""GPU benchmark of the HEAD chapter alone: `visionbook.head.gpu_benchmark` (what the assistant and the teacher add to
a RetinaNet-R18 training step), written to nbs/results/head_gpu.json. `python nbs/bench/run_all.py` runs it with the
other chapters'.

    python nbs/bench/head_gpu.py [--batch 16 --img 800 ...]
    python nbs/bench/head_gpu.py --dry-run --results-dir /tmp/bench   # tiny sizes on the CPU
"""
from __future__ import annotations

import argparse

from visionbook.measure import run_gpu_benchmarks


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results-dir", default=None, help="default: the results_dir setting (nbs/results)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--img", type=int, default=800)
    ap.add_argument("--classes", type=int, default=80)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--dry-run", action="store_true", help="tiny sizes on the CPU, to check the code path")
    a = vars(ap.parse_args(argv))
    dry_run, results_dir = a.pop("dry_run"), a.pop("results_dir")
    return run_gpu_benchmarks(["head"], dry_run=dry_run, results_dir=results_dir, options=dict(head=a))


if __name__ == "__main__":
    main()
