"""GPU benchmark of the SEMM chapter alone: `visionbook.semm.gpu_benchmark` (a training step of the gpu tier's
networks at 128 x 128 with the paper's objective, fp32 and bf16, and an encode + decode of the official 256 x 256
networks), written to nbs/results/semm_gpu.json.
`python nbs/bench/run_all.py` runs it with the other chapters'.

    python nbs/bench/semm_gpu.py [--batch 32 --iters 20 ...]
    python nbs/bench/semm_gpu.py --dry-run --results-dir /tmp/bench   # tiny sizes on the CPU
"""
from __future__ import annotations

import argparse

from visionbook.measure import run_gpu_benchmarks


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results-dir", default=None, help="default: the results_dir setting (nbs/results)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--dry-run", action="store_true", help="tiny sizes on the CPU, to check the code path")
    a = vars(ap.parse_args(argv))
    dry_run, results_dir = a.pop("dry_run"), a.pop("results_dir")
    return run_gpu_benchmarks(["semm"], dry_run=dry_run, results_dir=results_dir, options=dict(semm=a))


if __name__ == "__main__":
    main()
