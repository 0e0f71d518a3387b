"""Every registered model: build, forward, backward, state_dict round-trip; timm's contract for timm-registered ones.

The parametrisation is taken from `visionbook.list_models()`, so a new chapter's model is tested as soon as it is
registered, and `test_every_model_has_a_spec` fails until it gets a spec below (tiny kwargs and example inputs).
"""
import subprocess
import sys
import textwrap

import pytest
import timm
import torch
from safetensors.torch import save_file
from timm.models import get_pretrained_cfg_value

import visionbook
from visionbook.core import TIMM_CFG_KEYS, WeightsNotFoundError


def _mmil_inputs(d_audio, d_2d, d_3d, frames=8, T=4):
    return lambda b: (torch.randn(b, T, d_audio), torch.randn(b, T * frames, d_2d), torch.randn(b, T, d_3d))


_GREENMIM_TINY = dict(img_size=64, embed_dim=16, depths=(1, 1, 1, 1), num_heads=(1, 1, 2, 2), decoder_dim=16)
_LIGHTVIT_TINY = dict(embed_dims=(16, 32, 64), num_layers=(1, 1, 1), num_heads=(1, 2, 2), num_tokens=2, neck_dim=32)
_FIXED_MASK = torch.tensor([True, False, True, True])        # 64 px / 32 px units: 4 units, one visible

# name -> (kwargs that keep CPU time small, batch size -> positional inputs, extra forward kwargs)
SPECS = {
    "han_mmil": ({}, _mmil_inputs(128, 2048, 512), {}),                       # full size (4.6 M parameters)
    "jomold_mmil": ({}, _mmil_inputs(128, 2048, 512), {}),
    "jomold_mmil_tiny": ({}, _mmil_inputs(128, 128, 64), {}),
    **{n: (_GREENMIM_TINY, lambda b: (torch.randn(b, 3, 64, 64),), dict(mask=_FIXED_MASK))
       for n in ("greenmim_swin_tiny_patch4_window7_224", "greenmim_swin_base_patch4_window7_224",
                 "greenmim_swin_base_patch4_window14_224", "greenmim_swin_large_patch4_window14_224")},
    # narrow LightViTs here; the timm contract tests below use the real widths
    **{n: (_LIGHTVIT_TINY, lambda b: (torch.randn(b, 3, 32, 32),), {}) for n in ("lightvit_tiny", "lightvit_small", "lightvit_base")},
    # GEBD: 16-d features; the local model sees 11-position windows, the decoder 100-position clips with scores
    "gebd_ddm_lite": (dict(dim=16, hidden=16, channels=8, attn_dim=16, heads=2), lambda b: (torch.randn(b, 11, 16),), {}),
    "gebd_tp_lite": (dict(dim=16, d=16, heads=2, ff=32), lambda b: (torch.randn(b, 100, 16), torch.rand(b, 100)), {}),
    # ScaleNet: a nano sub-network at 16 px (the default, ScaleNet-S0, builds the 320 M-parameter supernet first)
    "scalenet_subnet": (dict(space="nano"), lambda b: (torch.randn(b, 3, 16, 16),), {}),
    # StyleGAN-Human: the released architecture at 16 x 8 (channel_base 16384 below 512: 512 channels everywhere)
    "stylegan_human_generator": (dict(resolution=16), lambda b: (torch.randn(b, 512),), {}),
    "stylegan_human_discriminator": (dict(resolution=16), lambda b: (torch.randn(4 * b, 3, 16, 8),), {}),
    # SEMM: E, G, Te, Ta at 16 x 16, narrow; forward = the edit of 2-channel maps to a label [29 weights, age]
    "semm": (dict(size=16, width=0.125, hidden=32, global_dim=16),
             lambda b: (torch.cat([-0.1 * torch.rand(b, 1, 16, 16), torch.rand(b, 1, 16, 16) * 2 - 1], 1),
                        torch.cat([torch.rand(b, 29), torch.rand(b, 1)], 1)), {}),
}
TIMM_MODELS = visionbook.list_models(timm=True)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    "One CPU thread for this file (its time budget is counted on one core); restored afterwards."
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _tensors(out):
    "Every tensor of a model output (tensor, tuple/list or dict)."
    if isinstance(out, torch.Tensor):
        return [out]
    items = out.values() if isinstance(out, dict) else out
    return [t for o in items for t in _tensors(o)]


def _build(name, seed, **extra):
    torch.manual_seed(seed)
    kwargs, _, _ = SPECS[name]
    return visionbook.create_model(name, **{**kwargs, **extra})


