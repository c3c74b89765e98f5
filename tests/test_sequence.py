"""Stylizing a sequence of frames (stream_nst.sequence): paint, smooth the painting, finish."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tiny_model import build_tiny_model

from stream_nst import sequence as sequence_module
from stream_nst.engine import Stylizer
from stream_nst.sequence import SequenceStylizer
from stream_nst.smooth import SmoothSettings, make_smoother


@pytest.fixture(scope="module")
def painting_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model, painting every frame at 180 px short side."""
    return build_tiny_model(
        tmp_path_factory.mktemp("models") / "tiny.onnx", pad_multiple=8, paint_size=180
    )


def _shading(height: int = 360, width: int = 640) -> np.ndarray:
    """Shading under vertical stripes 4 px wide: edges everywhere, which the painting follows."""
    y, x = np.mgrid[0:height, 0:width]
    image = np.dstack([x * 120 // width, y * 120 // height, (x + y) * 60 // (width + height)])
    return (image + 60 + np.where(x % 8 < 4, 60, 0)[..., np.newaxis]).astype(np.uint8)


def _fine_detail(height: int = 360, width: int = 640) -> np.ndarray:
    """A one-pixel checkerboard of +-30: it averages out in every 2x2 block."""
    y, x = np.mgrid[0:height, 0:width]
    return np.where((x + y) % 2 == 0, 30, -30)[..., np.newaxis]


def test_the_smoother_sees_the_painting_not_the_full_frame(
    painting_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[tuple[int, ...], tuple[int, ...]]] = []

    def spying(settings: SmoothSettings):
        smoother = make_smoother(settings)

        def smooth(source: np.ndarray, painted: np.ndarray) -> np.ndarray:
            seen.append((source.shape, painted.shape))
            return smoother(source, painted)

        smooth.reset = smoother.reset  # type: ignore[attr-defined]
        return smooth

    monkeypatch.setattr(sequence_module, "make_smoother", spying)
    sequence = SequenceStylizer(Stylizer(painting_model))
    frame = _shading()
    out = sequence(frame)
    assert out.shape == frame.shape
    assert seen == [((180, 320, 3), (180, 320, 3))]


def test_a_still_scene_comes_out_as_a_single_frame_does(painting_model: Path) -> None:
    stylizer = Stylizer(painting_model)
    sequence = SequenceStylizer(stylizer)
    frame = _shading()
    alone = stylizer.stylize(frame).astype(int)
    for _ in range(4):
        out = sequence(frame)
        assert np.abs(out.astype(int) - alone).max() <= 2


def test_the_frames_own_fine_detail_is_never_carried_over(painting_model: Path) -> None:
    # Two frames with the same coarse picture (the same painting) but opposite fine detail:
    # the second comes out as it does alone, not blended with the first one's detail, as
    # smoothing the full-size output would do (80 % of the previous frame there).
    stylizer = Stylizer(painting_model)
    sequence = SequenceStylizer(stylizer)
    base, detail = _shading().astype(int), _fine_detail()
    first = np.clip(base + detail, 0, 255).astype(np.uint8)
    second = np.clip(base - detail, 0, 255).astype(np.uint8)
    sequence(first)
    out = sequence(second).astype(int)
    alone = stylizer.stylize(second).astype(int)
    assert np.abs(out - alone).max() <= 2
    assert np.abs(out - stylizer.stylize(first).astype(int)).mean() > 10


def test_smoothing_off_is_the_single_frame_output(painting_model: Path) -> None:
    stylizer = Stylizer(painting_model)
    sequence = SequenceStylizer(stylizer, SmoothSettings(enabled=False))
    frames = [_shading(), np.roll(_shading(), 9, axis=1)]
    for frame in frames:
        np.testing.assert_array_equal(sequence(frame), stylizer.stylize(frame))
