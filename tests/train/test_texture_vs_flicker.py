"""benchmarks/texture_vs_flicker.py: the softened painting and the verdict on both bars."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("torch")  # the script scores texture with quality.py's VGG-19

from benchmarks.texture_vs_flicker import Point, SoftenedStylizer, trades_off
from stream_nst import Stylizer
from tests.tiny_model import build_tiny_model


@pytest.fixture(scope="module")
def painting_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model, painting at 48 px: frames go through paint, upsample and finish."""
    return build_tiny_model(tmp_path_factory.mktemp("m") / "tiny.onnx", paint_size=48)


def _noisy_frame() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (96, 128, 3), dtype=np.uint8)


def test_no_softening_is_the_stylizer_itself(painting_model: Path) -> None:
    frame = _noisy_frame()
    expected = Stylizer(painting_model).stylize(frame)
    assert np.array_equal(SoftenedStylizer(Stylizer(painting_model), 0.0).stylize(frame), expected)


def test_softening_keeps_the_size_and_removes_fine_detail(painting_model: Path) -> None:
    frame = _noisy_frame()
    sharp = Stylizer(painting_model).stylize(frame)
    soft = SoftenedStylizer(Stylizer(painting_model), 1.5).stylize(frame)
    assert soft.shape == sharp.shape and soft.dtype == np.uint8
    assert cv2.Laplacian(soft, cv2.CV_64F).var() < cv2.Laplacian(sharp, cv2.CV_64F).var()


def _point(gram: float, sigma: float = 0.7, **flicker: float) -> Point:
    ratios = {"cup.mp4": 0.9, "vtest.avi": 0.8, "tree.avi": 0.7} | {
        f"{k}.avi": v for k, v in flicker.items()
    }
    return Point("candy", sigma, gram, 0.598, ratios)


def test_a_point_meets_both_bars_only_with_texture_and_every_clip_steady() -> None:
    assert _point(0.59).row()[-1] == "**both**"
    assert _point(0.61).row()[-1] == "no"  # texture behind the peer's
    assert _point(0.59, tree=1.2).row()[-1] == "no"  # a held-out clip flickers more
    row = _point(0.59, vtest=1.5).row()
    assert row[4] == "1 of 2" and row[5] == "1.50" and row[-1] == "no"


def test_the_trade_holds_only_when_every_step_of_softening_trades() -> None:
    sharp, soft = _point(0.59, 0.0, vtest=1.5), _point(0.70, 1.2, vtest=0.95)
    assert trades_off([soft, sharp])
    assert not trades_off([sharp, _point(0.58, 1.2, vtest=0.95)])  # texture gained
    assert not trades_off([sharp, _point(0.70, 1.2, vtest=1.6)])  # flicker grew
