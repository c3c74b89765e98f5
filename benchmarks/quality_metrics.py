"""How close a stylised image is to its painting, and how much of its photo it keeps.

Three numbers per (output, photo, painting), each lower-is-better, all computed on copies
resized to ``SHORT_SIDE`` (384) pixels on the short side (the painting too):

* :func:`colour_distance` — sliced Wasserstein distance between the Lab pixel distributions
  of the output and the painting.
* Gram ratio (:meth:`QualityMeter.score`) — per VGG-19 layer relu1_1 … relu5_1,
  ``‖G(out) − G(painting)‖_F / ‖G(photo) − G(painting)‖_F`` with ``G`` the Gram matrix
  normalised by C·H·W (``train_fast.losses.gram``); 1 = as far from the painting's texture
  statistics as the photo itself, 0 = the painting's. Reported as the mean of the 5 layers.
* Content change — ``‖F(out) − F(photo)‖_F / ‖F(photo)‖_F`` at relu4_2; 0 = the photo's
  content features unchanged.

Usage::

    meter = QualityMeter(load_vgg_weights("../shared/vgg19"))
    photo, painting = meter.stats(photo_bgr), meter.stats(painting_bgr)
    scores = meter.score(output_bgr, photo, painting)   # FrameScores
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from train_fast import images
from train_fast.losses import STYLE_LAYERS, gram
from train_fast.vgg import VGGFeatures, VGGWeights

SHORT_SIDE = 384
CONTENT_LAYER = "relu4_2"
PROJECTIONS = 128
SAMPLES = 16384
SEED = 0


def resize_short_side(image: np.ndarray, side: int = SHORT_SIDE) -> np.ndarray:
    """Resize a BGR image so its short side is ``side`` pixels (area filter when shrinking)."""
    return images.resize_short_side(image, side)


def lab_pixels(image_bgr: np.ndarray) -> np.ndarray:
    """The pixels of a BGR uint8 image as float Lab rows ``(H·W, 3)``: L 0–100, a/b about ±127."""
    lab = cv2.cvtColor(image_bgr.astype(np.float32) / 255.0, cv2.COLOR_BGR2Lab)
    return lab.reshape(-1, 3)


def sliced_wasserstein(
    a: np.ndarray,
    b: np.ndarray,
    projections: int = PROJECTIONS,
    samples: int = SAMPLES,
    seed: int = SEED,
) -> float:
    """Sliced Wasserstein-1 distance between two point clouds ``(N, D)`` and ``(M, D)``.

    Draws ``projections`` random unit directions and ``n = min(samples, N, M)`` points of
    each cloud without replacement (all from one ``numpy`` generator seeded with ``seed``),
    projects both subsamples on each direction, and returns the mean over directions of the
    1-D W1 distance ``mean_i |sort(a·d)_i − sort(b·d)_i|``.
    """
    rng = np.random.default_rng(seed)
    directions = rng.normal(size=(a.shape[1], projections))
    directions /= np.linalg.norm(directions, axis=0, keepdims=True)
    n = min(samples, len(a), len(b))
    a_sub = a[rng.choice(len(a), n, replace=False)].astype(np.float64)
    b_sub = b[rng.choice(len(b), n, replace=False)].astype(np.float64)
    a_proj = np.sort(a_sub @ directions, axis=0)
    b_proj = np.sort(b_sub @ directions, axis=0)
    return float(np.abs(a_proj - b_proj).mean())


def colour_distance(image_bgr: np.ndarray, painting_bgr: np.ndarray, seed: int = SEED) -> float:
    """Sliced Wasserstein distance between the Lab pixels of two BGR uint8 images.

    :func:`sliced_wasserstein` of :func:`lab_pixels` with ``PROJECTIONS`` (128) directions
    and ``SAMPLES`` (16,384) pixels of each image. The images are taken as they are: resize
    them first (``QualityMeter`` uses ``SHORT_SIDE``). Lower = closer colours; 0 for equal
    distributions.
    """
    return sliced_wasserstein(lab_pixels(image_bgr), lab_pixels(painting_bgr), seed=seed)


@dataclass(frozen=True)
class ImageStats:
    """One image at the metric size and its VGG-19 statistics."""

    image: np.ndarray  # BGR uint8, short side = the meter's side
    grams: dict[str, torch.Tensor]  # style layer -> (C, C) Gram matrix, normalised by C·H·W
    content: torch.Tensor  # relu4_2 features (C, H, W)


@dataclass(frozen=True)
class FrameScores:
    """The three metrics of one output against its photo and painting (lower = better)."""

    colour: float
    gram: dict[str, float]  # per style layer
    content: float

    @property
    def gram_mean(self) -> float:
        """Mean of the per-layer Gram ratios."""
        return float(np.mean(list(self.gram.values())))

    def as_dict(self) -> dict[str, object]:
        """Plain JSON-ready values."""
        return {
            "colour": self.colour,
            "gram_mean": self.gram_mean,
            "gram": dict(self.gram),
            "content": self.content,
        }


def gram_ratios(out: ImageStats, photo: ImageStats, painting: ImageStats) -> dict[str, float]:
    """Per layer ``‖G(out) − G(painting)‖_F / ‖G(photo) − G(painting)‖_F``."""
    return {
        layer: float(
            torch.linalg.norm(out.grams[layer] - painting.grams[layer])
            / torch.linalg.norm(photo.grams[layer] - painting.grams[layer]).clamp_min(1e-12)
        )
        for layer in out.grams
    }


def content_change(out: ImageStats, photo: ImageStats) -> float:
    """``‖F(out) − F(photo)‖_F / ‖F(photo)‖_F`` at relu4_2 (both at the same size)."""
    return float(
        torch.linalg.norm(out.content - photo.content)
        / torch.linalg.norm(photo.content).clamp_min(1e-12)
    )


class QualityMeter:
    """Computes :class:`FrameScores` on a VGG-19 (``train_fast.vgg.load_vgg_weights``)."""

    def __init__(self, weights: VGGWeights, side: int = SHORT_SIDE) -> None:
        self.side = side
        self.weights = weights
        # channels_last: the same float32 maths, ~2.5x faster in oneDNN on CPU
        self.net = VGGFeatures(weights, (*STYLE_LAYERS, CONTENT_LAYER)).to(
            memory_format=torch.channels_last
        )

    def stats(self, image_bgr: np.ndarray) -> ImageStats:
        """Resize a BGR uint8 image to the meter's short side and take its VGG statistics."""
        return self._measure(resize_short_side(image_bgr, self.side))

    @torch.inference_mode()
    def _measure(self, image: np.ndarray) -> ImageStats:
        tensor = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))).float()[None]
        feats = self.net(tensor.contiguous(memory_format=torch.channels_last))
        grams = {layer: gram(feats[layer].float())[0] for layer in STYLE_LAYERS}
        return ImageStats(image, grams, feats[CONTENT_LAYER][0])

    def score(self, output_bgr: np.ndarray, photo: ImageStats, painting: ImageStats) -> FrameScores:
        """Scores of an output image (BGR uint8, resized to exactly the photo's metric size)."""
        h, w = photo.image.shape[:2]
        interp = cv2.INTER_AREA if output_bgr.shape[0] > h else cv2.INTER_CUBIC
        out = self._measure(cv2.resize(output_bgr, (w, h), interpolation=interp))
        return FrameScores(
            colour=colour_distance(out.image, painting.image),
            gram=gram_ratios(out, photo, painting),
            content=content_change(out, photo),
        )