def test_every_model_has_a_spec():
    assert visionbook.list_models(), "no model registered: is every chapter importable?"
    missing = sorted(set(visionbook.list_models()) - set(SPECS))
    assert not missing, f"registered models without a spec in tests/test_models.py: {missing}"
    known = {"han_mmil", "jomold_mmil", "jomold_mmil_tiny", "lightvit_tiny", "greenmim_swin_tiny_patch4_window7_224"}
    assert known <= set(visionbook.list_models()), f"not registered: {sorted(known - set(visionbook.list_models()))}"


@pytest.mark.parametrize("name", visionbook.list_models())
def test_build_forward_backward_roundtrip(name, tmp_path):
    if name not in SPECS:
        pytest.fail(f"{name} has no spec in tests/test_models.py")
    _, make_inputs, fwd_kw = SPECS[name]
    model = _build(name, seed=0).train()
    torch.manual_seed(1)
    inputs = make_inputs(2)
    outs = [t for t in _tensors(model(*inputs, **fwd_kw)) if t.is_floating_point()]
    assert outs and all(torch.isfinite(t).all() for t in outs), f"{name}: non-finite output"
    sum(t.float().mean() for t in outs).backward()
    no_grad = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert not no_grad, f"{name}: parameters without a gradient: {no_grad[:5]}"
    # state_dict round trip into an instance initialised differently, through a safetensors file
    model.eval()
    sd = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    save_file(sd, tmp_path / "w.safetensors")
    fresh = _build(name, seed=123, checkpoint_path=tmp_path / "w.safetensors").eval()
    assert sd.keys() == fresh.state_dict().keys()
    with torch.no_grad():
        a, b = _tensors(model(*inputs, **fwd_kw)), _tensors(fresh(*inputs, **fwd_kw))
    assert len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b)), f"{name}: outputs differ after reload"


def test_registries_are_split():
    for name in visionbook.list_models(timm=False):                           # MIM, audio-visual: not in timm
        assert not timm.is_model(name), f"{name} must not be in timm's registry"
    assert TIMM_MODELS == ["lightvit_base", "lightvit_small", "lightvit_tiny"]
    assert set(TIMM_MODELS) <= set(timm.list_models())
    for name in timm.list_models():                                          # nothing in timm's registry lacks a cfg
        assert get_pretrained_cfg_value(name, "input_size") is not None, name


# ---- timm's contract, checked the way timm checks its own models ----

@pytest.mark.parametrize("name", TIMM_MODELS)
def test_timm_default_cfg_complete(name):
    with torch.device("meta"):                                                 # names and shapes only: no init cost
        model = timm.create_model(name, pretrained=False)
    cfg = model.pretrained_cfg
    missing = [k for k in TIMM_CFG_KEYS if cfg.get(k) is None]
    assert not missing, f"{name}: pretrained cfg lacks {missing}"
    assert len(cfg["input_size"]) == 3 and len(cfg["mean"]) == len(cfg["std"]) == cfg["input_size"][0]
    assert cfg["num_classes"] == model.num_classes > 0 and model.num_features > 0 and model.head_hidden_size > 0
    sd, modules = model.state_dict(), dict(model.named_modules())
    for key in ("first_conv", "classifier"):
        names = (cfg[key],) if isinstance(cfg[key], str) else cfg[key]
        for n in names:
            assert n in modules and f"{n}.weight" in sd, f"{name}: cfg {key}={n!r} is not a module with a weight"
    assert model.get_classifier() is modules[cfg["classifier"]]


@pytest.mark.parametrize("name", TIMM_MODELS)
def test_timm_forward_backward(name):
    torch.manual_seed(0)
    model = timm.create_model(name, pretrained=False, num_classes=42).train()
    out = model(torch.randn(2, 3, *get_pretrained_cfg_value(name, "min_input_size")[1:]))
    assert out.shape == (2, 42) and torch.isfinite(out).all()
    out.mean().backward()
    n_params = sum(p.numel() for p in model.parameters())
    n_grad = sum(p.grad.numel() for p in model.parameters() if p.grad is not None)
    assert n_params == n_grad, f"{name}: {n_params - n_grad} parameters without a gradient"


def test_timm_features_head_and_batch_sizes():
    # one model for these: the three LightViTs share the class (and this keeps the file's time down)
    torch.manual_seed(0)
    model = timm.create_model("lightvit_tiny", pretrained=False).eval()
    with torch.no_grad():
        for b in (1, 3):
            x = torch.randn(b, 3, 64, 64)
            feats = model.forward_features(x)
            assert feats.ndim == 3 and feats.shape[0] == b and feats.shape[-1] == model.num_features
            pre = model.forward_head(feats, pre_logits=True)
            assert pre.shape == (b, model.head_hidden_size)
            logits = model(x)
            assert logits.shape == (b, model.num_classes)
            torch.testing.assert_close(model.forward_head(feats), logits)             # features + head == forward
            if b == 3:                                                                 # samples are independent
                torch.testing.assert_close(model(x[:1]), logits[:1], rtol=1e-4, atol=1e-5)
        x = torch.randn(2, 3, 64, 64)
        pre = model.forward_head(model.forward_features(x), pre_logits=True)
        model.reset_classifier(0)
        assert model.num_classes == 0
        torch.testing.assert_close(model(x), pre)                                      # no classifier: the features
        model.reset_classifier(7)
        assert model(x).shape == (2, 7)
        headless = timm.create_model("lightvit_tiny", pretrained=False, num_classes=0).eval()
        assert headless(x).shape == (2, headless.head_hidden_size)


