"""MasKD and HEAD beyond their notebooks: exact resume of stage 1 and of a HEAD student through the Learner,
and the errors a wrong pairing of student and teacher gets."""
import pytest
import torch

import visionbook.head as hd
import visionbook.maskd as mk
from visionbook.data import TensorLoader
from visionbook.dense import SegmentationTask, SemanticFPN, faster_rcnn, retinanet
from visionbook.learner import Learner, StopAt, adam, adamw, cosine
from visionbook.testing import raises


def _stage1(out_dir, cbs=()):
    torch.manual_seed(0)
    teacher = SemanticFPN(3, "resnet18", fpn_channels=16, head_channels=16)
    tokens = mk.MasKDLoss.for_segmentation(3, num_tokens=4).tokens
    task = mk.TokenLearningTask(SegmentationTask(teacher, 3), tokens, site="")
    g = torch.Generator().manual_seed(1)
    data = TensorLoader((torch.rand(8, 3, 32, 32, generator=g), torch.randint(0, 3, (8, 32, 32), generator=g)), 2, seed=0)
    return Learner(task, data, data, adam(lr=0.05, weight_decay=1e-3), cosine(), list(cbs), out_dir=out_dir), task


def test_stage1_resumes_exactly(tmp_path):
    learn, task = _stage1(tmp_path / "a")
    learn.fit(2)
    want = {k: v.clone() for k, v in task.tokens.state_dict().items()}
    _stage1(tmp_path / "b", [StopAt(5)])[0].fit(2)                  # killed after step 5 of 8
    learn, task = _stage1(tmp_path / "b")
    learn.fit(2, resume=True)
    assert learn.step == 8 and all(torch.equal(want[k], v) for k, v in task.tokens.state_dict().items())
    assert set(task.stats) == {"0"} and len(task.stats["0"]["mean"]) == 4


def _head_learner(out_dir, cbs=()):
    torch.manual_seed(0)
    teacher = faster_rcnn(3, "resnet18", fpn_channels=16, min_size=64, max_size=64, box_batch_size_per_image=32,
                          rpn_post_nms_top_n_train=50)
    student = retinanet(3, "resnet18", fpn_channels=16, min_size=64, max_size=64)
    task = hd.HEADTask(student, teacher, "akd_ckd", warmup_steps=3, proposal_cfg=dict(pre_nms=50, post_nms=20),
                       sampler_cfg=dict(batch_per_image=16))
    g = torch.Generator().manual_seed(2)
    ims = [torch.rand(3, 64, 64, generator=g) for _ in range(4)]
    tgs = [dict(boxes=torch.tensor([[4.0, 6.0, 40.0, 50.0], [30.0, 2.0, 60.0, 20.0]]), labels=torch.tensor([1, 2]),
                iscrowd=torch.tensor([0, 0]), image_id=i) for i in range(4)]

    class Pairs:                                                    # a resumable loader of (images, targets) batches
        def __init__(self):
            self.epoch, self.start = 0, 0

        def set_epoch(self, epoch, start_batch=0):
            self.epoch, self.start = epoch, start_batch

        def __len__(self):
            return 2

        def __iter__(self):
            for b in range(self.start, 2):
                yield ims[2 * b:2 * b + 2], tgs[2 * b:2 * b + 2]
    return Learner(task, Pairs(), None, adamw(lr=1e-3), cosine(), list(cbs), out_dir=out_dir), task


def test_head_student_resumes_exactly(tmp_path):
    learn, task = _head_learner(tmp_path / "a")
    learn.fit(2)
    want = {k: v.clone() for k, v in task.state_dict().items() if not k.startswith("teacher.")}
    _head_learner(tmp_path / "b", [StopAt(3)])[0].fit(2)
    learn, task = _head_learner(tmp_path / "b")
    learn.fit(2, resume=True)
    got = {k: v for k, v in task.state_dict().items() if not k.startswith("teacher.")}
    assert learn.step == 4 and all(torch.equal(want[k], got[k]) for k in want)


def test_head_refuses_wrong_pairs():
    t = faster_rcnn(3, "resnet18", fpn_channels=32, min_size=64, max_size=64)
    s = retinanet(3, "resnet18", fpn_channels=16, min_size=64, max_size=64)
    raises(ValueError, hd.HEADTask, s, t, "akd", match="cannot transfer fc6")
    raises(TypeError, hd.HEADTask, t, None, "assist", match="torchvision RetinaNet")
    s2 = retinanet(3, "resnet18", fpn_channels=32, min_size=96, max_size=96)
    task = hd.HEADTask(s2, t, "akd", proposal_cfg=dict(pre_nms=50, post_nms=20), sampler_cfg=dict(batch_per_image=16))
    task.train()
    tg = [dict(boxes=torch.tensor([[4.0, 6.0, 40.0, 50.0]]), labels=torch.tensor([1]), iscrowd=torch.tensor([0]), image_id=0)]
    from visionbook.learner import Progress
    raises(ValueError, task.training_step, ([torch.rand(3, 64, 64)], tg), Progress(0, 1, 0, 1, 0, 1), match="resized the images differently")


@pytest.mark.parametrize("name, want", [("none", dict(kind="none")), ("maskd8", dict(kind="maskd", num_tokens=8, dice=True)),
                                        ("maskd1_nodice", dict(kind="maskd", num_tokens=1, dice=False))])
def test_parse_method(name, want):
    assert mk.parse_method(name) == want


@pytest.mark.parametrize("bad", ["maskd", "maskd0", "maskd8_dice", "fitnet2", "MasKD8"])
def test_parse_method_refuses(bad):
    raises(ValueError, mk.parse_method, bad, match=f"unknown method {bad!r}")


def test_head_teacher_from_a_weights_file(tmp_path):
    from visionbook.dense import build_detector
    from visionbook.learner import save_weights
    spec = dict(hd.SMOKE["teacher"])
    raises(FileNotFoundError, hd.main, "ci", smoke=True, out_dir=tmp_path / "a", teacher=dict(spec, checkpoint=str(tmp_path / "nope.safetensors")),
           match="nope.safetensors (the teacher spec's 'checkpoint') does not exist")
    torch.manual_seed(5)
    teacher = build_detector(spec, 21)                              # the smoke set has 20 categories
    save_weights(teacher, tmp_path / "t.safetensors")
    out = hd.main("ci", smoke=True, out_dir=tmp_path / "b", methods=("akd",), teacher=dict(spec, checkpoint=str(tmp_path / "t.safetensors")))
    assert out["teacher"] == dict(checkpoint=str(tmp_path / "t.safetensors")) and not (tmp_path / "b" / "teacher").exists()
    assert set(out["students"]) == {"akd/0"}


@pytest.mark.parametrize("name, want", [("akd_ckd@0.01", ("akd_ckd", 0.01)), ("akd@2", ("akd", 2.0)), ("none", ("none", None))])
def test_parse_head_method(name, want):
    assert hd.parse_head_method(name) == want


@pytest.mark.parametrize("bad, msg", [("akd@x", "optionally with '@<KD weight>'"), ("akd@-1", "optionally with"),
                                      ("akd@nan", "optionally with"), ("assist@0.1", "only akd and akd_ckd take a KD weight"),
                                      ("head", "optionally with")])
def test_parse_head_method_refuses(bad, msg):
    raises(ValueError, hd.parse_head_method, bad, match=msg)
