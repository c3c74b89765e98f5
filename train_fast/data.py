"""Content photos for training: a deterministic train / held-out split and random crops."""

from __future__ import annotations

import zlib
from pathlib import Path

import cv2
import numpy as np
import torch

from train_fast.errors import InputError
from train_fast.images import list_images

HELD_OUT_EVERY = 20  # one photo in 20 (by a hash of its name) is never trained on


def is_held_out(path: Path) -> bool:
    """Stable across machines and runs: depends only on the file name."""
    return zlib.crc32(path.name.encode()) % HELD_OUT_EVERY == 0


def split_content(directory: str | Path) -> tuple[list[Path], list[Path]]:
    """(training photos, held-out photos) of a folder; error when it has none to train on."""
    photos = list_images(directory)
    train = [p for p in photos if not is_held_out(p)]
    held = [p for p in photos if is_held_out(p)]
    if not train:
        raise InputError(f"no training photos (jpg/png/...) in content folder {directory}")
    return train, held


class CropSampler:
    """Random square crops (BGR 0–255 float, NCHW) from a list of photos, with random flips."""

    def __init__(self, photos: list[Path], size: int, seed: int = 0):
        self.photos = photos
        self.size = size
        self.rng = np.random.default_rng(seed)

    def _crop(self, path: Path) -> np.ndarray | None:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            return None
        h, w = image.shape[:2]
        if min(h, w) < self.size:  # upscale small photos so a full crop fits
            scale = self.size / min(h, w)
            image = cv2.resize(
                image, (max(self.size, round(w * scale)), max(self.size, round(h * scale)))
            )
            h, w = image.shape[:2]
        y = int(self.rng.integers(0, h - self.size + 1))
        x = int(self.rng.integers(0, w - self.size + 1))
        crop = image[y : y + self.size, x : x + self.size]
        return crop[:, ::-1] if self.rng.random() < 0.5 else crop

    def batch(self, n: int) -> torch.Tensor:
        crops: list[np.ndarray] = []
        while len(crops) < n:
            crop = self._crop(self.photos[int(self.rng.integers(len(self.photos)))])
            if crop is not None:  # unreadable files are skipped
                crops.append(crop)
        array = np.stack(crops).transpose(0, 3, 1, 2)
        return torch.from_numpy(np.ascontiguousarray(array)).float()

    def state(self) -> dict:
        return self.rng.bit_generator.state

    def restore(self, state: dict) -> None:
        self.rng.bit_generator.state = state
