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
"""Styles whose 15.5 minutes on the shared weights left less texture than the peer's (a higher
Gram ratio: mosaic, candy, udnie, starry_night, feathers) weigh style more; monet, whose
content changed more than the peer's while its texture had room to spare, weighs content
more. Candy, still behind the peer on the Gram ratio after 25 minutes at style 20 (mostly at
relu2_1: its fine texture), continued at 30, then at 40. Every style then continued at 5-20x
the default stability weight, because longer training had made the networks flicker more
than the rtnet models they replaced (``benchmarks/network_flicker.py``, mean warping error
over the shared clips against theirs): at 100, great_wave went from 1.02x to 0.57x, and
mosaic, starry_night, feathers and composition_vii to 0.57-0.74x, their Gram ratios still
ahead of the peer's; the_scream, with the most texture to spare, weighs 400 (0.59x), and
monet and udnie 200. Candy stays at 200 (1.32x, the one style still above its reference):
480 more steps at 400 lowered its stability loss (0.010 to 0.009) but made it flicker more
on the clips (1.96x), so they were not kept. A trial that also fed the stability term a
plain wall (a photo blurred to its large shapes) was dropped: candy at 300 flickered more
(1.47x) and fell behind the peer's texture (Gram 0.613 against 0.605), mosaic at 150
flickered half as much (0.54x) but lost its texture (0.687 against 0.638), and both, with
udnie, flickered more on ``vtest.avi``; only monet's 10 minutes of it (0.84x to 0.77x, every
clip steadier) were kept, and monet then continued 10 more minutes without it (0.75x).
Mosaic continued 500 steps at content 6 flickered less (0.65x to 0.56x, every clip steadier)
but lost texture (Gram 0.668 against the peer's 0.638): not kept. Udnie, with texture to
spare, then continued 380 steps at content 6: 0.62x to 0.53x, every clip at most its
reference (vtest.avi 1.20x to 0.88x), its Gram ratio 0.568 to 0.599, still ahead of the
peer's 0.657. Monet, with the most texture to spare, continued 155 steps at 400: every clip
at most its reference (vtest.avi 1.11x to 0.94x; mean 0.75x to 0.63x), Gram ratio 0.415 to
0.444 against the peer's 0.592. Tried on the Zen 4 EPYC and not kept: mosaic 320 steps at
stability 200 (steadier on every clip, vtest.avi 1.12x to 1.02x, but Gram 0.625 against the
peer's 0.605), and candy continued at colour 100 or 1000 instead of 300 (about 600 steps each):
both flickered more (cup.mp4 1.74x to 2.8x and 4.1x the reference; at 1000 its Gram ratio
still fell, 0.575 to 0.556), and so did 600 steps at stability 400 with a third of the
learning rate (1e-3: cup.mp4 3.1x), although its training stability loss fell. Like 480 steps
at stability 400 before, every continuation of candy so far has added flicker on the clips:
the stability term's crops did not capture what makes candy's whole frames flicker.
That was small, smooth changes of the picture (compression, sensor noise, exposure), which
the networks amplify into re-formed texture (``benchmarks/input_sensitivity.py``) and which
the stability term did not contain; with its smooth noise and sub-pixel warp
(``train_fast.stability``, 2026-12-06) a continuation finally made candy steadier (cup.mp4
1.74x to 1.11x after about 340 steps at 1000), but at the cost of its fine texture (Gram
0.575 to 0.639 against the peer's 0.598): not kept, and neither was 7 minutes at 1000 for
feathers (Gram 0.556 to 0.597 against 0.564). The_scream, with texture to spare, continued 7
minutes at 1000 (_STEADY): steadier on all seven clips (tree.avi 1.71x to 1.48x), Gram
0.482 to 0.526 against the peer's 0.670. Udnie at 1000 alone lost its texture too (0.599 to
0.640 in 7 minutes) but not with its style weight doubled: 2 minutes at style 40 and 1000
kept it (0.604 against 0.606) and steadied every clip (cup.mp4 0.45x to 0.39x, tree.avi
1.98x to 1.85x); it later crossed the peer (0.608 at 6 minutes), so the 2-minute model is
the shipped one. Composition_vii at 1000 with style 20 lost its texture too (0.527 to
0.584-0.597 against the peer's 0.545): not kept. The styles with the least texture to spare
continued at 400 (_GENTLE) with their style weight doubled: great_wave 6 minutes, Gram 0.585
to 0.578 (peer 0.590), steadier on five clips (cup.mp4 0.56x to 0.43x) and less on
vtest.avi (0.76x to 0.84x) and tree.avi (1.21x to 1.36x); starry_night 7 minutes, steadier
on all seven (tree.avi 1.08x to 1.04x), Gram 0.607 to 0.616 (peer 0.618); mosaic 7 minutes
fell behind the peer (0.594 to 0.616-0.626 against 0.605): not kept. Candy with its style
weight doubled too (80, at 1000) kept its texture (Gram 0.575 to 0.591 against 0.598) and
after 2 minutes was steadier on all seven clips (cup.mp4 1.74x to 1.51x, cityCC0.mpg 1.07x
to 0.97x, tree.avi 3.82x to 3.61x); at 6 minutes it was steadier on cup.mp4 but less on
tree.avi and vtest.avi, so the 2-minute model is the shipped one. One more minute from it at
2000 steadied every clip again (cup.mp4 1.14x, sintel_mountain_2 under its reference) but
cost the texture (Gram 0.618 against 0.598): not kept; 1-2 minutes at 2000 with style 160
kept more texture (0.583) but flickered more than the shipped model on four clips (box.mp4,
vtest.avi, sintel_mountain_2, tree.avi): not kept either. Mosaic is a new network
(2026-12-07): 2,000 steps with stability 250 from the start (style 20, learning rate 3e-3,
49 minutes), then 1,742 at 1e-3 and 82 at 3e-4 (a third of that: the exports of a run at
1e-3 wandered along the texture/flicker trade), each run's export picked by the flicker and
quality benchmarks. Its texture came back to the peer's (Gram 0.596 against 0.605) while it
stayed steadier than the mosaic continued from the earlier network on six of the seven clips
(sintel_mountain_2 7.79 to 2.75 x10^-3, vtest.avi 1.05 to 0.91 against its reference's 0.94)
and less steady on tree.avi (4.56 to 5.02, its reference 5.47); it also paints less of the
diagonal hatching on plain walls. docs/STEADINESS.md has the other exports."""


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
