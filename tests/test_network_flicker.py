"""benchmarks/network_flicker.py: the clips' warping errors, per frame and smoothed."""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import cv2
import numpy as np

from benchmarks.network_flicker import FlickerClips
from stream_nst import Stylizer
from stream_nst.flicker import MotionEstimator
from stream_nst.sequence import SequenceStylizer


def _still_clip(frames: int) -> list[np.ndarray]:
    """A still textured scene: every frame the same picture."""
    rng = np.random.default_rng(0)
    return [cv2.resize(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8), (128, 96))] * frames


def _clips(frames: list[np.ndarray]) -> FlickerClips:
    estimate = MotionEstimator()
    return FlickerClips({"c": frames}, {"c": [estimate(a, b) for a, b in pairwise(frames)]})


def _with_noise(seed: int) -> Callable[[np.ndarray], np.ndarray]:
    rng = np.random.default_rng(seed)
    return lambda frame: cv2.add(frame, rng.integers(0, 30, frame.shape, dtype=np.uint8))


def test_a_still_clip_scores_as_steady_and_noise_as_flicker() -> None:
    clips = _clips(_still_clip(4))
    assert clips.error("c", lambda f: f) == 0.0
    assert clips.error("c", _with_noise(1)) > 0.0


def test_the_smoothed_pipeline_flickers_less_than_each_frame_alone(tiny_model: Path) -> None:
    still = _still_clip(10)
    clips = FlickerClips(
        {"c": [_with_noise(t)(f) for t, f in enumerate(still)]}, _clips(still).motions
    )
    stylizer = Stylizer(tiny_model)
    alone = clips.error("c", stylizer.stylize)
    smoothed = clips.error("c", SequenceStylizer(stylizer))
    assert 0.0 < smoothed < alone


def test_a_later_window_or_the_rest_of_the_clips_leaves_out_clips_too_short(tmp_path: Path) -> None:
    from benchmarks.network_flicker import CLIPS

    videos = tmp_path / "videos"
    long_clip, short_clip = videos / CLIPS[0], videos / CLIPS[1]
    for folder, count in ((long_clip, 8), (short_clip, 4)):
        folder.mkdir(parents=True)
        for index, frame in enumerate(_still_clip(count)):
            shade = frame // 2 + index  # numbered frames, to tell the window by
            cv2.imwrite(str(folder / f"frame_{index:02d}.png"), shade)
    clips = FlickerClips.load(videos, frames=3, max_width=640, start=4)
    assert list(clips.frames) == [CLIPS[0]]
    first = cv2.imread(str(long_clip / "frame_04.png"))
    assert [len(clips.frames[CLIPS[0]]), len(clips.motions[CLIPS[0]])] == [3, 2]
    assert np.array_equal(clips.frames[CLIPS[0]][0], first)
    to_the_end = FlickerClips.load(videos, frames=None, max_width=640, start=4)
    assert [len(to_the_end.frames[CLIPS[0]]), len(to_the_end.motions[CLIPS[0]])] == [4, 3]
    assert list(to_the_end.frames) == [CLIPS[0]]  # 4 frames of 4 leave nothing from frame 4
