"""GPU benchmark of the GreenMIM chapter alone: `visionbook.greenmim.gpu_benchmark` (pre-training step time and
memory of GreenMIM Swin-B against dense Swin-B; with --authors-repo the authors' model, from a local copy of
LayneH/GreenMIM kept OUTSIDE this repository, CC-BY-NC-4.0, never committed), written to
nbs/results/greenmim_gpu.json. `python nbs/bench/run_all.py` runs it with the other chapters'.

    python nbs/bench/greenmim_gpu.py [--authors-repo ../GreenMIM]
    python nbs/bench/greenmim_gpu.py --dry-run --results-dir /tmp/bench   # CPU, tiny sizes
"""
from __future__ import annotations

import argparse

from visionbook.measure import run_gpu_benchmarks


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results-dir", default=None, help="default: the results_dir setting (nbs/results)")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--precisions", default="bf16,fp16")
    ap.add_argument("--authors-repo", default=None, help="local copy of LayneH/GreenMIM outside this repository")
    ap.add_argument("--dry-run", action="store_true", help="CPU, tiny model, 64 px, batch 2, 2 steps: checks the code path")
    a = ap.parse_args(argv)
    opts = dict(authors_repo=a.authors_repo, batch=a.batch, warmup=a.warmup, steps=a.steps,
                precisions=a.precisions.split(","))
    return run_gpu_benchmarks(["greenmim"], dry_run=a.dry_run, results_dir=a.results_dir, options=dict(greenmim=opts))


if __name__ == "__main__":
    main()
