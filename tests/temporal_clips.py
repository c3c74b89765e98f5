"""Synthetic clips with known motion for the flicker-metric and smoother tests."""

from __future__ import annotations

import cv2
import numpy as np


def texture(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A BGR uint8 texture with structure at several scales (flow can lock onto it)."""
    rng = np.random.default_rng(seed)
    layers = [
        cv2.resize(rng.random((height // s + 1, width // s + 1, 3), np.float32), (width, height))
        for s in (2, 5, 13)
    ]
    return np.clip(sum(layers) / len(layers) * 255.0, 0, 255).astype(np.uint8)


def panning(frames: int, step: tuple[int, int], size=(96, 128), seed: int = 0) -> list[np.ndarray]:
    """A camera pan: windows of a larger texture, moving by ``step`` (dx, dy) pixels a frame."""
    height, width = size
    dx, dy = step
    margin_x, margin_y = abs(dx) * frames, abs(dy) * frames
    canvas = texture(height + margin_y, width + margin_x, seed)
    x0 = 0 if dx >= 0 else margin_x
    y0 = 0 if dy >= 0 else margin_y
    return [
        canvas[y0 + t * dy : y0 + t * dy + height, x0 + t * dx : x0 + t * dx + width].copy()
        for t in range(frames)
    ]


def moving_square(
    frames: int, step: int = 4, size=(96, 128), side: int = 32, seed: int = 0
) -> tuple[list[np.ndarray], list[int]]:
    """A textured square sliding right over a static textured background.

    Returns the frames and the square's left edge in each frame (its top is at
    ``(height - side) // 2``).
    """
    height, width = size
    background = texture(height, width, seed)
    square = cv2.bitwise_not(texture(side, side, seed + 1))
    top = (height - side) // 2
    clip, lefts = [], []
    for t in range(frames):
        left = 8 + t * step
        frame = background.copy()
        frame[top : top + side, left : left + side] = square
        clip.append(frame)
        lefts.append(left)
    return clip, lefts


def stylize(frame: np.ndarray) -> np.ndarray:
    """A deterministic per-pixel "style": it moves exactly with the content."""
    return cv2.applyColorMap(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), cv2.COLORMAP_JET)


def with_noise(frames: list[np.ndarray], sigma: float, seed: int = 0) -> list[np.ndarray]:
    """Independent Gaussian noise on every frame: flicker."""
    rng = np.random.default_rng(seed)
    return [np.clip(f + rng.normal(0.0, sigma, f.shape), 0, 255).astype(np.uint8) for f in frames]
