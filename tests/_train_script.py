"""A small training run used by the resume/kill/DDP tests (run as a subprocess or under torchrun).

    python tests/_train_script.py OUT_DIR [--resume] [--epochs N] [--slow-save] [--step-sleep S]

Prints `STEP <n>` after every optimiser step and `SAVING <n>` when a checkpoint write begins, so a parent
process can SIGKILL it at a chosen moment. At the end writes OUT_DIR/final.safetensors.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import torch
import torch.nn as nn


from visionbook.data import TensorLoader
from visionbook.learner import Callback, Checkpoint, ClassificationTask, Learner, Metrics, cosine, save_weights, sgd


def data(n=512):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 8, generator=g)
    y = (x[:, :4].sum(1) > 0).long() + 2 * (x[:, 4:].sum(1) > 0).long()
    return x, y


class Announce(Callback):
    def __init__(self, sleep):
        self.sleep = sleep

    def after_step(self, learn):
        print(f"STEP {learn.step}", flush=True)
        if self.sleep:
            time.sleep(self.sleep)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--resume", action="store_true")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--ckpt-every", type=int, default=1)
    p.add_argument("--slow-save", action="store_true")
    p.add_argument("--step-sleep", type=float, default=0.0)
    p.add_argument("--no-dropout", action="store_true")
    a = p.parse_args()
    if a.slow_save:
        # stall every checkpoint write after its temporary file is written and before the rename, so that a
        # SIGKILL lands in the middle of the save
        real_fsync = os.fsync

        def slow_fsync(fd):
            print("SAVING", flush=True)
            time.sleep(2.0)
            real_fsync(fd)

        os.fsync = slow_fsync
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Dropout(0.0 if a.no_dropout else 0.2), nn.Linear(32, 4))
    x, y = data()
    learn = Learner(ClassificationTask(net), TensorLoader((x, y), a.batch, seed=3), None,
                    sgd(lr=0.05, weight_decay=0.05), cosine(warmup=4),
                    [Announce(a.step_sleep), Metrics(every=2), Checkpoint(every=a.ckpt_every or None)],
                    out_dir=a.out, seed=0)
    learn.fit(a.epochs, resume=a.resume)
    if learn.rank == 0:
        save_weights(learn.task, os.path.join(a.out, "final.safetensors"))
    print("DONE", flush=True)
    if learn.world > 1:
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main())
