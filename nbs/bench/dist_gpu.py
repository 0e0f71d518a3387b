"""GPU benchmark of the DIST chapter alone: `visionbook.dist.gpu_benchmark` (what distillation costs per training
step), written to nbs/results/dist_gpu.json. `python nbs/bench/run_all.py` runs it with the other chapters'.

    python nbs/bench/dist_gpu.py [--batch 256 --iters 20 ...]
    python nbs/bench/dist_gpu.py --dry-run --results-dir /tmp/bench   # tiny sizes on the CPU
"""
from __future__ import annotations

import argparse

from visionbook.measure import run_gpu_benchmarks


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results-dir", default=None, help="default: the results_dir setting (nbs/results)")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--classes", type=int, default=1000)
    ap.add_argument("--teacher", default="resnet50")
    ap.add_argument("--student", default="resnet18")
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--dry-run", action="store_true", help="tiny sizes on the CPU, to check the code path")
    a = vars(ap.parse_args(argv))
    dry_run, results_dir = a.pop("dry_run"), a.pop("results_dir")
    return run_gpu_benchmarks(["dist"], dry_run=dry_run, results_dir=results_dir, options=dict(dist=a))


if __name__ == "__main__":
    main()
