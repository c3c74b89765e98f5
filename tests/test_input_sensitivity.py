"""benchmarks/input_sensitivity.py: the compression column's two captures."""

from __future__ import annotations

import cv2
import numpy as np

from benchmarks.input_sensitivity import compressed_capture, compression_change


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
