"""Gatys et al.'s neural style loss on VGG-19: content + Gram style + total variation.

The content and style terms are *relative* squared errors (each layer's error divided by
its target's energy), so the same weights give the same balance whatever VGG-19 weights
(Caffe 0–255 or torchvision 0–1 scale) compute them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from train_fast.vgg import VGGFeatures, VGGWeights

CONTENT_LAYERS: tuple[str, ...] = ("relu4_2",)
STYLE_LAYERS: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


@dataclass(frozen=True)
class LossWeights:
    """Weights of the three terms of the Gatys objective."""

    content: float = 1.0
    style: float = 5.0
    tv: float = 1e-5


def gram(features: torch.Tensor) -> torch.Tensor:
    """Gram matrix normalised by C·H·W: ``(N, C, H, W)`` → ``(N, C, C)``."""
    n, c, h, w = features.shape
    f = features.reshape(n, c, h * w)
    return torch.bmm(f, f.transpose(1, 2)) / (c * h * w)


def relative_error(x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-sample ``|x - target|² / |target|²``, shape ``(N,)``."""
    dims = tuple(range(1, x.ndim))
    return ((x - target) ** 2).sum(dims) / (target**2).sum(dims).clamp_min(1e-8)


def total_variation(image: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of neighbouring pixels, per sample ``(N,)``."""
    dx = (image[..., :, 1:] - image[..., :, :-1]) ** 2
    dy = (image[..., 1:, :] - image[..., :-1, :]) ** 2
    return dx.mean((1, 2, 3)) + dy.mean((1, 2, 3))


@dataclass
class LossTerms:
    """The loss terms of one evaluation (per-sample tensors, already weighted in ``total``)."""

    content: torch.Tensor
    style: torch.Tensor
    tv: torch.Tensor
    total: torch.Tensor

    def as_floats(self) -> dict[str, float]:
        return {
            k: float(getattr(self, k).detach().mean()) for k in ("content", "style", "tv", "total")
        }


class StyleLoss(nn.Module):
    """The Gatys objective against one or more style images, whose Grams are cached once.

    Several style images blend by ``style_mix`` weights (summing to 1).
    """

    def __init__(
        self,
        vgg: VGGWeights,
        styles: Sequence[torch.Tensor],
        weights: LossWeights = LossWeights(),
        style_mix: Sequence[float] | None = None,
        content_layers: Sequence[str] = CONTENT_LAYERS,
        style_layers: Sequence[str] = STYLE_LAYERS,
    ):
        super().__init__()
        self.weights = weights
        self.content_layers = tuple(content_layers)
        self.style_layers = tuple(style_layers)
        self.features = VGGFeatures(
            vgg, tuple(dict.fromkeys(self.style_layers + self.content_layers))
        )
        self.content_features = VGGFeatures(vgg, self.content_layers)
        mix = list(style_mix) if style_mix is not None else [1.0] * len(styles)
        total = sum(mix)
        with torch.no_grad():
            for layer in self.style_layers:
                target = sum(
                    (m / total) * gram(self.features(s)[layer])
                    for s, m in zip(styles, mix, strict=True)
                )
                self.register_buffer(f"gram_{layer}", target)

    def style_grams(self) -> dict[str, torch.Tensor]:
        return {layer: getattr(self, f"gram_{layer}") for layer in self.style_layers}

    @torch.no_grad()
    def content_targets(self, content: torch.Tensor) -> dict[str, torch.Tensor]:
        """Content-layer features of the content images (computed without gradients)."""
        return self.content_features(content)

    def forward(self, output: torch.Tensor, content_targets: dict[str, torch.Tensor]) -> LossTerms:
        feats = self.features(output)
        content = sum(relative_error(feats[k], content_targets[k]) for k in self.content_layers)
        grams = self.style_grams()
        style = sum(
            relative_error(gram(feats[k]), grams[k].expand(output.shape[0], -1, -1))
            for k in self.style_layers
        ) / len(self.style_layers)
        tv = total_variation(output)
        w = self.weights
        total = w.content * content + w.style * style + w.tv * tv
        return LossTerms(content, style, tv, total)
