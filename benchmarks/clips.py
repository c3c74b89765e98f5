"""Synthetic benchmark clips of the kinds real footage is made of, built from photos.

Each clip is rendered deterministically (a seed picks the photos and the motion) at run
time from a folder of photos (``../shared/content``); nothing is stored. Every frame gets
fresh sensor noise, as a real camera's would, so a static scene is not bit-for-bit still.

- ``static_object``: a static camera, one object (a disc cut from another photo) crossing
  the scene along a curve;
- ``fast_pan``: the camera pans fast (~24 px a frame) over a wide scene;
- ``scene_cut``: a slow pan over one scene, then a hard cut to a slow zoom into another;
- ``webcam_face``: a face-sized subject (an ellipse of another photo) sways, bobs and leans
  in before a static, soft, noisy indoor-like background: the webcam case.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

SIZE = (640, 480)  # (width, height) of every clip
NOISE = 2.5  # sensor noise, gray levels (sigma)


def _photo(photos: list[Path], rng: np.random.Generator, scale: float) -> np.ndarray:
    """A random photo, scaled so that it covers ``scale`` times the clip size."""
    image = cv2.imread(str(photos[rng.integers(len(photos))]), cv2.IMREAD_COLOR)
    factor = scale * max(SIZE[0] / image.shape[1], SIZE[1] / image.shape[0])
    return cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)


def _view(image: np.ndarray, x: float, y: float, zoom: float = 1.0) -> np.ndarray:
    """The clip-sized window of ``image`` whose top-left corner is at ``(x, y)``, magnified
    by ``zoom`` about the window's centre (bilinear, sub-pixel)."""
    centre_x, centre_y = x + SIZE[0] / 2, y + SIZE[1] / 2
    matrix = np.array(
        [
            [1 / zoom, 0.0, centre_x - SIZE[0] / (2 * zoom)],
            [0.0, 1 / zoom, centre_y - SIZE[1] / (2 * zoom)],
        ]
    )
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    return cv2.warpAffine(image, matrix, SIZE, flags=flags, borderMode=cv2.BORDER_REFLECT)


def _paste(
    frame: np.ndarray, patch: np.ndarray, mask: np.ndarray, centre: tuple[float, float]
) -> None:
    """Composite ``patch`` (with float ``mask`` in [0, 1]) centred at ``centre``, sub-pixel."""
    height, width = patch.shape[:2]
    shift = np.array([[1.0, 0.0, centre[0] - width / 2], [0.0, 1.0, centre[1] - height / 2]])
    moved = cv2.warpAffine(patch, shift, SIZE).astype(np.float32)
    alpha = cv2.warpAffine(mask, shift, SIZE)[..., None]
    frame[:] = (frame * (1.0 - alpha) + moved * alpha).astype(np.uint8)


def _ellipse_mask(width: int, height: int) -> np.ndarray:
    mask = np.zeros((height, width), np.float32)
    axes = (width // 2 - 2, height // 2 - 2)
    cv2.ellipse(mask, (width // 2, height // 2), axes, 0, 0, 360, 1, -1)
    return cv2.GaussianBlur(mask, (5, 5), 0)


def _noisy(frames: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    return [np.clip(f + rng.normal(0.0, NOISE, f.shape), 0, 255).astype(np.uint8) for f in frames]


def static_object(photos: list[Path], frames: int, rng: np.random.Generator) -> list[np.ndarray]:
    background = _view(_photo(photos, rng, 1.0), 0, 0)
    disc = _photo(photos, rng, 0.3)[:130, :130]
    mask = _ellipse_mask(130, 130)
    clip = []
    for t in range(frames):
        frame = background.copy()
        u = t / max(frames - 1, 1)
        _paste(frame, disc, mask, (80 + 480 * u, 300 - 160 * math.sin(math.pi * u)))
        clip.append(frame)
    return _noisy(clip, rng)


def fast_pan(photos: list[Path], frames: int, rng: np.random.Generator) -> list[np.ndarray]:
    # A panorama of photos side by side, each scaled to the clip's height plus a margin.
    height = SIZE[1] + 40
    strip: list[np.ndarray] = []
    while sum(p.shape[1] for p in strip) < SIZE[0] + 24 * frames:
        photo = _photo(photos, rng, 1.0)
        strip.append(cv2.resize(photo, (photo.shape[1] * height // photo.shape[0], height)))
    scene = np.hstack(strip)
    return _noisy([_view(scene, 24.0 * t, 20 + 6.0 * math.sin(t / 4)) for t in range(frames)], rng)


def scene_cut(photos: list[Path], frames: int, rng: np.random.Generator) -> list[np.ndarray]:
    first, second = _photo(photos, rng, 1.3), _photo(photos, rng, 1.0)
    cut = frames // 2
    clip = [_view(first, 2.5 * t, 20 + 0.5 * t) for t in range(cut)]
    clip += [_view(second, 0, 0, 1.0 + 0.004 * t) for t in range(frames - cut)]
    return _noisy(clip, rng)


def webcam_face(photos: list[Path], frames: int, rng: np.random.Generator) -> list[np.ndarray]:
    room = cv2.GaussianBlur(_view(_photo(photos, rng, 1.0), 0, 0), (0, 0), 1.5)
    face_photo = _photo(photos, rng, 0.6)
    clip = []
    for t in range(frames):
        lean = 1.0 + 0.12 * math.sin(t / 9)  # the subject leans in and out
        width, height = int(180 * lean), int(240 * lean)
        face = cv2.resize(face_photo[:360, :270], (width, height), interpolation=cv2.INTER_AREA)
        frame = room.copy()
        centre = (320 + 110 * math.sin(t / 7), 250 + 18 * math.sin(t / 3))
        _paste(frame, face, _ellipse_mask(width, height), centre)
        clip.append(frame)
    return _noisy(clip, rng)


KINDS: dict[str, Callable[[list[Path], int, np.random.Generator], list[np.ndarray]]] = {
    "static_object": static_object,
    "fast_pan": fast_pan,
    "scene_cut": scene_cut,
    "webcam_face": webcam_face,
}


def render(name: str, content: Path, frames: int) -> list[np.ndarray]:
    """The clip ``KIND-SEED`` (e.g. ``webcam_face-1``): ``frames`` BGR frames of ``SIZE``."""
    kind, _, seed = name.rpartition("-")
    photos = sorted(p for p in content.iterdir() if p.suffix.lower() in (".jpg", ".png"))
    if kind not in KINDS or not seed.isdigit() or not photos:
        raise ValueError(f"cannot render {name!r} from {content}")
    # Seeded by kind and number: every clip draws its own photos and noise.
    rng = np.random.default_rng([list(KINDS).index(kind), int(seed)])
    return KINDS[kind](photos, frames, rng)
