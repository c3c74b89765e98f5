"""Gatys et al.'s neural style loss on VGG-19, as a composition of named, weighted terms.

:class:`StyleLoss` holds one frozen VGG-19 trunk and a list of :class:`LossTerm` modules
(content, Gram style, colour, total variation); printing it shows the whole objective.
Each term returns a per-sample value; the objective is their weighted sum. The content and
style terms are *relative* squared errors (each layer's error divided by its target's
energy), so the same weights give the same balance whatever VGG-19 weights (Caffe 0–255 or
torchvision 0–1 scale) compute them.

The trunk may run under bfloat16 autocast (:mod:`train_fast.precision`); every term computes
in float32 from the features it is given (Gram matrices lose too much in bfloat16).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass

import torch
from torch import nn

from train_fast.vgg import VGGFeatures, VGGWeights

CONTENT_LAYERS: tuple[str, ...] = ("relu4_2",)
STYLE_LAYERS: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


@dataclass(frozen=True)
class LossWeights:
    """Weights of the terms of the objective (0 leaves a term out)."""

    content: float = 1.0
    style: float = 5.0
    colour: float = 0.0
    """Sliced Wasserstein distance between the output's and the painting's pixel colours."""
    tv: float = 1e-5


def gram(features: torch.Tensor) -> torch.Tensor:
    """Gram matrix normalised by C·H·W, in float32: ``(N, C, H, W)`` → ``(N, C, C)``."""
    n, c, h, w = features.shape
    f = features.float().reshape(n, c, h * w)
    return torch.bmm(f, f.transpose(1, 2)) / (c * h * w)


def relative_error(x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-sample ``|x - target|² / |target|²``, shape ``(N,)``."""
    x, target = x.float(), target.float()
    dims = tuple(range(1, x.ndim))
    return ((x - target) ** 2).sum(dims) / (target**2).sum(dims).clamp_min(1e-8)


