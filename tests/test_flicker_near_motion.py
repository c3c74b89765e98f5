"""benchmarks/flicker_near_motion.py: the split of the warping error by nearness to motion."""

from __future__ import annotations

from itertools import pairwise

import cv2
import numpy as np

from benchmarks.flicker_near_motion import (
    motion_distance,
    moving_things_picture,
    split_error,
    still_change,
)
from stream_nst.flicker import Motion, MotionEstimator


def _clip() -> list[np.ndarray]:
    """A still textured scene with a square moving right by 3 px per frame."""
    rng = np.random.default_rng(0)
    scene = cv2.resize(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8), (128, 96))
    patch = cv2.resize(rng.integers(0, 256, (4, 4, 3), dtype=np.uint8), (20, 20))
    frames = []
    for t in range(6):
        frame = scene.copy()
        frame[38:58, 20 + 3 * t : 40 + 3 * t] = patch
        frames.append(frame)
    return frames


def _motions_and_near(frames: list[np.ndarray]) -> tuple[list[Motion], list[np.ndarray]]:
    """The clip's motions and, for each, the pixels near something moving."""
    motions = [MotionEstimator()(a, b) for a, b in pairwise(frames)]
    return motions, [motion_distance(m, moving=0.5) <= 8 for m in motions]


def _distances(frames: list[np.ndarray]) -> list[np.ndarray]:
    """Each pixel's distance from the nearest moving one, per pair of frames."""
    return [motion_distance(MotionEstimator()(a, b), moving=0.5) for a, b in pairwise(frames)]


def test_the_moving_square_is_near_motion_and_the_scene_is_still() -> None:
    _, near = _motions_and_near(_clip())
    for mask, t in zip(near, range(1, 6), strict=True):
        assert mask[48, 30 + 3 * t]  # the square's centre
        assert not mask[:20].any() and not mask[:, 100:].any()  # far from it


def test_noise_on_the_still_scene_counts_as_still_error() -> None:
    frames = _clip()
    motions, near = _motions_and_near(frames)
    rng = np.random.default_rng(1)
    noisy = [np.clip(f + rng.normal(0, 8, f.shape), 0, 255).astype(np.uint8) for f in frames]
    _, clean_still = split_error(frames, motions, near)
    share, noisy_still = split_error(noisy, motions, near)
    assert clean_still < 0.05  # ×10⁻³: the still scene carried along its flow is itself
    assert noisy_still > 10 * max(clean_still, 0.01)
    assert share < 0.5  # the noise is everywhere, most of it on the still pixels


def test_a_painting_that_spreads_around_what_moves_changes_the_still_pixels() -> None:
    """What the second table tells apart: a network that paints a halo around a moving
    thing changes the still pixels' painting with the moving things; one that copies the
    frame does not, and noise on the still pixels shows up as *the rest* instead."""
    frames = _clip()

    def halo(frame: np.ndarray) -> np.ndarray:  # each pixel spreads 15 px around
        return cv2.blur(frame, (31, 31))

    def copy(frame: np.ndarray) -> np.ndarray:
        return frame

    distances = _distances(frames)
    spread = still_change(halo, frames, [halo(f) for f in frames], distances, reach=8)
    copied = still_change(copy, frames, frames, distances, reach=8)
    assert spread.moving > 0.001 and copied.moving == 0.0 and copied.rest == 0.0
    rng = np.random.default_rng(2)
    noisy = [np.clip(f + rng.normal(0, 8, f.shape), 0, 255).astype(np.uint8) for f in frames]
    noisy_change = still_change(copy, noisy, noisy, distances, reach=8)
    assert noisy_change.moving == 0.0 and noisy_change.rest > 0.5


def test_the_third_table_says_how_far_a_painting_spreads_around_what_moves() -> None:
    """A painting that spreads each pixel 12 px around changes the still pixels (over 8 px
    from a moving pixel) up to 12 px from one; one that spreads 24 px, up to 24 px; neither
    changes those beyond 32 px."""
    frames = _clip()
    distances = _distances(frames)

    def spread(radius: int):
        def paint(frame: np.ndarray) -> np.ndarray:
            return cv2.blur(frame, (2 * radius + 1, 2 * radius + 1))

        return still_change(paint, frames, [paint(f) for f in frames], distances, reach=8)

    narrow, wide = spread(12).by_distance, spread(24).by_distance
    assert narrow[0] > 0.001 and narrow[1] == 0.0 and narrow[2] == 0.0
    assert wide[1] > 0.001 and wide[2] == 0.0


def test_the_picture_shows_each_painting_and_its_change_from_the_moving_things() -> None:
    frames = _clip()
    _, near = _motions_and_near(frames)
    paintings = {"copy": lambda f: f, "halo": lambda f: cv2.blur(f, (31, 31))}
    picture = moving_things_picture(paintings, frames, near, height=96)
    band = 24  # the label above each row
    assert picture.shape[0] == 3 * (96 + band)
    right = picture.shape[1] - 128  # the change panels (the clip is 128 px wide)
    copy_change = picture[2 * band + 96 : 2 * (band + 96), right:]
    halo_change = picture[3 * band + 2 * 96 :, right:]
    far = ~near[min(5, len(near) - 1)]  # the still pixels
    assert copy_change[far].max() <= 4 < 20 < halo_change[far].max()  # inferno: 0 is dark
