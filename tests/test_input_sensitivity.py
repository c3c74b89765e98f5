"""benchmarks/input_sensitivity.py: the compression column's two captures and the plain area."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from benchmarks.input_sensitivity import (
    CROP,
    PLAIN_NOISE,
    compressed_capture,
    compression_change,
    plain_half,
    plain_noise_change,
)


class _Identity:
    """A "network" that returns its input."""

    def run(self, image: np.ndarray) -> np.ndarray:
        return image


def test_two_compressed_captures_of_a_photo_differ_a_little() -> None:
    rng = np.random.default_rng(0)
    photo = cv2.resize(rng.integers(0, 256, (12, 12, 3), dtype=np.uint8), (96, 96))
    first, second = (compressed_capture(photo, 25, rng) for _ in range(2))
    assert first.shape == photo.shape and first.dtype == np.uint8
    assert np.abs(first.astype(int) - second).max() > 0
    low = np.mean([compression_change(_Identity(), photo, rng) for _ in range(4)])
    clean = np.mean(np.square((first.astype(np.float32) - photo) / 255.0))
    assert 0 < low < clean  # the captures differ far less than compression changes the photo


class _Stretch:
    """A "network" that stretches its input's contrast to a fixed standard deviation (64
    levels), as instance norm does to whatever variation a frame has."""

    def run(self, image: np.ndarray) -> np.ndarray:
        x = image.astype(np.float32)
        return np.clip((x - x.mean()) / (x.std() + 1e-3) * 64 + 128, 0, 255).astype(np.uint8)


def _photo() -> np.ndarray:
    rng = np.random.default_rng(1)
    return cv2.resize(rng.integers(0, 256, (11, 11, 3), dtype=np.uint8), (CROP, CROP))


def test_the_plain_half_is_one_colour_and_the_photo_half_is_kept() -> None:
    photo = _photo()
    plain = plain_half(photo)
    right = plain[:, CROP // 2 :].reshape(-1, 3)
    assert (right == right[0]).all()
    assert np.abs(right[0].astype(float) - photo.mean(axis=(0, 1))).max() <= 0.5
    assert (plain[:, : CROP // 2] == photo[:, : CROP // 2]).all()


def test_noise_on_a_plain_area_changes_a_copy_by_the_noise_and_an_amplifier_by_more() -> None:
    rng = np.random.default_rng(0)
    copy = plain_noise_change(_Identity(), _photo(), rng)
    assert copy == pytest.approx((PLAIN_NOISE / 255) ** 2, rel=0.2)  # uint8 rounding
    flat = np.full((CROP, CROP, 3), 128, np.uint8)  # all plain: the noise is all there is
    assert plain_noise_change(_Stretch(), flat, rng) > 100 * copy
