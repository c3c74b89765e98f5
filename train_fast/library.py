"""The built-in style library: the recipe every shipped model in ``models/`` is trained with.

``python -m train_fast.library --styles-dir ../shared/styles --content-dir ../shared/content
--vgg ../shared/vgg19 -o models --minutes 12 [NAME ...]`` trains the styles one after another
through ``stream-nst train``, each for at most ``--minutes`` and from its checkpoint when it
has one (``--work-root``/NAME), so the library keeps improving across sessions. The per-style
loss weights below were tuned by looking at the results; every model also records them in
its metadata.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from train_fast.cli import train_main
from train_fast.train import CHECKPOINT_FILE, default_work_dir


@dataclass(frozen=True)
class Recipe:
    """How one built-in style is trained (everything else is shared: see ``COMMON``)."""

    style_weight: float = 5.0
    content_weight: float = 1.0
    style_size: int = 384
    """Long side of the painting during training: the scale of its brush strokes."""


COMMON: tuple[str, ...] = ("--arch", "rtnet", "--size", "128", "--batch", "4", "--lr", "3e-3")
"""Flags every built-in style shares: the real-time network on small crops (2-core CPUs)."""

LIBRARY: dict[str, Recipe] = {
    "mosaic": Recipe(),
    "candy": Recipe(),
    "udnie": Recipe(),
    "starry_night": Recipe(),
    "great_wave": Recipe(),
    "the_scream": Recipe(style_weight=2.5),  # at 5 the picture dissolved into strokes
    "composition_vii": Recipe(),
    "feathers": Recipe(),
    "monet_houses_of_parliament": Recipe(style_weight=2.5),  # at 5 the picture was lost
}


def train_arguments(
    name: str, styles_dir: Path, work_dir: Path, steps: int, minutes: float | None
) -> list[str]:
    """The ``stream-nst train`` arguments of one library style (resuming if it can)."""
    recipe = LIBRARY[name]
    argv = [
        str(styles_dir / f"{name}.jpg"),
        "--name",
        name,
        *COMMON,
        "--style-weight",
        str(recipe.style_weight),
        "--content-weight",
        str(recipe.content_weight),
        "--style-size",
        str(recipe.style_size),
        "--steps",
        str(steps),
        "--work-dir",
        str(work_dir),
    ]
    if minutes is not None:
        argv += ["--minutes", str(minutes)]
    if (work_dir / CHECKPOINT_FILE).exists():
        argv.append("--resume")
    return argv


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m train_fast.library",
        description="Train (or keep training) the built-in styles, one after another.",
    )
    p.add_argument("names", nargs="*", help=f"styles (default: all): {', '.join(LIBRARY)}")
    p.add_argument("--styles-dir", type=Path, required=True, help="folder with NAME.jpg")
    p.add_argument("--content-dir", type=Path, required=True, help="folder of training photos")
    p.add_argument("-o", "--output-dir", type=Path, default=Path("models"))
    p.add_argument("--vgg", default=None, help="VGG-19 weights (see stream-nst train --help)")
    p.add_argument("--steps", type=int, default=4000, help="total steps per style")
    p.add_argument("--minutes", type=float, default=None, help="budget per style, this run")
    p.add_argument(
        "--work-root",
        type=Path,
        default=None,
        help="checkpoints go to WORK_ROOT/NAME (default: ~/.cache/stream-nst/train/NAME)",
    )
    args = p.parse_args(argv)
    unknown = [n for n in args.names if n not in LIBRARY]
    if unknown:
        p.error(f"not in the library: {', '.join(unknown)}")
    for name in args.names or list(LIBRARY):
        work_dir = args.work_root / name if args.work_root else default_work_dir(name)
        train_argv = train_arguments(name, args.styles_dir, work_dir, args.steps, args.minutes)
        train_argv += ["--content-dir", str(args.content_dir), "-o", str(args.output_dir)]
        if args.vgg:
            train_argv += ["--vgg", args.vgg]
        print(f"== {name}: stream-nst train {' '.join(train_argv)}", file=sys.stderr, flush=True)
        train_main(train_argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
