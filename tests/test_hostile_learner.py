"""Hostile inputs to the Learner, its callbacks and checkpoints: each gets a clear error naming what was expected, or
the correct result. Also the reproducers of the reliability issue: NaN gradients must not overwrite a good
checkpoint, a callback holding NumPy values must not make a checkpoint unloadable, killed saves leave no litter
after a resume, a fresh `fit(resume=True)` honours the seed, KeepBest resumes to the right epoch, a torn last line
of metrics.csv does not stop a resume."""
import math
import os
import warnings

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from visionbook.data import TensorLoader
from visionbook.learner import (EMA, CheckpointError, Checkpoint, ClassificationTask, GradAccum, GradClip, Learner,
                                Metrics, NonFiniteError, Precision, StopAt, Callback, adam, adamw, cosine, constant,
                                linear, load_checkpoint, load_weights, save_checkpoint, save_weights, sgd, step_decay)

g = torch.Generator().manual_seed(0)
X = torch.randn(64, 2, generator=g)
Y = (X[:, 0] > 0).long()


def loader(n=64, bs=16, **kw):
    return TensorLoader((X[:n], Y[:n]), bs, **kw)


def task():
    torch.manual_seed(0)
    return ClassificationTask(nn.Linear(2, 2))


class Step(ClassificationTask):
    "A task whose loss misbehaves at optimiser step `at`."

    def __init__(self, how, at=2):
        super().__init__(nn.Linear(2, 2))
        self.how, self.at = how, at

    def training_step(self, batch, progress, opt="main"):
        out = super().training_step(batch, progress, opt)
        if progress.step == self.at:
            w = self.model.weight
            out["loss"] = {"nan-grad": lambda l: l + (w.sum() * 0).sqrt(), "nan": lambda l: l * math.nan,
                           "inf": lambda l: l * math.inf, "huge": lambda l: l * 1e39}[self.how](out["loss"])
        return out


# ---- constructor and fit arguments: (name, callable, exception, message fragment) -------------------------------
BAD = [
    ("task is a module", lambda d: Learner(nn.Linear(2, 2), loader()), TypeError, "visionbook.learner.Task"),
    ("task is None", lambda d: Learner(None, loader()), TypeError, "Task"),
    ("train is a DataLoader", lambda d: Learner(task(), torch.utils.data.DataLoader(list(range(4)))), TypeError, "set_epoch"),
    ("train is a list", lambda d: Learner(task(), [(X, Y)]), TypeError, "resumable loader"),
    ("valid is a tensor", lambda d: Learner(task(), loader(), X), TypeError, "valid must be a resumable loader"),
    ("opt is a string", lambda d: Learner(task(), loader(), None, "adamw"), TypeError, "optimiser factory"),
    ("sched is a string", lambda d: Learner(task(), loader(), None, adamw(), "cosine"), TypeError, "schedule"),
    ("cbs holds a class", lambda d: Learner(task(), loader(), cbs=[EMA]), TypeError, "Callback instances"),
    ("cbs holds a function", lambda d: Learner(task(), loader(), cbs=[print]), TypeError, "Callback instances"),
    ("epochs 0", lambda d: Learner(task(), loader()).fit(0), ValueError, "epochs must be an int >= 1"),
    ("epochs negative", lambda d: Learner(task(), loader()).fit(-2), ValueError, "epochs must be an int >= 1"),
    ("epochs float", lambda d: Learner(task(), loader()).fit(1.5), ValueError, "epochs must be an int >= 1"),
    ("epochs bool", lambda d: Learner(task(), loader()).fit(True), ValueError, "epochs must be an int >= 1"),
    ("valid_every 0", lambda d: Learner(task(), loader(), loader()).fit(1, valid_every=0), ValueError, "valid_every must be"),
    ("no train loader", lambda d: Learner(task(), None).fit(1), ValueError, "needs a train loader"),
    ("loader with no batches", lambda d: Learner(task(), loader(8, 16)).fit(1), ValueError, "no batches"),
    ("resume without out_dir", lambda d: Learner(task(), loader()).fit(1, resume=True), ValueError, "needs out_dir"),
    ("evaluate without loader", lambda d: Learner(task(), loader()).evaluate(), ValueError, "needs a loader"),
    ("adamw lr 0", lambda d: adamw(lr=0), ValueError, "lr must be a positive"),
    ("adamw lr inf", lambda d: adamw(lr=math.inf), ValueError, "lr must be a positive"),
    ("sgd lr string", lambda d: sgd(lr="0.1"), ValueError, "lr must be a positive"),
    ("adam negative decay", lambda d: adam(weight_decay=-1), ValueError, "weight_decay must be"),
    ("factory on bare params", lambda d: adamw()(nn.Linear(2, 2).parameters()), TypeError, "(name, parameter) pairs"),
    ("factory on frozen params", lambda d: adamw()(nn.Linear(2, 2).requires_grad_(False).named_parameters()), ValueError, "no trainable"),
    ("cosine min_factor 2", lambda d: cosine(min_factor=2.0), ValueError, "LR multipliers in [0, 1]"),
    ("linear negative warmup", lambda d: linear(warmup=-1), ValueError, "warm-up must be >= 0"),
    ("constant warmup_start 3", lambda d: constant(warmup_start=3.0), ValueError, "LR multipliers"),
    ("Metrics every 0", lambda d: Metrics(every=0), ValueError, "Metrics(every) must be"),
    ("Metrics every float", lambda d: Metrics(every=2.5), ValueError, "Metrics(every) must be"),
    ("Checkpoint every 0", lambda d: Checkpoint(every=0), ValueError, "Checkpoint(every)"),
    ("StopAt 0", lambda d: StopAt(0), ValueError, "StopAt(step)"),
    ("GradAccum 0", lambda d: GradAccum(0), ValueError, "GradAccum(n)"),
    ("GradClip 0", lambda d: GradClip(0), ValueError, "max_norm must be a positive"),
    ("GradClip negative", lambda d: GradClip(-1.0), ValueError, "max_norm must be a positive"),
    ("Precision fp8", lambda d: Precision("fp8"), ValueError, "Precision mode must be one of"),
    ("Precision None", lambda d: Precision(None), ValueError, "Precision mode must be one of"),
    ("EMA decay 1", lambda d: EMA(nn.Linear(1, 1), decay=1.0), ValueError, "EMA decay must be in [0, 1)"),
    ("EMA decay negative", lambda d: EMA(nn.Linear(1, 1), decay=-0.1), ValueError, "EMA decay"),
]


