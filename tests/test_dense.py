"""visionbook.dense beyond the notebook: the generator, the COCO loader and its hostile inputs, the evaluation
wrappers against pycocotools, and the models' and tasks' refusals of bad arguments. Tiny sets only."""
import contextlib
import copy
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval


import visionbook.dense as dd
from visionbook.testing import raises

# pycocotools 2.0.11's decode under numpy 2 warns on every call; not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")


# -- fixtures -----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("dense") / "tiny"
    dd.make_detection_set(root, 8, 4, size=(64, 96), seed=0)
    return root


@pytest.fixture(scope="module")
def sized(tmp_path_factory):
    root = tmp_path_factory.mktemp("dense") / "sized"
    summary = dd.make_detection_set(root, 2, 30, size=(128, 256), seed=1)
    return root, summary


def _json(root, split="val"):
    return json.loads((root / "annotations" / f"instances_{split}.json").read_text())


def _tight_xywh(m):
    rows, cols = np.flatnonzero(m.any(1)), np.flatnonzero(m.any(0))
    return [float(cols[0]), float(rows[0]), float(cols[-1] - cols[0] + 1), float(rows[-1] - rows[0] + 1)]


# -- generator ----------------------------------------------------------------------------------------------------
def test_generator_files_and_categories(sized):
    root, summary = sized
    for split, n in (("train", 2), ("val", 30)):
        d = _json(root, split)
        assert len(d["images"]) == n == summary[split]["images"]
        for im in d["images"]:
            assert (root / "images" / split / im["file_name"]).is_file()
            assert (root / "semantic" / split / f"{im['id']:06d}.png").is_file()
            assert Image.open(root / "images" / split / im["file_name"]).size == (im["width"], im["height"])
            assert 128 <= im["width"] == im["height"] <= 256
        with contextlib.redirect_stdout(io.StringIO()):
            coco = COCO(str(root / "annotations" / f"instances_{split}.json"))
        assert len(coco.getAnnIds()) == summary[split]["objects"]
    ids = [c["id"] for c in d["categories"]]
    assert len(ids) == 20 and ids != list(range(1, 21)) and ids == sorted(ids)
    assert [c["name"] for c in d["categories"]][:2] == ["digit 0", "digit 1"] and d["categories"][10]["name"] == "T-shirt/top"
    assert {c["supercategory"] for c in d["categories"]} == {"digit", "fashion"}
    assert not list(root.parent.glob(".*partial*"))


def test_bbox_area_are_those_of_the_rle(sized):
    root, _ = sized
    d = _json(root)
    assert all(a["iscrowd"] == 0 for a in d["annotations"])
    for a in d["annotations"]:
        m = mask_utils.decode(a["segmentation"])
        im = next(i for i in d["images"] if i["id"] == a["image_id"])
        assert m.shape == (im["height"], im["width"])
        assert a["bbox"] == _tight_xywh(m) == mask_utils.toBbox(a["segmentation"]).tolist()
        assert a["area"] == m.sum() >= dd.MIN_VISIBLE_PX


def test_semantic_png_agrees_with_instances(sized):
    root, _ = sized
    d = _json(root)
    label = {c["id"]: k for k, c in enumerate(d["categories"], 1)}
    for im in d["images"][:10]:
        sem = np.array(Image.open(root / "semantic" / "val" / f"{im['id']:06d}.png"))
        assert sem.dtype == np.uint8 and sem.shape == (im["height"], im["width"])
        covered = np.zeros_like(sem, dtype=bool)
        for a in (a for a in d["annotations"] if a["image_id"] == im["id"]):
            m = mask_utils.decode(a["segmentation"]).astype(bool)
            assert not (covered & m).any()                      # visible masks do not overlap
            assert (sem[m] == label[a["category_id"]]).all()
            covered |= m
        assert (sem[~covered] == 0).all()


def test_all_coco_size_ranges_in_val(sized):
    root, summary = sized
    areas = np.array([a["area"] for a in _json(root)["annotations"]])
    assert (areas < 32 ** 2).any() and ((areas >= 32 ** 2) & (areas < 96 ** 2)).any() and (areas >= 96 ** 2).any()
    assert min(summary["val"][k] for k in ("small", "medium", "large")) > 0


