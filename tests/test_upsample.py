"""Painting at the model's size and the guided upsampling back to the frame's size."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from tiny_model import build_tiny_model, expected_output

from stream_nst import Stylizer, StylizeSettings
from stream_nst import upsample as upsample_module
from stream_nst.engine import painting_size
from stream_nst.errors import ModelError
from stream_nst.upsample import GuidedUpsampler


def _photo(height: int = 360, width: int = 640) -> np.ndarray:
    """A frame with sharp edges and smooth shading (text, boxes, a gradient)."""
    y, x = np.mgrid[0:height, 0:width]
    image = np.dstack([x * 200 // width, y * 200 // height, (x + y) * 100 // (width + height)])
    image = image.astype(np.uint8)
    cv2.rectangle(image, (width // 5, height // 4), (width // 2, height // 2), (250, 250, 250), -1)
    cv2.putText(image, "stream-nst", (width // 10, 3 * height // 4), 0, 2.0, (10, 40, 200), 4)
    return image


def test_painting_size_keeps_the_short_side_and_bounds_the_area() -> None:
    assert painting_size(1280, 720, 360) == (640, 360)
    assert painting_size(640, 480, 360) == (480, 360)
    assert painting_size(320, 240, 360) == (480, 360)  # small frames are painted larger
    assert painting_size(3840, 2160, 360) == (640, 360)
    w, h = painting_size(16, 1000, 360)  # elongated: no more pixels than a 640x360 frame
    assert w * h <= 640 * 360 * 1.01
    assert painting_size(1280, 720, None) == (1280, 720)
    assert painting_size(1280, 720, None, max_size=640) == (640, 360)
    assert painting_size(1280, 720, 360, max_size=320) == (320, 180)


def test_guided_upsampling_restores_the_frames_edges() -> None:
    frame = _photo(720, 1280)
    small = cv2.resize(frame, (640, 360), interpolation=cv2.INTER_AREA)
    guided = GuidedUpsampler().upsample(small, small, frame)
    bilinear = cv2.resize(small, (1280, 720), interpolation=cv2.INTER_LINEAR)
    assert guided.shape == frame.shape and guided.dtype == np.uint8

    def error(image: np.ndarray) -> np.ndarray:  # in brightness: the edges it restores
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(int)
        return np.abs(grey - cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY).astype(int))

    edges = error(bilinear) > 8  # where plain upsampling blurs
    assert edges.mean() > 0.002
    assert error(guided)[edges].mean() < 0.6 * error(bilinear)[edges].mean()


def test_flat_painting_stays_flat() -> None:
    frame = _photo(720, 1280)
    small = cv2.resize(frame, (640, 360), interpolation=cv2.INTER_AREA)
    flat = np.full_like(small, (30, 120, 210))
    out = GuidedUpsampler().upsample(flat, small, frame)
    assert np.abs(out.astype(int) - (30, 120, 210)).max() <= 1


def test_bands_give_the_same_picture(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = _photo(700, 1000)
    small = cv2.resize(frame, (500, 350), interpolation=cv2.INTER_AREA)
    painted = 255 - small
    whole = GuidedUpsampler().upsample(painted, small, frame)
    monkeypatch.setattr(upsample_module, "BAND_PIXELS", 1000 * 64)
    banded = GuidedUpsampler().upsample(painted, small, frame)
    assert np.abs(whole.astype(int) - banded.astype(int)).max() <= 1


def _model_with_paint_size(path: Path, paint_size: str) -> Path:
    return build_tiny_model(
        path,
        pad_multiple=8,
        metadata={
            "format_version": "1",
            "input_convention": "bgr_uint8_nhwc",
            "pad_multiple": "8",
            "style_name": "tiny",
            "paint_size": paint_size,
        },
    )


def test_stylizer_paints_at_the_models_size(tmp_path: Path) -> None:
    stylizer = Stylizer(_model_with_paint_size(tmp_path / "tiny.onnx", "180"))
    seen: list[tuple[int, ...]] = []
    run = stylizer.model.run
    stylizer.model.run = lambda image: (seen.append(image.shape), run(image))[1]  # type: ignore[method-assign]
    frame = _photo(720, 1280)
    out = stylizer.stylize(frame)
    assert seen == [(180, 320, 3)]
    assert out.shape == frame.shape
    # The tiny model's inversion survives the round trip (away from the sharpest edges).
    diff = np.abs(out.astype(int) - expected_output(frame).astype(int))
    assert np.median(diff) <= 3
    seen.clear()
    stylizer.settings = StylizeSettings(paint_size=360)  # the caller's size wins
    stylizer.stylize(frame)
    assert seen == [(360, 640, 3)]


def test_a_bad_paint_size_is_a_model_error(tmp_path: Path) -> None:
    stylizer = Stylizer(_model_with_paint_size(tmp_path / "bad.onnx", "huge"))
    with pytest.raises(ModelError, match="paint_size"):
        stylizer.stylize(_photo())


def test_detail_is_added_with_saturation_both_ways() -> None:
    rng = np.random.default_rng(0)
    painted = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
    gain = rng.uniform(0.0, 3.0, (40, 60)).astype(np.float32)
    low = rng.uniform(0.0, 1.0, (40, 60)).astype(np.float32)
    frame = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY).astype(np.float32) / 255.0
    detail = (grey - low) * gain * 255.0
    expected = np.clip(painted + detail[..., None], 0, 255)
    out = upsample_module._combine(painted, gain, low, frame)
    assert np.abs(out - expected).max() <= 0.5 + 1e-3  # rounded to the nearest level
    assert (out == 255).any() and (out == 0).any()