@pytest.mark.parametrize("name,fn,exc,msg", BAD, ids=[b[0] for b in BAD])
def test_bad_argument_is_refused_clearly(tmp_path, name, fn, exc, msg):
    with pytest.raises(exc) as e:
        fn(tmp_path)
    assert msg in str(e.value), f"{name}: {str(e.value)!r} does not say {msg!r}"


# ---- what a task returns --------------------------------------------------------------------------------------
class Returns(ClassificationTask):
    def __init__(self, kind):
        super().__init__(nn.Linear(2, 2))
        self.kind = kind

    def training_step(self, batch, progress, opt="main"):
        x, y = batch
        loss = F.cross_entropy(self.model(x), y, reduction="none")
        return {"per-sample": lambda: {"loss": loss}, "float": lambda: {"loss": 0.5}, "none": lambda: None,
                "no-loss": lambda: {"ce": loss.mean()}, "tuple": lambda: (loss.mean(),),
                "detached": lambda: {"loss": loss.mean().detach()}, "int": lambda: {"loss": 1},
                "ok": lambda: {"loss": loss.mean()}}[self.kind]()

    def validation_step(self, batch):
        x, y = batch
        return {"none": None, "empty": {}}.get(self.kind.split("valid-")[-1], {"acc": (self.model(x).argmax(1) == y).float()}) \
            if self.kind.startswith("valid-") else super().validation_step(batch)


RETURNS = [("per-sample", ValueError, "must be 0-dim"), ("float", TypeError, "Python number has no gradient"),
           ("int", TypeError, "Python number"), ("none", TypeError, "dict with a 'loss' entry"),
           ("no-loss", TypeError, "'loss' entry"), ("tuple", TypeError, "'loss' entry"),
           ("detached", ValueError, "does not require grad")]


