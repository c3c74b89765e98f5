"""How tightly each style network's texture is tied to its stride grid.

A network that follows the picture exactly gives, for a photo shifted by ``s`` pixels, its
output for the photo shifted by ``s``. Strided networks do not: ``paintnet`` works at 1/8
resolution in the middle, so its textures are placed on an 8-pixel grid, and a picture
moving against that grid (every camera move that is not a multiple of 8 pixels at the
painting's size) makes them re-form. For every shipped model, on held-out photos scaled to
the models' painting size (360 px short side) and cropped square, this prints the mean
squared change on [0, 1] (×10⁻³) between the output for the photo shifted diagonally by
``s`` pixels and the original output shifted the same way, over their overlap away from the
borders, for ``s`` = 1 … 8. The shifted input is the same pixels, so noise, brightness and
scaling play no part: what remains is the grid.

    python benchmarks/shift_equivariance.py [--photos 24]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.report import machine, markdown_table, publish  # noqa: E402
from stream_nst.engine import Stylizer  # noqa: E402
from train_fast.data import split_content  # noqa: E402
from train_fast.images import resize_short_side  # noqa: E402

SIDE = 360
"""Short side the photos are scaled to: the shipped models' painting size."""
CROP = 352
"""The square each photo is cropped to (a multiple of the networks' 8)."""
SHIFTS = tuple(range(1, 9))
MARGIN = 16
"""Border pixels left out of the comparison (reflection padding changes them)."""


def photo_squares(content_dir: Path, count: int) -> list[np.ndarray]:
    """The first ``count`` held-out photos, short side :data:`SIDE`, centre :data:`CROP`²."""
    squares = []
    for path in split_content(content_dir)[1][:count]:
        image = resize_short_side(cv2.imread(str(path)), SIDE)
        h, w = image.shape[:2]
        y, x = (h - CROP) // 2, (w - CROP) // 2
        squares.append(image[y : y + CROP, x : x + CROP])
    return squares


def shift_change(stylizer: Stylizer, photo: np.ndarray, shift: int) -> float:
    """Mean squared change on [0, 1] of the output under a diagonal shift of the input."""
    size = CROP - 8  # both windows the same size, a multiple of 8
    base = stylizer.model.run(np.ascontiguousarray(photo[:size, :size])).astype(np.float32)
    moved = stylizer.model.run(
        np.ascontiguousarray(photo[shift : shift + size, shift : shift + size])
    ).astype(np.float32)
    # Original coordinates [shift + MARGIN, size - MARGIN) in both outputs.
    ours = moved[MARGIN : size - shift - MARGIN, MARGIN : size - shift - MARGIN]
    theirs = base[shift + MARGIN : size - MARGIN, shift + MARGIN : size - MARGIN]
    return float(np.mean(np.square((ours - theirs) / 255.0)))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--content-dir", type=Path, default=ROOT.parent / "shared" / "content")
    p.add_argument("--photos", type=int, default=24)
    p.add_argument("--models-dir", type=Path, default=ROOT / "models")
    p.add_argument("--no-write", action="store_true", help="print only: BENCHMARKS.md stays")
    args = p.parse_args(argv)
    photos = photo_squares(args.content_dir, args.photos)
    rows = []
    for model in sorted(args.models_dir.glob("*.onnx")):
        stylizer = Stylizer(model)
        changes = [
            np.mean([shift_change(stylizer, photo, s) for photo in photos]) * 1e3 for s in SHIFTS
        ]
        off_grid = np.mean(changes[:-1]) / changes[-1]
        print(f"{model.stem}: " + " ".join(f"{c:.2f}" for c in changes), flush=True)
        rows.append([f"`{model.stem}`", *(f"{c:.2f}" for c in changes), f"**{off_grid:.1f}×**"])
    command = " ".join(
        ["python benchmarks/shift_equivariance.py", *(argv if argv is not None else sys.argv[1:])]
    )
    lines = [
        "## Shift equivariance: textures tied to the stride grid",
        "",
        f"Machine: {machine()}. Command: `{command}`. {len(photos)} held-out photos of "
        f"`../shared/content` at {SIDE} px short side, cropped to {CROP}×{CROP}; each shipped "
        "network's output for the photo shifted diagonally by s pixels against its output for "
        "the photo, shifted the same way: mean squared change on [0, 1], ×10⁻³, over the "
        f"overlap less {MARGIN} border pixels (lower follows the picture better).",
        "",
        markdown_table(["style", *(f"s = {s}" for s in SHIFTS), "mean of s = 1…7 ÷ s = 8"], rows),
        "",
        "A shift by the networks' 8-pixel stride moves the picture with their grid and changes "
        "the output little; any other shift makes the textures re-form, several times as much. "
        "A camera move that is not a multiple of 8 pixels at the painting's size does this to "
        "every unsmoothed frame; it is what the training's stability term "
        "(`train_fast/stability.py`) trades against texture.",
    ]
    publish("shift_equivariance", lines, write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
