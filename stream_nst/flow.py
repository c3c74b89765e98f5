"""Dense optical flow and warping, shared by the smoother and the flicker metric.

Convention used throughout: a *backward* flow ``flow`` for frame t holds, at each pixel
``(x, y)`` of frame t, the offset to where that point was in frame t-1, so frame t-1 is
brought into frame t's coordinates by sampling it at ``(x, y) + flow`` (:func:`warp`).
Flows are float32 ``HxWx2`` arrays, ``(dx, dy)`` in pixels.

Both users run OpenCV's DIS (Kroeger et al. 2016, "Fast Optical Flow using Dense Inverse
Search"): the smoother at its ultrafast preset on small frames, the metric at its medium
preset at full resolution.
"""

from __future__ import annotations

import cv2
import numpy as np


def backward_flow(
    estimator: cv2.DISOpticalFlow, gray: np.ndarray, prev_gray: np.ndarray
) -> np.ndarray:
    """Flow from ``gray`` (frame t) to ``prev_gray`` (frame t-1), both uint8 single-channel.

    ``estimator`` is a ``cv2.DISOpticalFlow_create(preset)``; it keeps no state between
    calls that matters here (initial flows are off by default).
    """
    return estimator.calc(gray, prev_gray, None)


def to_gray(bgr: np.ndarray) -> np.ndarray:
    """uint8 BGR -> uint8 luma."""
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)


def pixel_grid(height: int, width: int) -> np.ndarray:
    """float32 ``HxWx2`` array holding each pixel's own ``(x, y)``."""
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    return np.dstack((xs, ys))


def sampling_map(flow: np.ndarray, grid: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Absolute sampling positions ``grid + flow`` for :func:`cv2.remap` (into ``out``)."""
    return cv2.add(grid, flow, dst=out)


def warp(image: np.ndarray, flow: np.ndarray, grid: np.ndarray | None = None) -> np.ndarray:
    """Bring the previous frame ``image`` into the current frame along backward ``flow``.

    Bilinear sampling; positions outside the frame repeat the border pixel (callers mask
    them with :func:`inside_frame` where that matters).
    """
    if grid is None:
        grid = pixel_grid(*flow.shape[:2])
    return cv2.remap(
        image, sampling_map(flow, grid), None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def inside_frame(positions: np.ndarray, height: int, width: int) -> np.ndarray:
    """uint8 mask, 255 where sampling ``positions`` (``HxWx2``) fall inside the frame."""
    return cv2.inRange(positions, (0.0, 0.0), (width - 1.0, height - 1.0))