def test_seeded_and_reused(tmp_path, tiny):
    kw = {"size": (64, 96)}
    dd.make_detection_set(tmp_path / "same", 8, 4, seed=0, **kw)
    dd.make_detection_set(tmp_path / "other", 8, 4, seed=1, **kw)
    for split in ("train", "val"):
        f = Path("annotations") / f"instances_{split}.json"
        assert (tiny / f).read_bytes() == (tmp_path / "same" / f).read_bytes()
        assert (tiny / f).read_bytes() != (tmp_path / "other" / f).read_bytes()
    assert (tiny / "images/val/000002.jpg").read_bytes() == (tmp_path / "same/images/val/000002.jpg").read_bytes()
    mtime = (tmp_path / "same" / "summary.json").stat().st_mtime_ns
    dd.make_detection_set(tmp_path / "same", 8, 4, seed=0, **kw)            # same arguments: reused, not rewritten
    assert (tmp_path / "same" / "summary.json").stat().st_mtime_ns == mtime
    raises(FileExistsError, dd.make_detection_set, tmp_path / "same", 8, 4, seed=5, **kw, match="overwrite=True")
    s = dd.make_detection_set(tmp_path / "same", 3, 2, seed=5, overwrite=True, **kw)
    assert len(_json(tmp_path / "same")["images"]) == 2 == s["val"]["images"]
    dd.make_detection_set(tmp_path / "same", 3, 2, seed=5, overwrite=True, **kw)       # overwrite: always rebuilt
    assert (tmp_path / "same" / "summary.json").stat().st_mtime_ns > mtime
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other", "same"]             # no temp folders left


