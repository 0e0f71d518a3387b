"""GPU benchmark of the DIST chapter: the cost of a distillation training step vs plain training.

ResNet-50 teacher (frozen, eval, no_grad), ResNet-18 student, batch 256, bf16 autocast, channels_last, SGD.
Measures the median step time of
  - plain:        student forward + CE + backward + SGD step
  - distill:      + teacher forward (no_grad) + CE + 2 * DIST(tau=1)
  - cached:       distillation from cached teacher logits (no teacher forward)
  - kd_cached:    KD (T=4) from cached logits, for comparison
  - loss_only:    DIST forward + backward on (256, 1000) logits alone (the loss's share of the step)
and writes JSON with the GPU name, date and versions.

    python nbs/bench/dist_gpu.py --out nbs/results/dist_gpu.json
    python nbs/bench/dist_gpu.py --dry-run            # tiny sizes on CPU, to check the script runs
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))                   # the checkout's package, if it is not installed


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="nbs/results/dist_gpu.json")
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--classes", type=int, default=1000)
    p.add_argument("--teacher", default="resnet50")
    p.add_argument("--student", default="resnet18")
    p.add_argument("--iters", type=int, default=20)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--dry-run", action="store_true", help="tiny sizes on whatever device there is; writes to --out only if given explicitly")
    a = p.parse_args(argv)
    if a.dry_run:
        a.batch, a.size, a.classes, a.iters, a.warmup = 4, 32, 10, 2, 1

    import timm
    from visionbook.core import env_info, get_device
    from visionbook.dist import DISTLoss, DistillationTask, KDLoss
    from visionbook.learner import Learner, freeze
    from visionbook.measure import time_fn

    dev = get_device()
    cuda = dev.type == "cuda"
    torch.backends.cudnn.benchmark = True
    amp = torch.autocast(dev.type, dtype=torch.bfloat16, enabled=cuda)
    cl = torch.channels_last if cuda else torch.contiguous_format
    teacher = freeze(timm.create_model(a.teacher, pretrained=False, num_classes=a.classes)).to(dev, memory_format=cl)
    student = timm.create_model(a.student, pretrained=False, num_classes=a.classes).to(dev, memory_format=cl)
    opt = torch.optim.SGD(student.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    x = torch.randn(a.batch, 3, a.size, a.size, device=dev).contiguous(memory_format=cl)
    y = torch.randint(0, a.classes, (a.batch,), device=dev)
    with torch.no_grad(), amp:
        zt = teacher(x).float()
    tasks = dict(distill=DistillationTask(student, teacher, DISTLoss(tau=1.0), 1.0, 2.0),
                 cached=DistillationTask(student, None, DISTLoss(tau=1.0), 1.0, 2.0),
                 kd_cached=DistillationTask(student, None, KDLoss(4.0), 0.9, 1.0))

    def step(fn):
        def run():
            with amp:
                loss = fn()
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
        return run

    cases = dict(
        plain=step(lambda: F.cross_entropy(student(x), y)),
        distill=step(lambda: tasks["distill"].training_step((x, y))["loss"]),
        cached=step(lambda: tasks["cached"].training_step((x, y, zt))["loss"]),
        kd_cached=step(lambda: tasks["kd_cached"].training_step((x, y, zt))["loss"]),
    )
    zs = torch.randn(a.batch, a.classes, device=dev, requires_grad=True)
    loss_fn = DISTLoss(tau=1.0)

    def loss_only():
        with amp:
            l = loss_fn(zs.bfloat16() if cuda else zs, zt)
        l.backward()
    cases["loss_only"] = loss_only

    student.train()
    res = {k: time_fn(f, warmup=a.warmup, iters=a.iters) for k, f in cases.items()}
    t = {k: v["median_ms"] for k, v in res.items()}
    summary = dict(distill_over_plain=t["distill"] / t["plain"], cached_over_plain=t["cached"] / t["plain"],
                   loss_share_of_distill_step=t["loss_only"] / t["distill"],
                   teacher_forward_ms_est=t["distill"] - t["cached"])
    out = dict(bench="dist_gpu", dry_run=a.dry_run, config=vars(a), timings=res, summary=summary, env=env_info(),
               images_per_s={k: a.batch / (v / 1000) for k, v in t.items() if k != "loss_only"})
    print(json.dumps(dict(timings_median_ms=t, summary=summary), indent=1))
    if not a.dry_run or "--out" in (argv or sys.argv[1:]):
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(json.dumps(out, indent=1, default=str))
        print("wrote", a.out)
    return out


if __name__ == "__main__":
    main()
