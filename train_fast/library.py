"""The built-in style library: the recipe every shipped model in ``models/`` is trained with.

``python -m train_fast.library --styles-dir ../shared/styles --content-dir ../shared/content
--vgg ../shared/vgg19 -o models --minutes 12 [NAME ...]`` trains the styles one after
another. The shipped models are the resume points, so the library keeps improving across
sessions and machines: a style whose ``models/NAME.onnx`` was trained with its current
recipe (the library's architecture and style size, and loss weights that are the recipe's
own or ones it refines, read from the model's metadata) continues from it, its step and
time counts adding up; any other style starts as a new network. Every style trains from
scratch rather than fine-tuning from another: styles fine-tuned from ``mosaic`` for 400
steps took their paintings' palettes but kept mosaic's diagonal hatching (samples of an
earlier library). The loss weights were chosen by looking at results on tuning frames and
at the quality benchmark's scores; every model records them in its metadata.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import onnx

from train_fast.artworks import artwork_for
from train_fast.losses import LossWeights
from train_fast.train import TRAIN_WEIGHTS, TrainSettings

ARCH = "paintnet"
"""The network every built-in style uses."""


@dataclass(frozen=True)
class Recipe:
    """How one built-in style is trained (everything else is shared: see ``COMMON``)."""

    weights: LossWeights = TRAIN_WEIGHTS
    """The loss terms' weights."""
    style_size: int = TrainSettings.style_size
    """Long side of the painting during training: the scale of its brush strokes."""
    refines: tuple[LossWeights, ...] = ()
    """Earlier loss weights whose networks this recipe continues (fine-tuned under
    ``weights``) rather than starting anew."""
    stability: float = TrainSettings.stability_weight
    """Weight of the stability term (the output steady between video frames); a network
    continues whatever its earlier stability weight was."""
    learning_rate: float = TrainSettings.learning_rate
    """Adam's learning rate (lower to refine a trained network)."""

    def continues(self, weights: dict) -> bool:
        """Whether a network trained with ``weights`` (as in a model's metadata) continues."""
        return any(weights == asdict(w) for w in (self.weights, *self.refines))


COMMON: dict[str, object] = {"arch": ARCH, "export_minutes": 2.0}
"""Settings every built-in style shares beyond ``stream-nst train``'s defaults: exported
every few minutes, so a run cut short keeps its latest model."""


def _refined(
    *earlier: LossWeights,
    stability: float = TrainSettings.stability_weight,
    learning_rate: float = TrainSettings.learning_rate,
    **weights: float,
) -> Recipe:
    """The shared weights with some changed, continuing the networks trained on the shared
    weights or on any of the ``earlier`` refinements."""
    return Recipe(
        weights=replace(TRAIN_WEIGHTS, **weights),
        refines=(TRAIN_WEIGHTS, *earlier),
        stability=stability,
        learning_rate=learning_rate,
    )


_STYLE_15 = replace(TRAIN_WEIGHTS, style=15.0)
_STYLE_20 = replace(TRAIN_WEIGHTS, style=20.0)
_STYLE_30 = replace(TRAIN_WEIGHTS, style=30.0)
_STYLE_40 = replace(TRAIN_WEIGHTS, style=40.0)
_UDNIE_20 = replace(TRAIN_WEIGHTS, style=20.0, content=6.0)


_STEADY = {"stability": 1000.0, "learning_rate": 1e-3}
"""Refining a trained network for video: the stability term weighs most, at a third of
the learning rate."""
_GENTLE = {"stability": 400.0, "learning_rate": 1e-3}
"""The same for styles with little texture to spare."""

LIBRARY: dict[str, Recipe] = {
    "mosaic": _refined(style=20.0, stability=250.0, learning_rate=3e-4),
    "candy": _refined(_STYLE_20, _STYLE_30, _STYLE_40, style=80.0, **_STEADY),
    "udnie": _refined(_STYLE_20, _UDNIE_20, style=40.0, content=6.0, **_STEADY),
    "starry_night": _refined(_STYLE_15, style=30.0, **_GENTLE),
    "great_wave": _refined(style=20.0, **_GENTLE),
    "the_scream": Recipe(**_STEADY),
    "composition_vii": Recipe(stability=100.0),
    "feathers": _refined(style=20.0, stability=100.0),
    "monet_houses_of_parliament": _refined(content=6.0, stability=400.0),
}
"""Each built-in style's recipe. How each came about, with the figures that decided it, is
in docs/TRAINING.md ("How the recipes came about"); the trials not kept are in
docs/STEADINESS.md."""


def trained_with(model: Path, recipe: Recipe) -> bool:
    """Whether ``model`` is a library network trained with ``recipe`` (per its metadata)."""
    if not model.is_file():
        return False
    props = onnx.load(str(model), load_external_data=False).metadata_props
    meta = {p.key: p.value for p in props}
    try:
        training = json.loads(meta.get("training", "{}"))
    except ValueError:
        return False
    return (
        meta.get("architecture") == ARCH
        and recipe.continues(training.get("loss_weights"))
        and training.get("style_size") == recipe.style_size
    )


def starting_point(name: str, models_dir: Path) -> Path | None:
    """The model a library style's training continues (None: a new network)."""
    own = models_dir / f"{name}.onnx"
    return own if trained_with(own, LIBRARY[name]) else None


def library_settings(
    name: str,
    *,
    styles_dir: Path,
    content_dir: Path,
    models_dir: Path,
    vgg: str | None,
    steps: int,
    minutes: float | None,
    work_dir: Path,
    threads: int | None = None,
) -> TrainSettings:
    """The training settings of one library style, starting where it left off."""
    recipe = LIBRARY[name]
    style_image = styles_dir / f"{name}.jpg"
    return TrainSettings(
        style_image=style_image,
        name=name,
        content_dir=content_dir,
        out_dir=models_dir,
        artwork=artwork_for(style_image.stem),
        steps=steps,
        style_size=recipe.style_size,
        weights=recipe.weights,
        stability_weight=recipe.stability,
        learning_rate=recipe.learning_rate,
        minutes=minutes,
        work_dir=work_dir,
        vgg=vgg,
        init=starting_point(name, models_dir),
        threads=threads,
        **COMMON,  # type: ignore[arg-type]
    )


if __name__ == "__main__":
    from train_fast.cli import library_main

    sys.exit(library_main())