def test_killed_run_leaves_nothing(tmp_path, monkeypatch):
    def boom(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(dd, "_annotate", boom)
    with pytest.raises(KeyboardInterrupt):
        dd.make_detection_set(tmp_path / "set", 4, 2, size=64)
    assert list(tmp_path.iterdir()) == []


# -- loader -------------------------------------------------------------------------------------------------------
def _ds(root, split="val", **kw):
    return dd.CocoDetectionSet(root / "images" / split, root / "annotations" / f"instances_{split}.json", **kw)


def _mask_box_xyxy(m):
    ys, xs = torch.nonzero(m, as_tuple=True)
    return torch.stack([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]).float()


def test_loader_round_trip(tiny):
    ds, d = _ds(tiny, "train"), _json(tiny, "train")
    assert len(ds) == 8 and [c["id"] for c in ds.categories] == list(dd.DENSE_CAT_IDS)
    assert ds.cat_ids[1] == 1 and ds.cat_ids[4] == 5 and all(ds.label_of[c] == k for k, c in ds.cat_ids.items())
    for i in range(len(ds)):
        img, t = ds[i]
        anns = [a for a in d["annotations"] if a["image_id"] == t["image_id"]]
        assert img.dtype == torch.uint8 and img.shape == (3, d["images"][i]["height"], d["images"][i]["width"])
        want = torch.tensor([[x, y, x + w, y + h] for x, y, w, h in (a["bbox"] for a in anns)]).reshape(-1, 4)
        assert t["boxes"].format.value == "XYXY" and t["boxes"].dtype == torch.float32
        assert torch.equal(t["boxes"].as_subclass(torch.Tensor), want)
        assert t["labels"].tolist() == [dd.DENSE_CAT_IDS.index(a["category_id"]) + 1 for a in anns]
        assert t["masks"].dtype == torch.uint8 and t["masks"].shape == (len(anns), *img.shape[1:])
        for m, b in zip(t["masks"], t["boxes"]):
            assert torch.equal(_mask_box_xyxy(m), b.as_subclass(torch.Tensor))
        assert t["iscrowd"].tolist() == [0] * len(anns) and t["area"].tolist() == [a["area"] for a in anns]
    assert "masks" not in _ds(tiny, masks=False)[0][1]


def test_transforms_keep_boxes_and_masks_consistent(tiny):
    ds = _ds(tiny, "train", transforms=dd.detection_transforms(True, 80))
    torch.manual_seed(0)
    n = 0
    for rep in range(3):
        for i in range(len(ds)):
            img, t = ds[i]
            H, W = img.shape[1:]
            assert img.dtype == torch.float32 and 0 <= img.min() and img.max() <= 1 and max(H, W) <= 100
            b = t["boxes"].as_subclass(torch.Tensor)
            assert len(b) == len(t["labels"]) == len(t["area"]) == len(t["iscrowd"]) == len(t["masks"])
            assert (b[:, 0::2] >= 0).all() and (b[:, 0::2] <= W).all() and (b[:, 1::2] >= 0).all() and (b[:, 1::2] <= H).all()
            assert t["masks"].dtype == torch.uint8 and t["masks"].shape[1:] == (H, W)
            for m, box in zip(t["masks"], b):
                if m.sum() >= 4:
                    assert (_mask_box_xyxy(m) - box).abs().max() <= 2, (i, box, _mask_box_xyxy(m))
                    n += 1
    assert n > 20
    img, t = _ds(tiny, transforms=dd.detection_transforms(False, 50))[0]
    assert max(img.shape[1:]) == 50 and t["masks"].shape[1:] == img.shape[1:] and t["orig_size"][0] > 50


def _crowd_set(tmp_path):
    (tmp_path / "img").mkdir()
    Image.fromarray(np.zeros((10, 12, 3), np.uint8)).save(tmp_path / "img" / "a.png")
    crowd = {"size": [10, 12], "counts": [62, 3, 7, 3, 7, 3, 35]}                # uncompressed RLE, column-major
    d = {"images": [{"id": 7, "file_name": "a.png", "width": 12, "height": 10}],
         "categories": [{"id": 4, "name": "x"}, {"id": 9, "name": "y"}],
         "annotations": [{"id": 1, "image_id": 7, "category_id": 9, "bbox": [1, 1, 4, 2], "area": 8, "iscrowd": 0,
                          "segmentation": [[1, 1, 5, 1, 5, 3, 1, 3]]},
                         {"id": 2, "image_id": 7, "category_id": 4, "bbox": [6, 2, 3, 3], "area": 9, "iscrowd": 1,
                          "segmentation": crowd}]}
    (tmp_path / "a.json").write_text(json.dumps(d))
    return tmp_path / "img", tmp_path / "a.json"


def test_crowd_kept_then_dropped_for_training(tmp_path):
    ds = dd.CocoDetectionSet(*_crowd_set(tmp_path))
    img, t = ds[0]
    assert t["iscrowd"].tolist() == [0, 1] and t["labels"].tolist() == [2, 1] and t["image_id"] == 7
    assert torch.equal(_mask_box_xyxy(t["masks"][1]), torch.tensor([6.0, 2, 9, 5]))
    assert t["masks"][0].sum() > 0
    _, t2 = dd.drop_crowd(img, t)
    assert t2["iscrowd"].tolist() == [0] and len(t2["boxes"]) == len(t2["masks"]) == 1
    assert type(t2["boxes"]).__name__ == "BoundingBoxes" and type(t2["masks"]).__name__ == "Mask"
    _, t3 = dd.detection_transforms(True, 24)(img, t)
    assert t3["iscrowd"].tolist() == [0] and t3["labels"].tolist() == [2]
    _, t4 = dd.detection_transforms(False, 24)(img, t)
    assert t4["iscrowd"].tolist() == [0, 1]


def test_collate_and_dataloader(tiny):
    dl = torch.utils.data.DataLoader(_ds(tiny, transforms=dd.detection_transforms(False, 64)), batch_size=3,
                                     collate_fn=dd.collate_detection)
    imgs, tgts = next(iter(dl))
    assert isinstance(imgs, list) and isinstance(tgts, list) and len(imgs) == len(tgts) == 3
    assert [t["image_id"] for t in tgts] == [1, 2, 3]


def test_semantic_set(tiny, tmp_path):
    ds = dd.SemanticSegSet(tiny / "images" / "val", tiny / "semantic" / "val")
    img, m = ds[1]
    png = np.array(Image.open(tiny / "semantic" / "val" / "000002.png"))
    assert img.dtype == torch.float32 and img.shape == (3, *png.shape) and 0 <= img.min() and img.max() <= 1
    assert m.dtype == torch.int64 and torch.equal(m, torch.from_numpy(png).long())
    (tmp_path / "im").mkdir()
    (tmp_path / "sem").mkdir()
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / "im" / "x.png")
    raises(FileNotFoundError, dd.SemanticSegSet, tmp_path / "im", tmp_path / "sem", match=str(tmp_path / "sem" / "x.png"))


def _cityscapes(root, split, names, size=(8, 16), missing_label=None):
    rng = np.random.default_rng(0)
    for city, name in names:
        (root / "leftImg8bit" / split / city).mkdir(parents=True, exist_ok=True)
        (root / "gtFine" / split / city).mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(root / "leftImg8bit" / split / city / f"{name}_leftImg8bit.png")
        if name != missing_label:
            lab = rng.integers(0, 19, size, dtype=np.uint8)
            lab[0, :3] = 255
            Image.fromarray(lab).save(root / "gtFine" / split / city / f"{name}_gtFine_labelTrainIds.png")
    return root