# ---- pretrained=True: a local file or a clear error, never a download ----

def test_pretrained_loads_local_file_or_fails_clearly(tmp_path, monkeypatch):
    monkeypatch.setenv("VISIONBOOK_WEIGHTS_DIR", str(tmp_path))
    for call in (lambda: timm.create_model("lightvit_tiny", pretrained=True),
                 lambda: visionbook.create_model("lightvit_tiny", pretrained=True),
                 lambda: visionbook.create_model("han_mmil", pretrained=True),
                 lambda: visionbook.create_model("resnet18", pretrained=True)):         # a plain timm model too
        with pytest.raises(WeightsNotFoundError, match="Nothing is downloaded") as e:
            call()
        assert str(tmp_path) in str(e.value) and ".safetensors" in str(e.value)
    with pytest.raises(RuntimeError, match="han_mmil"):                                # not in timm's registry
        timm.create_model("han_mmil", pretrained=True)

    torch.manual_seed(0)
    src = timm.create_model("lightvit_tiny")
    save_file({k: v.contiguous() for k, v in src.state_dict().items()}, tmp_path / "lightvit_tiny.safetensors")
    for m in (timm.create_model("lightvit_tiny", pretrained=True), visionbook.create_model("lightvit_tiny", pretrained=True)):
        assert all(torch.equal(a, b) for a, b in zip(src.state_dict().values(), m.state_dict().values()))
    other = tmp_path / "elsewhere.safetensors"                                         # timm's own way to name a file
    (tmp_path / "lightvit_tiny.safetensors").rename(other)
    m = timm.create_model("lightvit_tiny", pretrained=True, pretrained_cfg_overlay=dict(file=str(other)))
    assert torch.equal(m.global_token, src.global_token)
    other.rename(tmp_path / "lightvit_tiny.safetensors")
    ft = timm.create_model("lightvit_tiny", pretrained=True, num_classes=5)             # fine-tuning: new head, rest loaded
    assert ft.head.weight.shape == (5, 1280) and torch.equal(ft.global_token, src.global_token)
    assert visionbook.create_model("lightvit_tiny", pretrained=True, num_classes=0).num_classes == 0
    torch.save({"model": {"head.weight": torch.zeros(3)}}, tmp_path / "lightvit_small.pth")
    with pytest.raises(ValueError, match="lightvit_small.pth does not fit"):
        timm.create_model("lightvit_small", pretrained=True, **_LIGHTVIT_TINY)

    jm = visionbook.create_model("jomold_mmil_tiny")
    torch.save(jm.state_dict(), tmp_path / "jomold_mmil_tiny.pth")
    jm2 = visionbook.create_model("jomold_mmil_tiny", pretrained=True)
    assert all(torch.equal(a, b) for a, b in zip(jm.state_dict().values(), jm2.state_dict().values()))


def test_create_model_refuses_bad_input(tmp_path):
    with pytest.raises(ValueError, match="did you mean.*han_mmil"):
        visionbook.create_model("han_mmill")
    with pytest.raises(FileNotFoundError, match="nope.safetensors"):
        visionbook.create_model("jomold_mmil_tiny", checkpoint_path=tmp_path / "nope.safetensors")
    with pytest.raises(TypeError, match="unexpected keyword|got an unexpected"):
        visionbook.create_model("jomold_mmil_tiny", no_such_arg=1)
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="junk.pt is not a readable weights file"):
        visionbook.create_model("jomold_mmil_tiny", checkpoint_path=tmp_path / "junk.pt")


# ---- import time ----

def test_import_visionbook_is_fast():
    "`import visionbook` costs under 3 s beyond `import torch, timm` (best of up to 3 runs: the CPU is shared)."
    code = textwrap.dedent("""
        import time
        t0 = time.perf_counter(); import torch, timm
        t1 = time.perf_counter(); import visionbook
        t2 = time.perf_counter(); print(t2 - t1)
    """)
    times = []
    for _ in range(3):
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]
        times.append(float(r.stdout.strip().splitlines()[-1]))
        if times[-1] < 3.0:
            break
    assert min(times) < 3.0, f"import visionbook took {min(times):.2f} s beyond torch and timm (runs: {times})"