def total_variation(image: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of neighbouring pixels, per sample ``(N,)``."""
    dx = (image[..., :, 1:] - image[..., :, :-1]) ** 2
    dy = (image[..., 1:, :] - image[..., :-1, :]) ** 2
    return dx.mean((1, 2, 3)) + dy.mean((1, 2, 3))


def colour_quantiles(pixels: torch.Tensor, directions: torch.Tensor, count: int) -> torch.Tensor:
    """``count`` evenly spaced quantiles of ``pixels (M, 3)`` projected on ``directions (3, K)``."""
    projected = torch.sort(pixels @ directions, dim=0).values
    index = ((torch.arange(count, device=pixels.device) + 0.5) * (len(pixels) / count)).long()
    return projected[index]


def sliced_wasserstein(
    image: torch.Tensor, palette: torch.Tensor, directions: torch.Tensor
) -> torch.Tensor:
    """Per-sample squared sliced Wasserstein-2 distance between pixel colour distributions.

    ``image`` is ``(N, 3, H, W)`` on [0, 1], ``palette`` the painting's pixels ``(M, 3)``;
    both are projected on the unit ``directions (3, K)`` and their sorted projections
    (the 1-D optimal transport) compared.
    """
    n = image.shape[0]
    pixels = image.float().flatten(2).transpose(1, 2)  # (N, P, 3)
    ours = torch.sort(pixels @ directions, dim=1).values  # (N, P, K)
    theirs = colour_quantiles(palette, directions, pixels.shape[1])
    return (ours - theirs).pow(2).reshape(n, -1).mean(1)


class LossTerm(nn.Module):
    """One named, weighted term: ``forward(output, features, content_targets) -> (N,)``."""

    name: str = ""
    layers: tuple[str, ...] = ()
    """The VGG layers the term reads."""

    def __init__(self, weight: float):
        super().__init__()
        self.weight = weight

    def extra_repr(self) -> str:
        layers = f", layers={','.join(self.layers)}" if self.layers else ""
        return f"weight={self.weight:g}{layers}"


class ContentTerm(LossTerm):
    """Relative feature error to the photo at the content layers (Gatys: relu4_2)."""

    name = "content"

    def __init__(self, weight: float, layers: Sequence[str] = CONTENT_LAYERS):
        super().__init__(weight)
        self.layers = tuple(layers)

    def forward(self, output, features, content_targets):
        return sum(relative_error(features[k], content_targets[k]) for k in self.layers)


class GramStyleTerm(LossTerm):
    """Relative Gram-matrix error to the painting(s), averaged over the style layers."""

    name = "style"

    def __init__(self, weight: float, grams: dict[str, torch.Tensor]):
        super().__init__(weight)
        self.layers = tuple(grams)
        for layer, target in grams.items():
            self.register_buffer(f"gram_{layer}", target)

    def forward(self, output, features, content_targets):
        n = output.shape[0]
        return sum(
            relative_error(gram(features[k]), getattr(self, f"gram_{k}").expand(n, -1, -1))
            for k in self.layers
        ) / len(self.layers)


class ColourTerm(LossTerm):
    """The painting's palette: sliced Wasserstein distance of pixel colours (Heitz et al.
    2021 on pixels; the histogram loss of Risser et al. 2017 in spirit), on [0, 1] colours,
    with new random directions every call."""

    name = "colour"
    DIRECTIONS = 16

    def __init__(self, weight: float, palette: torch.Tensor):
        super().__init__(weight)
        self.register_buffer("palette", palette)

    def forward(self, output, features, content_targets):
        directions = nn.functional.normalize(
            torch.randn(3, self.DIRECTIONS, device=output.device), dim=0
        )
        return sliced_wasserstein(output / 255.0, self.palette, directions)


class TotalVariationTerm(LossTerm):
    """Total variation of the output (smoothness; a small weight against pixel noise)."""

    name = "tv"

    def forward(self, output, features, content_targets):
        return total_variation(output)


@dataclass
class LossTerms:
    """The per-sample values of every term of one evaluation, and their weighted sum."""

    values: dict[str, torch.Tensor]
    total: torch.Tensor

    def __getitem__(self, name: str) -> torch.Tensor:
        return self.values[name]

    def as_floats(self) -> dict[str, float]:
        floats = {k: float(v.detach().mean()) for k, v in self.values.items()}
        return floats | {"total": float(self.total.detach().mean())}


class StyleLoss(nn.Module):
    """The objective against one or more style images, on one shared VGG-19 trunk.

    Several style images blend by ``style_mix`` weights (their Grams and palettes are
    mixed in those proportions). ``autocast`` (e.g. ``torch.bfloat16``) runs the trunk in
    that precision; the terms stay in float32.
    """

    def __init__(
        self,
        vgg: VGGWeights,
        styles: Sequence[torch.Tensor],
        weights: LossWeights = LossWeights(),
        style_mix: Sequence[float] | None = None,
        content_layers: Sequence[str] = CONTENT_LAYERS,
        style_layers: Sequence[str] = STYLE_LAYERS,
        autocast: torch.dtype | None = None,
    ):
        super().__init__()
        self.weights = weights
        self.autocast = autocast
        self.content_layers = tuple(content_layers)
        self.trunk = VGGFeatures(vgg, tuple(dict.fromkeys((*style_layers, *content_layers))))
        mix = list(style_mix) if style_mix is not None else [1.0] * len(styles)
        shares = [m / sum(mix) for m in mix]
        with torch.no_grad():
            style_features = [self.trunk(s) for s in styles]
            grams = {
                layer: sum(
                    share * gram(f[layer]) for f, share in zip(style_features, shares, strict=True)
                )
                for layer in style_layers
            }
        terms: list[LossTerm] = [
            ContentTerm(weights.content, self.content_layers),
            GramStyleTerm(weights.style, grams),
            TotalVariationTerm(weights.tv),
        ]
        if weights.colour > 0:
            terms.append(ColourTerm(weights.colour, _palette(styles, shares)))
        self.terms = nn.ModuleList(terms)

    def _precision(self):
        if self.autocast is None:
            return nullcontext()
        return torch.autocast("cpu", dtype=self.autocast)

    @torch.no_grad()
    def content_targets(self, content: torch.Tensor) -> dict[str, torch.Tensor]:
        """Content-layer features of the content images (computed without gradients)."""
        with self._precision():
            return self.trunk(content, self.content_layers)

    def forward(self, output: torch.Tensor, content_targets: dict[str, torch.Tensor]) -> LossTerms:
        with self._precision():
            features = self.trunk(output)
        values = {t.name: t(output, features, content_targets) for t in self.terms}
        total = sum(t.weight * values[t.name] for t in self.terms)
        return LossTerms(values, total)


def _palette(styles: Sequence[torch.Tensor], shares: Sequence[float]) -> torch.Tensor:
    """The style images' pixels on [0, 1] as ``(M, 3)``, each image in proportion to its share."""
    pixels = [s.float().flatten(2)[0].T / 255.0 for s in styles]
    count = min(len(p) for p in pixels)
    parts = [
        p[torch.randperm(len(p))[: max(1, round(count * share))]]
        for p, share in zip(pixels, shares, strict=True)
    ]
    return torch.cat(parts)