@pytest.mark.parametrize("kind,exc,msg", RETURNS, ids=[r[0] for r in RETURNS])
def test_training_step_output_is_checked(kind, exc, msg):
    with pytest.raises(exc, match=msg.replace("(", r"\(")):
        Learner(Returns(kind), loader(), None, sgd()).fit(1)


@pytest.mark.parametrize("kind", ["valid-none", "valid-empty"])
def test_empty_validation_step_is_refused(kind):
    t = Returns("ok")
    t.validation_step = lambda batch: None if kind == "valid-none" else {}
    with pytest.raises(TypeError, match="non-empty dict"):
        Learner(t, loader(), loader(), sgd()).fit(1)


# ---- non-finite values: the run stops, the last good checkpoint stays -----------------------------------------------
@pytest.mark.parametrize("how,what", [("nan-grad", "the gradients"), ("nan", "the loss"), ("inf", "the loss"),
                                      ("huge", "the loss")])
def test_non_finite_never_reaches_the_checkpoint(tmp_path, how, what):
    t = Step(how, at=2)
    L = Learner(t, loader(), None, sgd(lr=0.1), cbs=[Checkpoint(every=1)], out_dir=tmp_path)
    with pytest.raises(NonFiniteError, match=what) as e:
        L.fit(2)
    assert "left as it was" in str(e.value)
    st = load_checkpoint(tmp_path / "checkpoint.pt")
    assert st["step"] == 2 and all(torch.isfinite(v).all() for v in st["task"].values())


def test_nan_weights_from_a_callback_are_not_saved(tmp_path):
    class Poison(Callback):
        def after_step(self, learn):
            if learn.step == 3:
                with torch.no_grad():
                    learn.task.model.weight[0, 0] = math.nan

    L = Learner(task(), loader(), None, sgd(), cbs=[Poison(), Checkpoint(every=1)], out_dir=tmp_path)
    with pytest.raises(NonFiniteError, match="weights"):
        L.fit(2)
    assert load_checkpoint(tmp_path / "checkpoint.pt")["step"] == 2


def test_nan_optimizer_state_is_not_saved(tmp_path):
    class Poison(Callback):
        def after_step(self, learn):
            if learn.step == 2:
                next(iter(learn.opt.state.values()))["exp_avg"].fill_(math.nan)

    L = Learner(task(), loader(), None, adamw(), cbs=[Poison(), Checkpoint(every=1)], out_dir=tmp_path)
    with pytest.raises(NonFiniteError, match="optimiser state"):
        L.fit(2)
    assert load_checkpoint(tmp_path / "checkpoint.pt")["step"] == 1


# ---- checkpoints -----------------------------------------------------------------------------------------------
class NumpyState(Callback):
    def __init__(self, value):
        self.value = value

    def state_dict(self):
        return {"v": self.value}

    def load_state_dict(self, st):
        self.value = st["v"]


@pytest.mark.parametrize("value", [np.float32(0.5), np.int64(3), np.arange(3), np.bool_(True), {"a": np.float64(1.0)}])
def test_callback_numpy_state_saves_and_resumes(tmp_path, value):
    Learner(task(), loader(), None, sgd(), cbs=[NumpyState(value)], out_dir=tmp_path).fit(1)
    cb = NumpyState(None)
    Learner(task(), loader(), None, sgd(), cbs=[cb], out_dir=tmp_path).fit(2, resume=True)
    assert cb.value is not None


def test_callback_with_unloadable_state_keeps_the_good_checkpoint(tmp_path):
    Learner(task(), loader(), None, sgd(), out_dir=tmp_path).fit(1)
    good = load_checkpoint(tmp_path / "checkpoint.pt")
    L = Learner(task(), loader(), None, sgd(), cbs=[NumpyState(print)], out_dir=tmp_path)
    with pytest.raises(CheckpointError, match=r"\['callbacks'\]\['NumpyState'\]\['v'\]"):
        L.fit(1)
    assert load_checkpoint(tmp_path / "checkpoint.pt")["step"] == good["step"]


@pytest.mark.parametrize("content,msg", [(torch.ones(3), "holds a Tensor"), ([1, 2], "holds a list"),
                                         ("text", "holds a str"), (3, "holds a int")])