def test_cityscapes_layout(tmp_path):
    root = _cityscapes(tmp_path / "cs", "train", [("aachen", "aachen_000000_000019"), ("bochum", "bochum_000000_000313")])
    _cityscapes(root, "val", [("lindau", "lindau_000000_000019")])
    ds = dd.CityscapesSet(root, "train")
    assert len(ds) == 2 and ds.pairs[1][1].name == "bochum_000000_000313_gtFine_labelTrainIds.png"
    img, m = ds[0]
    png = np.array(Image.open(root / "gtFine" / "train" / "aachen" / "aachen_000000_000019_gtFine_labelTrainIds.png"))
    assert img.shape == (3, 8, 16) and torch.equal(m, torch.from_numpy(png).long()) and (m[0, :3] == 255).all()
    train, valid = dd.segmentation_loaders(root, dict(img=(4, 8), batch=2), seed=0)   # the layout is recognised
    xb, yb = next(iter(train))
    assert xb.shape == (2, 3, 4, 8) and yb.shape == (2, 4, 8) and len(valid) == 1
    raises(dd.DataNotFoundError, dd.CityscapesSet, root, "test", match="no Cityscapes images under")
    bad = _cityscapes(tmp_path / "bad", "train", [("ulm", "ulm_000000_000019")], missing_label="ulm_000000_000019")
    raises(FileNotFoundError, dd.CityscapesSet, bad, "train", match="ulm_000000_000019_gtFine_labelTrainIds.png (the label map of")


def test_relabelled_set_merges_classes_and_refuses_uncovered_values(tiny):
    ds = dd.SemanticSegSet(tiny / "images" / "val", tiny / "semantic" / "val")
    coarse = [0] + [1] * 10 + [2] * 10
    rel = dd.RelabelledSet(ds, coarse)
    img, m = rel[1]
    orig = ds[1][1]
    want = torch.where(orig == 0, 0, torch.where(orig <= 10, 1, 2))       # digits 1-10 -> 1, clothing 11-20 -> 2
    assert torch.equal(img, ds[1][0]) and torch.equal(m, want) and len(rel) == len(ds)
    with_ignore = dd.RelabelledSet([(img, torch.tensor([[0, 255], [3, 12]]))], coarse)[0][1]
    assert with_ignore.tolist() == [[0, 255], [1, 2]]
    raises(ValueError, dd.RelabelledSet([(img, torch.tensor([[0, 21]]))], coarse).__getitem__, 0,
           match="label values [21] that label_map (length 21)")
    raises(ValueError, dd.RelabelledSet, ds, [0, 1, 300], match="label_map must list")
    raises(ValueError, dd.RelabelledSet, ds, [], match="label_map must list")


# -- hostile inputs to the loader ----------------------------------------------------------------------------------
def _hostile(tiny, tmp_path, edit):
    d = _json(tiny)
    edit(d)
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(d))
    return f


def _set_ann(key, value, i=0):
    def edit(d):
        d["annotations"][i][key] = value
    return edit


@pytest.mark.parametrize("name, edit, exc, fragments", [
    ("category", _set_ann("category_id", 99), ValueError, ["category_id 99", "annotation id 1", "not in 'categories'"]),
    ("outside", _set_ann("bbox", [50.0, 3.0, 60.0, 5.0]), ValueError, ["annotation id 1", "outside", "[50.0, 3.0, 60.0, 5.0]"]),
    ("negative w", _set_ann("bbox", [5.0, 3.0, -2.0, 5.0]), ValueError, ["annotation id 1", "negative"]),
    ("nan box", _set_ann("bbox", [5.0, float("nan"), 2.0, 5.0]), ValueError, ["annotation id 1", "finite"]),
    ("no key", lambda d: d.pop("categories"), ValueError, ["lacks the key(s) ['categories']"]),
    ("ann key", lambda d: d["annotations"][2].pop("bbox"), ValueError, ["annotation #2", "['bbox']"]),
    ("image ref", _set_ann("image_id", 1234), ValueError, ["annotation id 1", "image_id 1234"]),
    ("missing file", lambda d: d["images"][2].update(file_name="gone.jpg"), FileNotFoundError, ["gone.jpg", "image id 3"]),
])
def test_hostile_annotations(tiny, tmp_path, name, edit, exc, fragments):
    f = _hostile(tiny, tmp_path, edit)
    msg = raises(exc, dd.CocoDetectionSet, tiny / "images" / "val", f)
    for frag in fragments + ([str(f)] if exc is ValueError else []):
        assert frag in msg, (name, frag, msg)


