"""Image ↔ tensor conversions at the boundary of train_fast (one named function each way).

Style networks and VGG features in train_fast take BGR, 0–255, float32 ``(N, 3, H, W)``,
which is what OpenCV reads, so no colour conversion happens anywhere in training.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from stream_nst.sources import IMAGE_SUFFIXES
from stream_nst.sources import read_image as read_source_image
from train_fast.errors import InputError


def read_image(path: str | Path, max_side: int | None = None) -> np.ndarray:
    """Read an image file as BGR uint8 (the runtime's reader: EXIF orientation applied),
    optionally shrunk so its long side is ``max_side``."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"image not found: {path}")
    image = read_source_image(path)
    if max_side is not None:
        image = resize_long_side(image, max_side)
    return image


def resize_long_side(image: np.ndarray, side: int) -> np.ndarray:
    """Resize so the long side is ``side`` pixels (area filter when shrinking)."""
    return _rescale(image, side / max(image.shape[:2]))


def resize_short_side(image: np.ndarray, side: int) -> np.ndarray:
    """Resize so the short side is ``side`` pixels (area filter when shrinking)."""
    return _rescale(image, side / min(image.shape[:2]))


def _rescale(image: np.ndarray, scale: float) -> np.ndarray:
    h, w = image.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(image, size, interpolation=interp)


def image_to_tensor(image_bgr: np.ndarray) -> torch.Tensor:
    """BGR uint8 ``(H, W, 3)`` → float ``(1, 3, H, W)`` in 0–255."""
    return torch.from_numpy(np.ascontiguousarray(image_bgr.transpose(2, 0, 1))).float()[None]


def tensor_to_image(tensor: torch.Tensor) -> np.ndarray:
    """float ``(1, 3, H, W)`` or ``(3, H, W)`` in 0–255 → BGR uint8 ``(H, W, 3)``."""
    t = tensor.detach()
    if t.ndim == 4:
        t = t[0]
    return t.clamp(0, 255).round().byte().permute(1, 2, 0).cpu().numpy().copy()


def write_image(path: str | Path, image_bgr: np.ndarray) -> None:
    """Write an image, creating nothing but the file; errors become :class:`InputError`."""
    path = Path(path)
    if not path.parent.is_dir():
        raise InputError(f"output directory does not exist: {path.parent}")
    try:
        written = cv2.imwrite(str(path), image_bgr)
    except cv2.error:  # OpenCV raises for a suffix it has no writer for
        written = False
    if not written:
        raise InputError(f"cannot write image (unknown extension or unwritable): {path}")


def list_images(directory: str | Path) -> list[Path]:
    """Image files directly inside ``directory``, sorted."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(f"content folder not found: {directory}")
    return sorted(p for p in directory.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
