"""Run every chapter's GPU benchmark in one process and write nbs/results/<chapter>_gpu.json for each.

A chapter takes part when its module exports `gpu_benchmark` (see `visionbook.measure.run_gpu_benchmarks`).
Each file holds the GPU name, date, library versions and git commit (`visionbook.core.env_info`).

    python nbs/bench/run_all.py                                    # all chapters, on a GPU
    python nbs/bench/run_all.py --only dist,greenmim
    python nbs/bench/run_all.py --authors-repo lightvit=/path/to/image_classification_sota \\
                                --authors-repo greenmim=/path/to/GreenMIM   # authors' code, kept outside this repo
    python nbs/bench/run_all.py --dry-run --results-dir /tmp/bench # tiny sizes on the CPU: checks the code paths

Needs visionbook importable (installed, or PYTHONPATH=src).
"""
from __future__ import annotations

import argparse

from visionbook.measure import gpu_benchmark_chapters, run_gpu_benchmarks


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default=None, help=f"comma-separated chapters (default: all of {', '.join(gpu_benchmark_chapters())})")
    ap.add_argument("--dry-run", action="store_true", help="tiny sizes on the CPU; writes under <output_dir>/bench_dry_run unless --results-dir")
    ap.add_argument("--results-dir", default=None, help="where the JSON files go (default: the results_dir setting, nbs/results)")
    ap.add_argument("--authors-repo", action="append", default=[], metavar="CHAPTER=PATH",
                    help="a local copy of the authors' code for CHAPTER's comparison (repeatable)")
    a = ap.parse_args(argv)
    options = {}
    for item in a.authors_repo:
        chapter, sep, path = item.partition("=")
        if not sep or not path:
            ap.error(f"--authors-repo takes CHAPTER=PATH, got {item!r}")
        options[chapter] = dict(authors_repo=path)
    chapters = a.only.split(",") if a.only else None
    return run_gpu_benchmarks(chapters, dry_run=a.dry_run, results_dir=a.results_dir, options=options)


if __name__ == "__main__":
    main()
