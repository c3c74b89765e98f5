"""The original algorithm: optimise one image's pixels against the Gatys et al. (2015) loss."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from train_fast.losses import LossWeights, StyleLoss
from train_fast.precision import choose_autocast
from train_fast.vgg import VGGWeights


@dataclass(frozen=True)
class GatysSettings:
    """Settings of one Gatys optimisation (defaults: a clearly stylised 256 px image in minutes)."""

    steps: int = 200
    optimizer: str = "lbfgs"  # or "adam"
    init: str = "content"  # or "noise"
    learning_rate: float = 4.0  # Adam only, in 0-255 pixel units
    weights: LossWeights = field(default_factory=LossWeights)
    seed: int = 0
    precision: str = "fp32"
    """VGG trunk precision (``fp32``, ``bf16`` or ``auto``). float32 by default: bf16's
    rounding misleads L-BFGS's line search (the loss rose in a test); Adam tolerates it."""


@dataclass(frozen=True)
class GatysProgress:
    """One progress event: the step just done and the loss terms there."""

    step: int
    steps: int
    losses: dict[str, float]


def gatys_optimise(
    content: torch.Tensor,
    styles: Sequence[torch.Tensor],
    vgg: VGGWeights,
    settings: GatysSettings = GatysSettings(),
    style_mix: Sequence[float] | None = None,
    on_progress: Callable[[GatysProgress], None] | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Return the stylised image (BGR 0–255, like ``content``) and its final loss terms."""
    if settings.optimizer not in ("lbfgs", "adam"):
        raise ValueError(f"unknown optimizer {settings.optimizer!r}")
    if settings.init not in ("content", "noise"):
        raise ValueError(f"unknown init {settings.init!r}")
    torch.manual_seed(settings.seed)
    loss_fn = StyleLoss(
        vgg, styles, settings.weights, style_mix, autocast=choose_autocast(settings.precision)
    )
    targets = loss_fn.content_targets(content)
    start = content.clone() if settings.init == "content" else torch.rand_like(content) * 255
    image = start.requires_grad_(True)
    last: dict[str, float] = {}

    # The relative losses have tiny per-pixel gradients; L-BFGS's first step and its
    # tolerances assume gradients of order one, so the objective is scaled by the pixel count.
    scale = float(content.numel()) if settings.optimizer == "lbfgs" else 1.0

    def closure() -> torch.Tensor:
        opt.zero_grad()
        terms = loss_fn(image, targets)
        objective = terms.total.sum() * scale
        objective.backward()
        last.update(terms.as_floats())
        return objective

    if settings.optimizer == "lbfgs":
        opt: torch.optim.Optimizer = torch.optim.LBFGS(
            [image], lr=1, max_iter=1, history_size=50, line_search_fn="strong_wolfe"
        )
    else:
        opt = torch.optim.Adam([image], lr=settings.learning_rate)
    for step in range(1, settings.steps + 1):
        opt.step(closure)
        if settings.optimizer == "adam":  # clamping between L-BFGS steps corrupts its history
            with torch.no_grad():
                image.clamp_(0, 255)
        if on_progress is not None:
            on_progress(GatysProgress(step, settings.steps, dict(last)))
    return image.detach().clamp(0, 255), last
