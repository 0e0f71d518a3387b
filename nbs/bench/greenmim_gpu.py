"""GPU benchmark of the GreenMIM chapter (visionbook.greenmim).

One process, one GPU. For every setting: the pre-training step (forward, backward, AdamW (0.9, 0.95) step)
timed with CUDA events, median of `--steps` (>= 15) steps after `--warmup` steps, and
`torch.cuda.max_memory_allocated` after a reset. Settings:

- GreenMIM Swin-B w7 at 224, mask 0.75 (this book's implementation; a fresh mask and plan every step,
  built on the host inside the timed step; the host time to build and ship the plan is reported per
  step), and the same with plans built ahead of time (`greenmim_prefetched`, what planning in the
  data-loader workers would give);
- SimMIM-style dense Swin-B w7 at 224, mask 0.6 and 0.75; dense Swin-B w6 at 192, mask 0.6 (SimMIM's
  native setting);
- optionally (`--authors-repo PATH`, a local copy of github LayneH/GreenMIM kept OUTSIDE this repository,
  CC-BY-NC-4.0, never committed) the authors' `green_mim_swin_base_patch4_dec512b1` at mask 0.75;

each in bf16 autocast and in fp16 autocast with a GradScaler, batch `--batch` (128). Also the number of
host synchronisations inside a GreenMIM forward+backward (torch.cuda sync debug mode).

    python nbs/bench/greenmim_gpu.py --out nbs/results/greenmim_gpu.json [--authors-repo ../GreenMIM]
    python nbs/bench/greenmim_gpu.py --dry-run --out /tmp/greenmim_gpu_dry.json   # CPU, tiny sizes
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import statistics
import sys
import time
import types
import warnings
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[2] / "src"))          # the checkout's package, if not installed

import torch  # noqa: E402

from visionbook.core import atomic_write_bytes, env_info  # noqa: E402
from visionbook.greenmim import SimMIMSwin, _greenmim, random_unit_mask  # noqa: E402

SWIN_B = dict(embed_dim=128, depths=(2, 2, 18, 2), num_heads=(4, 8, 16, 32))
TINY = dict(embed_dim=16, depths=(1, 1, 1, 1), num_heads=(1, 1, 1, 1))


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def load_authors_model(repo: Path):
    "The authors' GreenMIM Swin-B from a local copy (spconv stubbed, np.float aliased, loaded as a package)."
    import numpy as np
    if not hasattr(np, "float"):
        np.float = float  # their util/pos_embed.py uses the removed alias
    for name in ("spconv", "spconv.pytorch"):
        sys.modules.setdefault(name, types.ModuleType(name))
    sys.path.insert(0, str(repo))
    mf = importlib.import_module("modeling.model_factory")
    return mf.get_pretrain_model("green_mim_swin_base_patch4_dec512b1") if hasattr(mf, "get_pretrain_model") \
        else getattr(mf, "green_mim_swin_base_patch4_dec512b1")()


def make_setting(kind: str, arch: dict, img: int, window: int, ratio: float, device, authors_repo=None):
    "(model, step_inputs_fn) for one setting; step_inputs_fn() -> (loss_fn, plan_ms)."
    if kind == "greenmim":
        model = _greenmim("base", window, img_size=img, mask_ratio=ratio, **arch).to(device)

        def make_loss(x):
            t0 = time.perf_counter()
            plan = model.encoder.make_plan(model.sample_mask()).to(device)      # host work, no device sync
            ms = (time.perf_counter() - t0) * 1e3
            return (lambda: model(x, plan=plan)[0]), ms, plan
    elif kind == "greenmim_prefetched":       # plans built ahead (as a data-loader worker would), already on the device
        model = _greenmim("base", window, img_size=img, mask_ratio=ratio, **arch).to(device)
        pool = [model.encoder.make_plan(model.sample_mask()).to(device) for _ in range(64)]
        it = iter(range(10**9))

        def make_loss(x):
            plan = pool[next(it) % len(pool)]
            return (lambda: model(x, plan=plan)[0]), 0.0, plan
    elif kind == "dense":
        model = SimMIMSwin(img, window, in_chans=3, **arch).to(device)
        units = model.units ** 2

        def make_loss(x):
            mask = random_unit_mask(units, ratio)
            return (lambda: model(x, mask)[0]), 0.0, None
    elif kind == "authors":
        model = load_authors_model(Path(authors_repo)).to(device)

        def make_loss(x):
            return (lambda: model(x, mask_ratio=ratio)[0]), 0.0, None
    else:
        raise ValueError(kind)
    return model, make_loss


def bench_one(kind, arch, img, window, ratio, precision, batch, warmup, steps, device, authors_repo=None):
    torch.manual_seed(0)
    model, make_loss = make_setting(kind, arch, img, window, ratio, device, authors_repo)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4, betas=(0.9, 0.95),
                            weight_decay=0.05, **(dict(fused=True) if device.type == "cuda" else {}))
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": None}[precision]
    scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")
    x = torch.randn(batch, 3, img, img, device=device)
    plan_ms, times, pads = [], [], []

    def step():
        loss_fn, ms, plan = make_loss(x)
        plan_ms.append(ms)
        if plan is not None:
            pads.append(sum(w.padding_ratio * w.slots for ws in plan.windows for w in ws) /
                        sum(w.slots for ws in plan.windows for w in ws))
        ctx = torch.autocast(device.type, dtype=dtype) if dtype is not None else contextlib.nullcontext()
        with ctx:
            loss = loss_fn()
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        opt.zero_grad(set_to_none=True)

    for _ in range(warmup):
        step()
    sync(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    wall0 = time.perf_counter()
    for _ in range(steps):
        if device.type == "cuda":
            a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            a.record(); step(); b.record()
            torch.cuda.synchronize(device)
            times.append(a.elapsed_time(b))
        else:
            t0 = time.perf_counter(); step(); times.append((time.perf_counter() - t0) * 1e3)
    wall = (time.perf_counter() - wall0) * 1e3 / steps
    mem = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else None
    syncs = None
    if kind.startswith("greenmim") and device.type == "cuda":   # host syncs inside forward + backward
        loss_fn, _, _ = make_loss(x)
        sync(device)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            torch.cuda.set_sync_debug_mode("warn")
            try:
                with torch.autocast("cuda", dtype=dtype):
                    loss = loss_fn()
                loss.backward()
            finally:
                torch.cuda.set_sync_debug_mode("default")
        syncs = sum("synchroniz" in str(m.message).lower() for m in w)
        opt.zero_grad(set_to_none=True)
    del model, opt
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return dict(model=kind, img=img, window=window, mask_ratio=ratio, precision=precision, batch=batch,
                step_ms_median=statistics.median(times), step_ms_min=min(times), wall_ms_per_step=wall,
                steps=steps, max_memory_allocated_gb=None if mem is None else mem / 2**30,
                plan_ms_per_step=statistics.median(plan_ms) if plan_ms else None,
                pad_fraction=statistics.mean(pads) if pads else None, host_syncs_fwd_bwd=syncs)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="nbs/results/greenmim_gpu.json")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--precisions", default="bf16,fp16")
    ap.add_argument("--authors-repo", default=None, help="local copy of LayneH/GreenMIM outside this repository")
    ap.add_argument("--dry-run", action="store_true", help="CPU, tiny model, 64 px, batch 2, 2 steps: checks the script runs")
    a = ap.parse_args(argv)
    if a.dry_run:
        device, arch, batch, warmup, steps, precisions = torch.device("cpu"), TINY, 2, 1, 2, ["fp32", "bf16", "fp16"]
        grid = [("greenmim", 64, 4, 0.75), ("greenmim_prefetched", 64, 4, 0.75), ("dense", 64, 4, 0.6),
                ("dense", 64, 4, 0.75), ("dense", 64, 2, 0.6)]
    else:
        if not torch.cuda.is_available():
            raise SystemExit("no CUDA device: run with --dry-run to check the script on a CPU.")
        if a.steps < 15:
            raise SystemExit("--steps must be >= 15 (median of at least 15 steps after warm-up).")
        device, arch, batch, warmup, steps = torch.device("cuda"), SWIN_B, a.batch, a.warmup, a.steps
        precisions = a.precisions.split(",")
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        grid = [("greenmim", 224, 7, 0.75), ("greenmim_prefetched", 224, 7, 0.75), ("dense", 224, 7, 0.6),
                ("dense", 224, 7, 0.75), ("dense", 192, 6, 0.6)]
        if a.authors_repo:
            grid.append(("authors", 224, 7, 0.75))
    rows = []
    for prec in precisions:
        for kind, img, win, ratio in grid:
            try:
                r = bench_one(kind, arch, img, win, ratio, prec, batch, warmup, steps, device, a.authors_repo)
            except Exception as e:  # record and go on (e.g. OOM of a dense setting, authors' import failure)
                r = dict(model=kind, img=img, window=win, mask_ratio=ratio, precision=prec, batch=batch, error=repr(e)[:500])
                if device.type == "cuda":
                    torch.cuda.empty_cache()
            rows.append(r)
            print(json.dumps(r), flush=True)
    summary = {}
    for prec in precisions:
        g = next((r for r in rows if r["model"] == "greenmim" and r["precision"] == prec and "error" not in r), None)
        d = next((r for r in rows if r["model"] == "dense" and r["img"] == (64 if a.dry_run else 224) and r["mask_ratio"] == 0.6
                  and r["precision"] == prec and "error" not in r), None)
        au = next((r for r in rows if r["model"] == "authors" and r["precision"] == prec and "error" not in r), None)
        if g and d:
            summary[f"speedup_{prec}"] = d["step_ms_median"] / g["step_ms_median"]
            if g["max_memory_allocated_gb"]:
                summary[f"memory_reduction_{prec}"] = 1 - g["max_memory_allocated_gb"] / d["max_memory_allocated_gb"]
            summary[f"plan_share_{prec}"] = g["plan_ms_per_step"] / g["step_ms_median"]
        gp = next((r for r in rows if r["model"] == "greenmim_prefetched" and r["precision"] == prec and "error" not in r), None)
        if gp and d:
            summary[f"speedup_prefetched_{prec}"] = d["step_ms_median"] / gp["step_ms_median"]
        if g and au:
            summary[f"speedup_vs_authors_{prec}"] = au["step_ms_median"] / g["step_ms_median"]
    payload = dict(name="greenmim_gpu", env=env_info(), results=dict(rows=rows, summary=summary, dry_run=a.dry_run,
                                                                      args=vars(a)))
    atomic_write_bytes(a.out, json.dumps(payload, indent=1, default=str).encode())
    print(f"wrote {a.out}: {json.dumps(summary)}")
    return payload


if __name__ == "__main__":
    main()
