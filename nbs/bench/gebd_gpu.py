"""GPU benchmark of the GEBD chapter alone: `visionbook.gebd.gpu_benchmark` (training steps per second of the local model
and the global decoder, fp32 and bf16), written to nbs/results/gebd_gpu.json. `python nbs/bench/run_all.py` runs it with the
other chapters'.

    python nbs/bench/gebd_gpu.py [--batch-local 512 --dim 2048 ...]
    python nbs/bench/gebd_gpu.py --dry-run --results-dir /tmp/bench   # tiny sizes on the CPU
"""
from __future__ import annotations

import argparse

from visionbook.measure import run_gpu_benchmarks


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results-dir", default=None, help="default: the results_dir setting (nbs/results)")
    ap.add_argument("--batch-local", type=int, default=512)
    ap.add_argument("--batch-global", type=int, default=64)
    ap.add_argument("--dim", type=int, default=2048)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--dry-run", action="store_true", help="tiny sizes on the CPU, to check the code path")
    a = vars(ap.parse_args(argv))
    dry_run, results_dir = a.pop("dry_run"), a.pop("results_dir")
    return run_gpu_benchmarks(["gebd"], dry_run=dry_run, results_dir=results_dir, options=dict(gebd=a))


if __name__ == "__main__":
    main()