def test_checkpoint_that_is_not_a_dict(tmp_path, content, msg):
    torch.save(content, tmp_path / "checkpoint.pt")
    with pytest.raises(CheckpointError, match=msg):
        load_checkpoint(tmp_path / "checkpoint.pt")
    with pytest.raises(CheckpointError, match=str(tmp_path)):
        Learner(task(), loader(), out_dir=tmp_path).fit(1, resume=True)


@pytest.mark.parametrize("content,msg", [({"w": torch.ones(1)}, "not a visionbook Learner checkpoint"),
                                         ({"version": 1, "task": {}}, "version 2")])
def test_foreign_dict_is_not_resumed(tmp_path, content, msg):
    torch.save(content, tmp_path / "checkpoint.pt")
    with pytest.raises(CheckpointError, match=msg):
        Learner(task(), loader(), out_dir=tmp_path).fit(1, resume=True)


def test_resume_with_another_optimizer_is_refused(tmp_path):
    Learner(task(), loader(), None, sgd(), out_dir=tmp_path).fit(1)
    with pytest.raises(CheckpointError, match="'SGD'.*'AdamW'"):
        Learner(task(), loader(), None, adamw(), out_dir=tmp_path).fit(2, resume=True)


def test_resume_with_other_world_size_is_refused(tmp_path):
    L = Learner(task(), loader(), None, sgd(), out_dir=tmp_path)
    L.fit(1)
    st = load_checkpoint(tmp_path / "checkpoint.pt")
    st["world"] = 2
    save_checkpoint(st, tmp_path / "checkpoint.pt")
    with pytest.raises(CheckpointError, match="2 processes"):
        Learner(task(), loader(), None, sgd(), out_dir=tmp_path).fit(2, resume=True)


def test_torn_and_truncated_checkpoints(tmp_path):
    Learner(task(), loader(), None, sgd(), out_dir=tmp_path).fit(1)
    data = (tmp_path / "checkpoint.pt").read_bytes()
    for cut in (0, 10, len(data) // 2, len(data) - 1):
        (tmp_path / "checkpoint.pt").write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match="corrupt or truncated"):
            load_checkpoint(tmp_path / "checkpoint.pt")


def test_stale_temporaries_are_removed_on_resume(tmp_path):
    Learner(task(), loader(), None, sgd(), out_dir=tmp_path).fit(1)
    for pid in (2**22 + 1, 2**22 + 2):
        (tmp_path / f".checkpoint.pt.tmp{pid}").write_bytes(b"x" * 1000)
    Learner(task(), loader(), None, sgd(), out_dir=tmp_path).fit(2, resume=True)
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]


def test_load_weights_errors(tmp_path):
    save_weights(nn.Linear(2, 2), tmp_path / "w.safetensors")
    with pytest.raises(CheckpointError, match="does not fit Linear"):
        load_weights(nn.Linear(3, 2), tmp_path / "w.safetensors")
    (tmp_path / "bad.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(CheckpointError, match="bad.safetensors is not a readable safetensors"):
        load_weights(nn.Linear(2, 2), tmp_path / "bad.safetensors")
    torch.save({"model": {"weight": [1, 2]}}, tmp_path / "list.pt")
    with pytest.raises(CheckpointError, match="not a state_dict of tensors"):
        load_weights(nn.Linear(2, 2), tmp_path / "list.pt")


# ---- seeds, resume and stateful callbacks -----------------------------------------------------------------------
def _weights(seed, tmp, resume):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 8), nn.Dropout(0.5), nn.Linear(8, 2))
    Learner(ClassificationTask(net), loader(), None, sgd(), out_dir=tmp, seed=seed).fit(1, resume=resume)
    return net[0].weight.detach().clone()


def test_fresh_resume_honours_the_seed(tmp_path):
    a, b = _weights(0, tmp_path / "a", True), _weights(1, tmp_path / "b", True)
    assert not torch.equal(a, b), "seed 0 and seed 1 trained the same weights"
    assert torch.equal(a, _weights(0, tmp_path / "c", False))