def test_hostile_files(tiny, tmp_path):
    f = tmp_path / "instances_val.json"
    f.write_text((tiny / "annotations" / "instances_val.json").read_text()[:200])
    raises(ValueError, dd.CocoDetectionSet, tiny / "images" / "val", f, match=f"{f} is not valid JSON")
    raises(FileNotFoundError, dd.CocoDetectionSet, tiny / "images" / "val", tmp_path / "nope.json", match="nope.json")
    raises(FileNotFoundError, dd.CocoDetectionSet, tmp_path / "noimages", tiny / "annotations" / "instances_val.json",
           match="noimages")


# -- coco_map -----------------------------------------------------------------------------------------------------
def _random_gt(rng, n_images=10, cats=(1, 3, 7), crowd_p=0.07):
    images = [{"id": 10 + i, "width": 200, "height": 150} for i in range(n_images)]
    anns = []
    for im in images:
        for _ in range(rng.integers(0, 6)):
            w, h = (float(v) for v in np.exp(rng.uniform(np.log(6), np.log(140), 2)).clip(2, 140).round(1))
            x, y = float(rng.uniform(0, 200 - w)), float(rng.uniform(0, 150 - h))
            anns.append({"id": len(anns) + 1, "image_id": im["id"], "category_id": int(rng.choice(cats)),
                         "bbox": [x, y, w, h], "area": w * h, "iscrowd": int(rng.random() < crowd_p)})
    return {"images": images, "annotations": anns, "categories": [{"id": c, "name": f"c{c}"} for c in cats]}


def _random_dets(rng, gt):
    dets = []
    for a in gt["annotations"]:
        if rng.random() < 0.85:
            x, y, w, h = a["bbox"]
            j = rng.normal(0, 0.12, 4)
            cat = a["category_id"] if rng.random() < 0.9 else int(rng.choice([c["id"] for c in gt["categories"]]))
            dets.append({"image_id": a["image_id"], "category_id": cat, "score": float(rng.random()),
                         "bbox": [x + j[0] * w, y + j[1] * h, w * math.exp(j[2]), h * math.exp(j[3])]})
    for im in gt["images"]:
        for _ in range(rng.integers(0, 4)):
            dets.append({"image_id": im["id"], "category_id": int(rng.choice([c["id"] for c in gt["categories"]])),
                         "score": float(rng.random()), "bbox": [*rng.uniform(0, 100, 2).tolist(), *rng.uniform(4, 90, 2).tolist()]})
    return dets


