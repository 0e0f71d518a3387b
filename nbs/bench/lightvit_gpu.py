#!/usr/bin/env python
"""GPU benchmark of the LightViT chapter (one GPU, one run).

Measures, in the same process:
  * inference throughput (images/s) at batch 256, 224x224, for visionbook LightViT-T/S/B and timm pvt_v2_b0,
    pvt_v2_b1, deit_tiny_patch16_224, swin_tiny_patch4_window7_224, in
      - fp32 with TF32 off (matmul and cuDNN),
      - bf16 autocast + channels_last,
      - bf16 autocast + channels_last + torch.compile;
  * training-step throughput and model-FLOP utilisation (MFU) of LightViT-T and -B at bf16 + channels_last
    (AdamW, synthetic data, eager and compiled);
  * a profile of one LightViT-T training step (CUDA kernel launches, GPU busy time vs wall time);
  * with --authors-repo PATH: the authors' LightViT-T (imported from a copy outside this repository, never
    committed) in the same modes, and the ratios the issue targets.

Run:  python nbs/bench/lightvit_gpu.py --out nbs/results/lightvit_gpu.json [--authors-repo /path/to/image_classification_sota]
CPU smoke test:  python nbs/bench/lightvit_gpu.py --dry-run --out /tmp/lightvit_gpu_dry.json
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

import timm  # noqa: E402

from visionbook.core import atomic_write_bytes, env_info  # noqa: E402
from visionbook.lightvit import LIGHTVIT_VARIANTS, load_authors_lightvit  # noqa: E402  (registers lightvit_*)
from visionbook.measure import count_macs  # noqa: E402

TIMM_BASELINES = ("pvt_v2_b0", "pvt_v2_b1", "deit_tiny_patch16_224", "swin_tiny_patch4_window7_224")
PEAK_BF16_TFLOPS = {"H100 SXM": 989.4, "H100 80GB HBM3": 989.4, "H100 PCIe": 756.0, "H100 NVL": 835.0, "H200": 989.4,
                    "A100": 312.0, "L40S": 362.0, "A10G": 70.0, "L4": 121.0, "RTX 4090": 165.2}


def peak_tflops(name: str, override: float | None) -> float | None:
    "Dense bf16 tensor-core peak of the GPU (TFLOP/s), by name; None if unknown."
    if override:
        return override
    for key, v in sorted(PEAK_BF16_TFLOPS.items(), key=lambda kv: -len(kv[0])):
        if all(part in name for part in key.split()):
            return v
    return None


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn, warmup: int, iters: int, device) -> float:
    "Seconds per call of fn() (synchronised before and after the timed loop)."
    for _ in range(warmup):
        fn()
    sync(device)
    t0 = time.perf_counter()
    for _ in range(iters):
        fn()
    sync(device)
    return (time.perf_counter() - t0) / iters


def build(name: str, authors=None, img: int = 224):
    if name == "authors_lightvit_tiny":
        return authors.lightvit_tiny()
    if name in LIGHTVIT_VARIANTS:
        return timm.create_model(name)
    return timm.create_model(name, pretrained=False, **({"img_size": img} if ("deit" in name or "swin" in name) else {}))


def inference(model, mode: str, batch: int, img: int, device, warmup: int, iters: int) -> dict:
    model = model.to(device).eval()
    x = torch.randn(batch, 3, img, img, device=device)
    if mode == "fp32":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        ctx = torch.autocast(device.type, enabled=False)
        fn_model = model
    else:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
        ctx = torch.autocast(device.type, dtype=torch.bfloat16)
        fn_model = torch.compile(model) if mode == "bf16_cl_compile" else model

    def step():
        with torch.no_grad(), ctx:
            return fn_model(x)

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    sec = timed(step, warmup, iters, device)
    mem = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else None
    return dict(mode=mode, batch=batch, img_per_s=batch / sec, ms_per_batch=sec * 1e3, peak_mem_gib=mem and mem / 2**30,
                tf32_matmul=torch.backends.cuda.matmul.allow_tf32, tf32_cudnn=torch.backends.cudnn.allow_tf32)


def training(model, batch: int, img: int, device, warmup: int, iters: int, compile: bool, peak: float | None) -> dict:
    model = model.to(device).train().to(memory_format=torch.channels_last)
    macs = count_macs(model, torch.randn(1, 3, img, img, device=device))        # forward MACs per image
    net = torch.compile(model) if compile else model
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.04, **({"fused": True} if device.type == "cuda" else {}))
    x = torch.randn(batch, 3, img, img, device=device).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 1000, (batch,), device=device)
    losses = []

    def step():
        with torch.autocast(device.type, dtype=torch.bfloat16):
            loss = torch.nn.functional.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        losses.append(loss.detach())

    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    sec = timed(step, warmup, iters, device)
    flops = 3 * 2 * macs * batch                                                   # fwd + bwd = 3x fwd, 2 FLOPs per MAC
    return dict(compile=compile, batch=batch, img_per_s=batch / sec, ms_per_step=sec * 1e3, fwd_gmacs_per_img=macs / 1e9,
                achieved_tflops=flops / sec / 1e12, mfu=(flops / sec / 1e12 / peak) if peak else None,
                loss_first=float(losses[0]), loss_last=float(losses[-1]))


def profile_step(model, batch: int, img: int, device) -> dict:
    "Kernel launches, GPU busy time and wall time of one bf16 training step (after warm-up)."
    from torch.profiler import ProfilerActivity, profile
    model = model.to(device).train().to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.randn(batch, 3, img, img, device=device).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 1000, (batch,), device=device)

    def step():
        with torch.autocast(device.type, dtype=torch.bfloat16):
            torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    for _ in range(3):
        step()
    sync(device)
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=acts) as prof:
        t0 = time.perf_counter()
        step()
        sync(device)
        wall = time.perf_counter() - t0
    events = prof.events()
    if device.type == "cuda":
        kernels = [e for e in events if getattr(e, "device_type", None) == torch.autograd.DeviceType.CUDA]
        gpu_ms = sum(e.device_time for e in kernels) / 1e3
        return dict(kernels=len(kernels), gpu_busy_ms=gpu_ms, wall_ms=wall * 1e3)
    return dict(aten_ops=sum(e.name.startswith("aten::") for e in events), wall_ms=wall * 1e3)  # CPU dry run


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "nbs/results/lightvit_gpu.json"))
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

    device = torch.device("cuda" if torch.cuda.is_available() and not a.dry_run else "cpu")
    if a.dry_run:
        a.batch, a.train_batch, a.warmup, a.iters, a.train_iters, a.no_compile = 2, 2, 0, 1, 2, True
        torch.set_num_threads(1)
    elif device.type != "cuda":
        sys.exit("no CUDA device: run with --dry-run for the CPU smoke test")
    torch.backends.cudnn.benchmark = True
    img = 224
    authors = load_authors_lightvit(a.authors_repo) if a.authors_repo else None
    gpu_name = torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu (dry run)"
    peak = peak_tflops(gpu_name, a.peak_tflops)

    names = list(LIGHTVIT_VARIANTS) + list(TIMM_BASELINES) + (["authors_lightvit_tiny"] if authors else [])
    modes = ["fp32", "bf16_cl"] + ([] if a.no_compile else ["bf16_cl_compile"])
    inf, train, errors = [], [], []
    for name in names:
        for mode in modes:
            try:
                torch.manual_seed(0)
                r = inference(build(name, authors, img), mode, a.batch, img, device, a.warmup, a.iters)
                inf.append(dict(model=name, **r))
                print(f"inference {name:32s} {mode:16s} {r['img_per_s']:10.1f} img/s", flush=True)
            except Exception as e:                                                # keep going; record the failure
                errors.append(dict(model=name, mode=mode, error=repr(e), trace=traceback.format_exc(limit=3)))
                print(f"inference {name} {mode} FAILED: {e!r}", flush=True)
            if device.type == "cuda":
                torch.cuda.empty_cache()
    for name in ["lightvit_tiny", "lightvit_base"] + (["authors_lightvit_tiny"] if authors else []):
        for comp in [False] + ([] if a.no_compile else [True]):
            try:
                torch.manual_seed(0)
                r = training(build(name, authors, img), a.train_batch, img, device, a.warmup // 4 + 1, a.train_iters, comp, peak)
                train.append(dict(model=name, **r))
                print(f"training  {name:32s} compile={comp!s:5s} {r['img_per_s']:10.1f} img/s  MFU {r['mfu']}", flush=True)
            except Exception as e:
                errors.append(dict(model=name, mode=f"train compile={comp}", error=repr(e)))
                print(f"training {name} FAILED: {e!r}", flush=True)
    prof = {}
    for name in ["lightvit_tiny", "pvt_v2_b0"] + (["authors_lightvit_tiny"] if authors else []):
        try:
            prof[name] = profile_step(build(name, authors, img), a.train_batch, img, device)
        except Exception as e:
            errors.append(dict(model=name, mode="profile", error=repr(e)))

    def ips(model, mode):
        return next((r["img_per_s"] for r in inf if r["model"] == model and r["mode"] == mode), None)

    def tps(model, comp=False):
        return next((r["img_per_s"] for r in train if r["model"] == model and r["compile"] == comp), None)

    def ratio(p, q):
        return p / q if p and q else None

    best = lambda m: max([v for v in (ips(m, k) for k in modes) if v] or [0]) or None  # noqa: E731
    summary = dict(
        ratio_lightvit_tiny_vs_pvt_v2_b0_fp32=ratio(ips("lightvit_tiny", "fp32"), ips("pvt_v2_b0", "fp32")),
        ratio_lightvit_tiny_vs_pvt_v2_b0_bf16_cl=ratio(ips("lightvit_tiny", "bf16_cl"), ips("pvt_v2_b0", "bf16_cl")),
        ratio_lightvit_tiny_best_vs_pvt_v2_b0_best=ratio(best("lightvit_tiny"), best("pvt_v2_b0")),
        ratio_inference_ours_vs_authors_bf16_cl=ratio(ips("lightvit_tiny", "bf16_cl"), ips("authors_lightvit_tiny", "bf16_cl")),
        ratio_inference_ours_best_vs_authors_bf16_cl=ratio(best("lightvit_tiny"), ips("authors_lightvit_tiny", "bf16_cl")),
        ratio_training_ours_best_vs_authors=ratio(max([v for v in (tps("lightvit_tiny"), tps("lightvit_tiny", True)) if v] or [0]) or None,
                                                  tps("authors_lightvit_tiny")),
        lightvit_base_training_mfu=max([r["mfu"] or 0 for r in train if r["model"] == "lightvit_base"] or [0]) or None,
        peak_bf16_tflops=peak, gpu=gpu_name, dry_run=a.dry_run,
    )
    targets = dict(inference_vs_authors=1.5, inference_vs_pvt_v2_b0=1.0, training_vs_authors=2.5, base_training_mfu=0.25)
    payload = dict(name=Path(a.out).stem, env=env_info(),
                   results=dict(inference=inf, training=train, profile=prof, summary=summary, targets=targets,
                                errors=errors, protocol=dict(batch=a.batch, train_batch=a.train_batch, warmup=a.warmup,
                                                             iters=a.iters, train_iters=a.train_iters, img=img,
                                                             cudnn_benchmark=True, synthetic_data=True),
                                **{k: v for k, v in summary.items() if k.startswith("ratio_")}))
    atomic_write_bytes(a.out, json.dumps(payload, indent=1, default=str).encode())
    print(json.dumps(summary, indent=1, default=str))
    print(f"wrote {a.out}")
    return payload


if __name__ == "__main__":
    main()
