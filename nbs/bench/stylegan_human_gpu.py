"""GPU benchmark of the StyleGAN-Human chapter alone: `visionbook.stylegan_human.gpu_benchmark` (a GAN training
step at the gpu tier's 64 x 32, fp32 and bf16, and a forward of the released 1024 x 512 generator), written to
nbs/results/stylegan_human_gpu.json.
`python nbs/bench/run_all.py` runs it with the other chapters'.

    python nbs/bench/stylegan_human_gpu.py [--batch 64 --iters 20 ...]
    python nbs/bench/stylegan_human_gpu.py --dry-run --results-dir /tmp/bench   # tiny sizes on the CPU
"""
from __future__ import annotations

import argparse

from visionbook.measure import run_gpu_benchmarks


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results-dir", default=None, help="default: the results_dir setting (nbs/results)")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--dry-run", action="store_true", help="tiny sizes on the CPU, to check the code path")
    a = vars(ap.parse_args(argv))
    dry_run, results_dir = a.pop("dry_run"), a.pop("results_dir")
    return run_gpu_benchmarks(["stylegan_human"], dry_run=dry_run, results_dir=results_dir, options=dict(stylegan_human=a))


if __name__ == "__main__":
    main()
