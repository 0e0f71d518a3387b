"""GPU benchmark of the MasKD chapter alone: `visionbook.maskd.gpu_benchmark` (what the MasKD term costs on
RetinaNet's five FPN levels against FitNet's MSE and the official form), written to nbs/results/maskd_gpu.json.
`python nbs/bench/run_all.py` runs it with the other chapters'.

    python nbs/bench/maskd_gpu.py [--batch 16 --iters 20 ...]
    python nbs/bench/maskd_gpu.py --dry-run --results-dir /tmp/bench   # tiny sizes on the CPU
"""
from __future__ import annotations

import argparse

from visionbook.measure import run_gpu_benchmarks


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results-dir", default=None, help="default: the results_dir setting (nbs/results)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--channels", type=int, default=256)
    ap.add_argument("--num-tokens", type=int, default=6)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--dry-run", action="store_true", help="tiny sizes on the CPU, to check the code path")
    a = vars(ap.parse_args(argv))
    dry_run, results_dir = a.pop("dry_run"), a.pop("results_dir")
    return run_gpu_benchmarks(["maskd"], dry_run=dry_run, results_dir=results_dir, options=dict(maskd=a))


if __name__ == "__main__":
    main()
