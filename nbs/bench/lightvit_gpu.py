"""GPU benchmark of the LightViT chapter alone: `visionbook.lightvit.gpu_benchmark` (inference and training
throughput, MFU, a profiled step; with --authors-repo the authors' LightViT-T), written to
nbs/results/lightvit_gpu.json. `python nbs/bench/run_all.py` runs it with the other chapters'.

    python nbs/bench/lightvit_gpu.py [--authors-repo /path/to/image_classification_sota]
    python nbs/bench/lightvit_gpu.py --dry-run --results-dir /tmp/bench   # CPU smoke test, batch 2, no compile
"""
from __future__ import annotations

import argparse

from visionbook.measure import run_gpu_benchmarks


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results-dir", default=None, help="default: the results_dir setting (nbs/results)")
    ap.add_argument("--authors-repo", default=None, help="local copy of hunto/image_classification_sota (outside this repo)")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--train-batch", type=int, default=256)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--iters", type=int, default=50)
    ap.add_argument("--train-iters", type=int, default=20)
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--peak-tflops", type=float, default=None, help="dense bf16 peak for MFU if the GPU is not in the table")
    ap.add_argument("--dry-run", action="store_true", help="CPU smoke test: tiny batch, one iteration, no compile")
    a = ap.parse_args(argv)
    opts = dict(authors_repo=a.authors_repo, batch=a.batch, train_batch=a.train_batch, warmup=a.warmup, iters=a.iters,
                train_iters=a.train_iters, compile=not a.no_compile, peak_tflops_override=a.peak_tflops)
    return run_gpu_benchmarks(["lightvit"], dry_run=a.dry_run, results_dir=a.results_dir, options=dict(lightvit=opts))


if __name__ == "__main__":
    main()