def _pycocotools_stats(gt, dets):
    "Independent reference: COCOeval called directly."
    with contextlib.redirect_stdout(io.StringIO()):
        g = COCO()
        g.dataset = {**copy.deepcopy(gt), "info": {}, "licenses": []}
        g.createIndex()
        ev = COCOeval(g, g.loadRes(copy.deepcopy(dets)), "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev.stats.tolist()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_coco_map_agrees_with_pycocotools(seed):
    rng = np.random.default_rng(seed)
    gt = _random_gt(rng)
    dets = _random_dets(rng, gt)
    before = copy.deepcopy(gt)
    got = dd.coco_map(gt, dets)
    assert list(got) == list(dd.MAP_KEYS) and all(isinstance(v, float) for v in got.values())
    assert list(got.values()) == _pycocotools_stats(gt, dets)
    assert 0 < got["AP"] < 1
    assert gt == before


def _perfect(gt):
    return [{"image_id": a["image_id"], "category_id": a["category_id"], "bbox": list(a["bbox"]), "score": 1.0}
            for a in gt["annotations"] if not a["iscrowd"]]


def test_coco_map_perfect_shifted_empty_and_paths(sized, tmp_path):
    root, _ = sized
    f = root / "annotations" / "instances_val.json"
    gt = json.loads(f.read_text())
    perfect = dd.coco_map(gt, _perfect(gt))
    # pycocotools' precision is tp / (tp + fp + eps): a perfect AP is 1 - 2.2e-16, kept as COCOeval reports it
    assert all(perfect[k] == pytest.approx(1.0, abs=1e-12) for k in ("AP", "AP50", "AP75", "APs", "APm", "APl", "AR100"))
    shifted = [{**d, "bbox": [d["bbox"][0] + 0.3 * d["bbox"][2], *d["bbox"][1:]]} for d in _perfect(gt)]
    assert dd.coco_map(gt, shifted)["AP"] < perfect["AP"]
    (tmp_path / "dets.json").write_text(json.dumps(shifted))
    assert dd.coco_map(f, tmp_path / "dets.json") == dd.coco_map(gt, shifted)
    empty = dd.coco_map(gt, [])
    assert empty == {k: 0.0 for k in dd.MAP_KEYS}
    small_only = {**gt, "annotations": [a for a in gt["annotations"] if a["area"] < 32 ** 2]}
    s = dd.coco_map(small_only, [])
    assert s["AP"] == s["APs"] == 0.0 and s["APm"] == s["APl"] == s["ARm"] == s["ARl"] == -1.0
    s = dd.coco_map(small_only, _perfect(small_only))
    assert s["AP"] == pytest.approx(1.0, abs=1e-12) and s["APm"] == s["APl"] == s["ARm"] == s["ARl"] == -1.0


def test_coco_map_ignores_detections_on_crowds():
    gt = {"images": [{"id": 1, "width": 100, "height": 100}],
          "categories": [{"id": 5, "name": "a"}],
          "annotations": [{"id": 1, "image_id": 1, "category_id": 5, "bbox": [10, 10, 30, 30], "area": 900, "iscrowd": 0},
                          {"id": 2, "image_id": 1, "category_id": 5, "bbox": [50, 50, 45, 45], "area": 2025, "iscrowd": 1}]}
    tp = {"image_id": 1, "category_id": 5, "bbox": [10, 10, 30, 30], "score": 0.9}
    on_crowd = {"image_id": 1, "category_id": 5, "bbox": [55, 55, 20, 20], "score": 0.95}
    off_crowd = {**on_crowd, "bbox": [5, 60, 20, 20]}
    alone = dd.coco_map(gt, [tp])
    assert alone["AP"] == pytest.approx(1.0, abs=1e-12)
    with_crowd_det = dd.coco_map(gt, [tp, on_crowd])
    # ignored, not a false positive; only AR1 changes: COCOeval's single maxDets=1 slot goes to the (ignored) top det
    assert {k: v for k, v in with_crowd_det.items() if k != "AR1"} == {k: v for k, v in alone.items() if k != "AR1"}
    assert dd.coco_map(gt, [tp, off_crowd])["AP"] < 0.6                   # the control: an ordinary false positive


def test_coco_map_hostile():
    rng = np.random.default_rng(3)
    gt = _random_gt(rng)
    d = _random_dets(rng, gt)[:3]
    raises(ValueError, dd.coco_map, gt, [*d, {**d[0], "image_id": 999}], match="image_id 999")
    raises(ValueError, dd.coco_map, gt, [*d, {**d[0], "category_id": 2}], match="category_id 2")
    raises(ValueError, dd.coco_map, gt, [{**d[0], "bbox": [1, 2, float("nan"), 3]}], match="finite")
    raises(ValueError, dd.coco_map, gt, [{**d[0], "score": float("inf")}], match="score inf")
    raises(ValueError, dd.coco_map, {**gt, "categories": []}, d, match="'categories' is empty")
    bad = copy.deepcopy(gt)
    bad["annotations"][0]["category_id"] = 4
    raises(ValueError, dd.coco_map, bad, d, match=f"annotation id {bad['annotations'][0]['id']}")


def test_detections_to_coco_round_trip(tiny):
    ds = _ds(tiny, transforms=dd.detection_transforms(False, 40))
    gt = _json(tiny)
    outs, ids, sizes, orig = [], [], [], []
    for img, t in (ds[i] for i in range(len(ds))):
        outs.append({"boxes": t["boxes"].as_subclass(torch.Tensor), "scores": torch.ones(len(t["labels"])),
                     "labels": t["labels"]})
        ids.append(t["image_id"])
        sizes.append(tuple(img.shape[1:]))
        orig.append(t["orig_size"])
    res = dd.detections_to_coco(outs, ids, ds.cat_ids, sizes=sizes, orig_sizes=orig)
    assert len(res) == len(gt["annotations"]) and {r["category_id"] for r in res} <= set(dd.DENSE_CAT_IDS)
    assert dd.coco_map(gt, res)["AP50"] == pytest.approx(1.0, abs=1e-12)
    assert dd.coco_map(gt, dd.detections_to_coco(outs, ids, ds.cat_ids))["AP50"] < 0.5    # not scaled back
    raises(ValueError, dd.detections_to_coco, [{**outs[0], "labels": torch.zeros_like(outs[0]["labels"])}], ids[:1],
           ds.cat_ids, match="label 0")
    raises(TypeError, dd.detections_to_coco, outs[:1], ids[:1], list(dd.DENSE_CAT_IDS), match="cat_ids must map")


# -- segmentation_miou -----------------------------------------------------------------------------------------------
def test_miou_perfect_and_hand_computed():
    t = torch.randint(0, 3, (2, 5, 6))
    r = dd.segmentation_miou(t.clone(), t, 5)
    assert r["mIoU"] == 1.0 and r["per_class"][:3] == [1.0, 1.0, 1.0] and all(math.isnan(v) for v in r["per_class"][3:])
    pred = torch.tensor([[0, 1, 1], [2, 2, 0]])
    target = torch.tensor([[0, 1, 2], [2, 1, 0]])
    # class 0: I = 2, U = 2 -> 1; class 1: I = 1 ({0,1}), U = 3 -> 1/3; class 2: I = 1 ({1,0}), U = 3 -> 1/3; class 3 absent
    r = dd.segmentation_miou(pred, target, 4)
    assert r["per_class"][:3] == pytest.approx([1.0, 1 / 3, 1 / 3]) and math.isnan(r["per_class"][3])
    assert r["mIoU"] == pytest.approx((1 + 2 / 3) / 3)


def test_miou_ignore_index_and_errors():
    pred = torch.tensor([[0, 1, 1], [2, 2, 0]])
    target = torch.tensor([[0, 1, 2], [2, 255, 0]])
    r = dd.segmentation_miou(pred, target, 3)
    # pixel (1, 1) ignored: class 1: I = 1, U = 2; class 2: I = 1 ({1,0}), U = 2 ({0,2}, {1,0})
    assert r["per_class"] == pytest.approx([1.0, 0.5, 0.5])
    other = pred.clone()
    other[1, 1] = 0
    assert dd.segmentation_miou(other, target, 3) == r
    raises(ValueError, dd.segmentation_miou, pred, target[:1], 3, match="same shape")
    raises(TypeError, dd.segmentation_miou, torch.rand(1, 3, 2, 3), target[None], 3, match="argmax")
    raises(ValueError, dd.segmentation_miou, pred + 5, target, 3, match="pred holds values")
    raises(ValueError, dd.segmentation_miou, pred, target, 3, ignore_index=None, match="target holds values")


def test_occlusion_later_covers_earlier_and_drops():
    def obj(x, y, s, cls=0):
        return {"cls": cls, "tex": np.full((s, s), 200, np.uint8), "mask": np.ones((s, s), bool), "s": s, "x": x, "y": y}
    a, b, c, e = obj(0, 0, 10), obj(5, 5, 10), obj(12, 12, 3), obj(11, 11, 6)   # e covers c (9 px) entirely
    kept, inst = dd._visible_layout([a, b, c, e], 20)
    assert [o is x for o, x in zip(kept, (a, b, e))] == [True] * 3 and len(kept) == 3
    assert inst[7, 7] == 2 and inst[2, 2] == 1 and inst[12, 12] == 3 and (inst == 1).sum() == 75
    big, cover = obj(0, 0, 10), obj(0, 0, 9)                                      # 19 of 100 px left visible: dropped
    kept, inst = dd._visible_layout([big, cover], 20)
    assert len(kept) == 1 and kept[0] is cover and (inst == 1).sum() == 81
    small, corner = obj(0, 0, 4), obj(3, 3, 4)                                   # 15 of 16 px visible: below 16 px
    assert dd._visible_layout([small, corner], 20)[0] == [corner]
    small, dot = obj(0, 0, 4), obj(0, 0, 1)           # the 1 px dot is dropped, so it does not hide `small`
    kept, inst = dd._visible_layout([small, dot], 20)
    assert kept == [small] and (inst == 1).sum() == 16


# -- models and tasks ---------------------------------------------------------------------------------------------
def test_models_and_tasks_refuse_bad_arguments(tiny):
    raises(ValueError, dd.TimmFPN, "resnet18", extra="p5", match="extra must be None, 'p6p7' or 'pool'")
    raises(ValueError, dd.build_detector, dict(arch="yolo", backbone="resnet18", img=64), 3, match="arch must be one of")
    raises(ValueError, dd.fcos, 3, fpn_channels=48, match="multiple of 32")
    model = dd.retinanet(3, "resnet18", min_size=64, max_size=128, fpn_channels=16)
    raises(ValueError, dd.DetectionTask, model, {"images": []}, match="give both gt")
    task = dd.DetectionTask(model)
    raises(ValueError, task.split, (torch.zeros(2, 3, 8, 8), [{}]), match="list of images, list of target dicts")
    raises(ValueError, dd.fpn_mse, {"0": torch.zeros(1, 4, 4, 4)}, {"1": torch.zeros(1, 8, 4, 4)}, {"0": "1"}, match="differ")
    raises(dd.DataNotFoundError, dd.coco_paths, tiny / "nope", "train", match="instances_train2017.json")


def test_coco_paths_reads_both_layouts(tiny, tmp_path):
    assert dd.coco_paths(tiny, "val") == (tiny / "images" / "val", tiny / "annotations" / "instances_val.json")
    (tmp_path / "val2017").mkdir()
    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations" / "instances_val2017.json").write_text("{}")
    assert dd.coco_paths(tmp_path, "val") == (tmp_path / "val2017", tmp_path / "annotations" / "instances_val2017.json")


def test_subset_coco_keeps_the_annotations_of_the_kept_images(tiny):
    d = _json(tiny)
    sub = dd.subset_coco(d, 2)
    keep = {im["id"] for im in d["images"][:2]}
    assert [im["id"] for im in sub["images"]] == [im["id"] for im in d["images"][:2]]
    assert sub["annotations"] == [a for a in d["annotations"] if a["image_id"] in keep] and dd.subset_coco(d, None) == d


def test_segmentation_task_end_validation_pools_the_set():
    seg = dd.SegmentationTask(torch.nn.Conv2d(3, 3, 1), 3)
    seg.begin_validation()
    x = torch.zeros(2, 3, 4, 4)
    y = torch.zeros(2, 4, 4, dtype=torch.long)
    y[1] = 255                                             # the second image is all ignore
    with torch.no_grad():
        out = seg.validation_step((x, y))
    assert out["pixel_acc"].shape == (2,)
    res = seg.end_validation(lambda items: list(items))
    pred = seg.model(x).argmax(1)[0]
    expect = dd.segmentation_miou(pred, y[0], 3)["mIoU"]
    assert set(res) == {"mIoU"} and (res["mIoU"] == expect or (math.isnan(expect) and math.isnan(res["mIoU"])))


def _fit_twice(tmp_path, make_task, loaders):
    "Weights after 4 steps straight, and after 2 steps + a stop + a resumed run from another RNG state."
    from visionbook.learner import Learner, Metrics, StopAt, adamw, cosine

    def run(out, cbs, resume=False):
        train, valid = loaders()
        torch.manual_seed(0)
        task = make_task()
        Learner(task, train, valid, adamw(lr=1e-3), cosine(warmup=1), [Metrics(every=1), *cbs], out_dir=out,
                seed=5).fit(1, resume=resume)
        return task
    a = run(tmp_path / "a", [])
    run(tmp_path / "b", [StopAt(2)])
    torch.manual_seed(99)
    b = run(tmp_path / "b", [], resume=True)
    return a.state_dict(), b.state_dict()


@pytest.mark.parametrize("arch", ["faster_rcnn", "fcos"])
def test_detectors_resume_exactly(tiny, tmp_path, arch):
    def loaders():
        tr, va, _, _ = dd.detection_loaders(tiny, 2, seed=1, n_train=8, n_eval=2)
        return tr, va
    spec = dict(arch=arch, backbone="resnet18", img=64, fpn_channels=32,
                options=dict(box_batch_size_per_image=16, rpn_post_nms_top_n_train=50) if arch == "faster_rcnn" else {})
    a, b = _fit_twice(tmp_path, lambda: dd.DetectionTask(dd.build_detector(spec, 21)), loaders)
    assert all(torch.equal(a[k], b[k]) for k in a), f"{arch}: a resumed run differs from a straight one"


def test_segmenter_resumes_exactly(tiny, tmp_path):
    spec = dict(img=64, batch=2, n_train=8, n_eval=2)
    a, b = _fit_twice(tmp_path, lambda: dd.SegmentationTask(dd.SemanticFPN(21, "resnet18", 16, 16), 21),
                      lambda: dd.segmentation_loaders(tiny, spec, seed=1))
    assert all(torch.equal(a[k], b[k]) for k in a), "the segmenter's resumed run differs from a straight one"
