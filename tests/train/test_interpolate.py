"""`stream-nst interpolate`: a network between two versions of one style's network."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from train_fast.artworks import artwork_for  # noqa: E402
from train_fast.errors import ModelError, UsageError  # noqa: E402
from train_fast.export import export_onnx, read_onnx_weights  # noqa: E402
from train_fast.interpolate import interpolate  # noqa: E402
from train_fast.nets import build_net  # noqa: E402


def _version(path: Path, seed: int, *, style: str = "x", arch: str = "paintnet") -> Path:
    """A network of ``style`` with weights of its own (``seed``), exported to ``path``."""
    net = build_net(arch)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in net.parameters():
            param.add_(torch.randn(param.shape, generator=gen) * 0.05)
    training = {"steps": 100 + seed, "stability_weight": 10.0 * seed}
    export_onnx(
        net,
        path,
        style_name=style,
        artwork=artwork_for(style),
        architecture=arch,
        training=training,
        vgg_source="none",
        paint_size=64,
    )
    return path


def _paint(path: Path, frame: np.ndarray) -> np.ndarray:
    return ort.InferenceSession(str(path)).run(None, {"frame": frame})[0].astype(float)


def test_the_weights_are_mixed_by_the_share_and_the_metadata_records_both(
    tmp_path: Path,
) -> None:
    a, b = _version(tmp_path / "a.onnx", 1), _version(tmp_path / "b.onnx", 2)
    out = tmp_path / "mixed.onnx"
    report = interpolate(a, b, 0.25, out)
    assert report.path == out and report.max_abs_diff <= 2
    (wa, meta_a), (wb, meta_b), (wm, meta) = map(read_onnx_weights, (a, b, out))
    for key, weight in wa.items():
        if weight.is_floating_point():
            assert torch.allclose(wm[key], 0.75 * weight + 0.25 * wb[key], atol=1e-6), key
    training = json.loads(meta["training"])
    assert training["steps"] == 101  # the first network's record: training continues it
    assert training["interpolated_with"] == {
        "model": "b.onnx",
        "share": 0.25,
        "training": json.loads(meta_b["training"]),
    }
    assert {k: v for k, v in meta.items() if k != "training"} == {
        k: v for k, v in meta_a.items() if k != "training"
    }


def test_the_ends_of_the_range_paint_like_either_network(tmp_path: Path) -> None:
    a, b = _version(tmp_path / "a.onnx", 1), _version(tmp_path / "b.onnx", 2)
    frame = np.random.default_rng(0).integers(0, 256, (1, 48, 64, 3), dtype=np.uint8)
    for share, same in ((0.0, a), (1.0, b)):
        out = interpolate(a, b, share, tmp_path / f"at{share}.onnx").path
        assert np.abs(_paint(out, frame) - _paint(same, frame)).max() <= 1
    halfway = _paint(interpolate(a, b, 0.5, tmp_path / "half.onnx").path, frame)
    assert np.abs(halfway - _paint(a, frame)).mean() > 1  # a network of its own


def test_only_versions_of_one_style_and_network_are_interpolated(tmp_path: Path) -> None:
    a = _version(tmp_path / "a.onnx", 1)
    other_style = _version(tmp_path / "y.onnx", 2, style="y")
    other_net = _version(tmp_path / "r.onnx", 2, arch="rtnet")
    with pytest.raises(ModelError, match="differ in style_name"):
        interpolate(a, other_style, 0.5, tmp_path / "out.onnx")
    with pytest.raises(ModelError, match="differ in architecture"):
        interpolate(a, other_net, 0.5, tmp_path / "out.onnx")
    with pytest.raises(UsageError, match=r"in \[0, 1\]"):
        interpolate(a, a, 1.5, tmp_path / "out.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="not an ONNX model"):
        interpolate(a, junk, 0.5, tmp_path / "out.onnx")
    assert not (tmp_path / "out.onnx").exists()


def test_the_command_writes_the_model_and_refuses_to_replace_one(run_cli, tmp_path: Path) -> None:
    a, b = _version(tmp_path / "a.onnx", 1), _version(tmp_path / "b.onnx", 2)
    out = tmp_path / "models" / "x.onnx"
    done = run_cli("interpolate", a, b, "--share", "0.3", "-o", out)
    assert done.code == 0, done.err
    assert out.is_file() and "0.7 x" in done.out
    again = run_cli("interpolate", a, b, "--share", "0.3", "-o", out)
    assert again.code == 2 and "already exists" in again.err and "--resume" not in again.err
    assert len(again.err.strip().splitlines()) == 1
    missing = run_cli("interpolate", a, tmp_path / "no.onnx", "--share", "0.3", "-o", out, "-y")
    assert missing.code == 2 and "cannot read model" in missing.err