def test_keepbest_resumes_to_the_right_epoch(tmp_path):
    from visionbook.jomold import KeepBest

    class Scripted(ClassificationTask):
        "Validation score per epoch from a script: best at epoch 2."
        scores = [0.1, 0.9, 0.3, 0.2]

        def validation_step(self, batch):
            return {"score": torch.full((len(batch[0]),), self.scores[self.epoch_seen])}

    def run(out, cbs, epochs, resume=False):
        torch.manual_seed(0)
        t = Scripted(nn.Linear(2, 2))
        kb = KeepBest("score")

        class Count(Callback):
            def before_validate(self, learn):
                t.epoch_seen = learn.epoch
        L = Learner(t, loader(), loader(), sgd(), cbs=[kb, Count(), *cbs], out_dir=out)
        L.fit(epochs, resume=resume)
        return kb, t

    ref_kb, ref_t = run(tmp_path / "ref", [], 4)
    run(tmp_path / "cut", [StopAt(13)], 4)                 # killed during epoch 4 (4 batches per epoch)
    kb, t = run(tmp_path / "cut", [], 4, resume=True)
    assert kb.best_epoch == ref_kb.best_epoch == 2
    for a, b in zip(ref_t.state_dict().values(), t.state_dict().values()):
        assert torch.equal(a, b)


def test_torn_metrics_line_does_not_stop_a_resume(tmp_path):
    Learner(task(), loader(), None, sgd(), cbs=[Metrics(every=1), StopAt(6)], out_dir=tmp_path).fit(3)
    with open(tmp_path / "metrics.csv", "a") as f:
        f.write("7,1.75,tr")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        L = Learner(task(), loader(), None, sgd(), cbs=[Metrics(every=1)], out_dir=tmp_path).fit(3, resume=True)
    assert L.step == 12 and "tr\n" not in (tmp_path / "metrics.csv").read_text()


def test_damaged_metrics_file_names_the_line(tmp_path):
    Learner(task(), loader(), None, sgd(), cbs=[Metrics(every=1), StopAt(3)], out_dir=tmp_path).fit(2)
    lines = (tmp_path / "metrics.csv").read_text().splitlines()
    lines[2] = "x,y,z,w,v"
    (tmp_path / "metrics.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match="line 3 is damaged"):
        Learner(task(), loader(), None, sgd(), cbs=[Metrics(every=1)], out_dir=tmp_path).fit(2, resume=True)


def test_state_dict_and_save_before_fit(tmp_path):
    L = Learner(task(), loader(), None, sgd(), cbs=[EMA(nn.Linear(2, 2))], out_dir=tmp_path)
    st = L.state_dict()
    assert st["step"] == 0 and "EMA" in st["callbacks"]
    assert L.save().is_file()
    L.load_state_dict(load_checkpoint(tmp_path / "checkpoint.pt"))


def test_schedules_follow_the_step():
    assert step_decay((1, 2), 0.5)(15, 40, 10) == 0.5 and cosine()(0, 10, 5) == 1.0
    assert abs(linear(min_factor=0.1)(10, 10, 5) - 0.1) < 1e-12
    lrs = []

    class LR(Callback):
        def after_step(self, learn):
            lrs.append(learn.opt.param_groups[0]["lr"])

    Learner(task(), loader(), None, sgd(lr=1.0), constant(warmup=2), [LR()]).fit(1)
    assert lrs == [0.5, 1.0, 1.0, 1.0]


def test_callback_order_checkpoint_after_ema(tmp_path):
    "StopAt and Checkpoint run after every other after_step callback, so the saved EMA includes the step."
    net = nn.Linear(2, 2)
    ema = EMA(net, decay=0.5)
    Learner(ClassificationTask(net), loader(), None, sgd(), cbs=[ema, StopAt(2)], out_dir=tmp_path).fit(1)
    st = load_checkpoint(tmp_path / "checkpoint.pt")
    assert torch.equal(st["callbacks"]["EMA"]["weight"], ema.module.weight)


def test_progress_env_switch(monkeypatch):
    from visionbook.learner import ProgressBar
    monkeypatch.setenv("VISIONBOOK_PROGRESS", "0")
    assert ProgressBar().enabled is False
    monkeypatch.setenv("VISIONBOOK_PROGRESS", "1")
    assert ProgressBar().enabled is True


def test_no_temp_files_after_normal_saves(tmp_path):
    Learner(task(), loader(), None, sgd(), cbs=[Checkpoint(every=1), Metrics(every=1)], out_dir=tmp_path).fit(2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt", "metrics.csv"]
    assert os.path.getsize(tmp_path / "checkpoint.pt") > 0
