"""VGG-19 loading from every supported source, and the Gatys loss built on it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from train_fast.errors import VGGLoadError  # noqa: E402
from train_fast.losses import StyleLoss, gram  # noqa: E402
from train_fast.vgg import CAFFE_BGR, VGGFeatures, load_vgg_weights  # noqa: E402

SHARED_VGG = Path(__file__).resolve().parents[3] / "shared" / "vgg19"  # beside the repo
needs_shared_vgg = pytest.mark.skipif(not SHARED_VGG.is_dir(), reason="../shared/vgg19 absent")


def _numpy_relu1_1(image_bgr: np.ndarray) -> np.ndarray:
    """conv1_1 + ReLU straight from model.json and shard 1, in numpy (an independent reference)."""
    manifest = json.loads((SHARED_VGG / "model.json").read_text())["weightsManifest"][0]
    kspec, bspec = manifest["weights"][0], manifest["weights"][1]
    raw = np.fromfile(SHARED_VGG / manifest["paths"][0], dtype=np.uint8)
    nk = int(np.prod(kspec["shape"]))
    kq, bq = kspec["quantization"], bspec["quantization"]
    kernel = raw[:nk].astype(np.float64) * kq["scale"] + kq["min"]  # HWIO
    bias = raw[nk : nk + 64].astype(np.float64) * bq["scale"] + bq["min"]
    kernel = kernel.reshape(kspec["shape"])
    x = image_bgr.astype(np.float64) - np.array([103.939, 116.779, 123.68])
    x = np.pad(x, ((1, 1), (1, 1), (0, 0)))
    h, w = image_bgr.shape[:2]
    out = np.zeros((h, w, 64))
    for dy in range(3):
        for dx in range(3):
            out += x[dy : dy + h, dx : dx + w] @ kernel[dy, dx]
    return np.maximum(out + bias, 0).transpose(2, 0, 1)


@needs_shared_vgg
def test_tfjs_loader_reproduces_numpy_conv1_1() -> None:
    weights = load_vgg_weights(SHARED_VGG)
    assert weights.convention == CAFFE_BGR
    image = np.random.default_rng(0).integers(0, 256, (20, 24, 3)).astype(np.uint8)
    features = VGGFeatures(weights, ["relu1_1"])
    x = torch.from_numpy(image.transpose(2, 0, 1).copy()).float()[None]
    ours = features(x)["relu1_1"][0].double().numpy()
    ref = _numpy_relu1_1(image)
    assert np.abs(ours - ref).max() < 1e-3 * max(1.0, np.abs(ref).max())


@needs_shared_vgg
def test_tfjs_grams_distinguish_images() -> None:
    weights = load_vgg_weights(SHARED_VGG)
    features = VGGFeatures(weights, ["relu3_1"])
    rng = np.random.default_rng(1)
    smooth = torch.linspace(0, 255, 64).repeat(3, 64, 1)[None]
    noise = torch.from_numpy(rng.integers(0, 256, (1, 3, 64, 64))).float()
    g1, g2 = gram(features(smooth)["relu3_1"]), gram(features(noise)["relu3_1"])
    assert ((g1 - g2).norm() / g1.norm()) > 0.5
    assert torch.allclose(gram(features(smooth)["relu3_1"]), g1)


def test_torchvision_state_dict_matches_torchvision(tiny_vgg_pth: Path) -> None:
    from torchvision.models import vgg19

    weights = load_vgg_weights(tiny_vgg_pth)
    reference = vgg19(weights=None).features.eval()
    reference.load_state_dict(
        {k.removeprefix("features."): v for k, v in torch.load(tiny_vgg_pth).items()}
    )
    image = torch.rand(1, 3, 32, 32) * 255
    ours = VGGFeatures(weights, ["relu2_1"])(image)["relu2_1"]
    normalised = (image.flip(1) / 255 - torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)) / (
        torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    )
    theirs = reference[:7](normalised)  # up to relu2_1
    assert torch.allclose(ours, theirs, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize(
    ("name", "content"),
    [("empty.pth", b""), ("garbage.pth", b"not a checkpoint"), ("weights.bin", b"x")],
)
def test_corrupt_vgg_files_raise_clear_errors(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(VGGLoadError):
        load_vgg_weights(path)


def test_missing_vgg_and_broken_tfjs(tmp_path: Path) -> None:
    with pytest.raises(VGGLoadError, match="not found"):
        load_vgg_weights(tmp_path / "nope.pth")
    (tmp_path / "model.json").write_text("{not json")
    with pytest.raises(VGGLoadError):
        load_vgg_weights(tmp_path)


def test_wrong_state_dict_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "other.pth"
    torch.save({"features.0.weight": torch.zeros(3)}, path)
    with pytest.raises(VGGLoadError):
        load_vgg_weights(path)


def test_style_loss_is_zero_at_its_targets(tiny_vgg_pth: Path) -> None:
    weights = load_vgg_weights(tiny_vgg_pth)
    style = torch.rand(1, 3, 32, 32) * 255
    loss = StyleLoss(weights, [style])
    terms = loss(style, loss.content_targets(style))
    assert float(terms["style"]) < 1e-5 and float(terms["content"]) < 1e-6
    other = torch.rand(1, 3, 32, 32) * 255
    assert float(loss(other, loss.content_targets(style))["style"]) > 1e-3


def test_matconvnet_mat_loader(tmp_path: Path, tiny_vgg_pth: Path) -> None:
    """A MatConvNet-layout .mat (HWIO kernels, fully connected layers mixed in) loads in order."""
    scipy_io = pytest.importorskip("scipy.io")
    reference = load_vgg_weights(tiny_vgg_pth)
    layers = []
    for i, (kernel, bias) in enumerate(reference.convs):
        hwio = kernel.numpy().transpose(2, 3, 1, 0)
        layers.append(
            {
                "name": f"conv{i}",
                "type": "conv",
                "weights": np.array([[hwio, bias.numpy()[:, None]]], dtype=object),
            }
        )
        layers.append({"name": f"relu{i}", "type": "relu"})
    fc = np.zeros((7, 7, 512, 8), np.float32)  # an fc layer stored as a conv, skipped
    layers.append(
        {
            "name": "fc6",
            "type": "conv",
            "weights": np.array([[fc, np.zeros((8, 1), np.float32)]], dtype=object),
        }
    )
    cells = np.empty((1, len(layers)), dtype=object)
    for i, layer in enumerate(layers):
        cells[0, i] = layer
    path = tmp_path / "imagenet-vgg-verydeep-19.mat"
    scipy_io.savemat(path, {"layers": cells})
    loaded = load_vgg_weights(path)
    assert loaded.source.startswith("matconvnet:") and loaded.convention.channel_order == "rgb"
    for (k1, b1), (k2, b2) in zip(loaded.convs, reference.convs, strict=True):
        assert torch.equal(k1, k2) and torch.equal(b1, b2)
