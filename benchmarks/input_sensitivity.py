"""What moves the networks' output: small input changes of the kind video frames have.

Between two frames of a video the picture moves (against the networks' 8-pixel stride
grid, or with it), sensor and compression noise change (pixel by pixel, and smoothly over
blocks of pixels) and the exposure drifts. For every shipped model and its reference (the
model of the same style at ``--reference``, the rtnet library the flicker criterion
compares with), on held-out photos scaled to the painting size (360 px short side) and
cropped square, this prints the mean squared change on [0, 1] (×10⁻³) of the output under
each such change alone, away from the borders:

* *shift off the grid*: the photo shifted diagonally by s = 1…7 pixels (the same pixels,
  so only the grid matters), against the original output shifted the same way; the mean;
* *shift by 8*: the same for s = 8, which moves the picture with the grid;
* *pixel noise*: Gaussian noise of 2 levels (0–255) added to every pixel;
* *smooth noise*: 2 levels of noise varying smoothly over 16-pixel cells (bilinear);
* *brightness*: the photo 1 % brighter;
* *compression*: two captures of the photo, each with its own 1.5 levels of pixel noise,
  JPEG-compressed at the same quality (25, 45 and 65; the mean), against each other: the
  8×8 blocks whose quantisation the noise flips change, as a still camera's compressed
  frames do (the change of ``vtest.avi``'s still pixels from frame to frame);
* *noise on a plain area*: the photo's right half made one flat colour (the photo's mean),
  with and without 1 level of pixel noise there; the change of the output on that half.
  Instance norm lets a network amplify any variation it sees: a plain wall's noise is
  where the lattices and flicker of plain areas come from.

    python benchmarks/input_sensitivity.py [--photos 24] [--reference f957cb1]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.network_flicker import reference_model  # noqa: E402
from benchmarks.report import machine, markdown_table, publish  # noqa: E402
from stream_nst.engine import StyleModel, Stylizer  # noqa: E402
from train_fast.data import split_content  # noqa: E402
from train_fast.images import resize_short_side  # noqa: E402

SIDE = 360
"""Short side the photos are scaled to: the shipped models' painting size."""
CROP = 352
"""The square each photo is cropped to (a multiple of the networks' 8)."""
MARGIN = 16
"""Border pixels left out of the comparison (reflection padding changes them)."""
NOISE_LEVELS = 2.0
"""Standard deviation of both noises, 0–255 levels."""
SMOOTH_CELL = 16
"""Cell size (px) of the smooth noise."""
BRIGHTER = 1.01
"""The brightness change."""
CAPTURE_NOISE = 1.5
"""Standard deviation of each capture's pixel noise before compression, 0–255 levels."""
JPEG_QUALITIES = (25, 45, 65)
"""The JPEG qualities of the compression column."""
PLAIN_NOISE = 1.0
"""Standard deviation of the pixel noise on the plain half, 0–255 levels."""


def photo_squares(content_dir: Path, count: int) -> list[np.ndarray]:
    """The first ``count`` held-out photos, short side :data:`SIDE`, centre :data:`CROP`²."""
    squares = []
    for path in split_content(content_dir)[1][:count]:
        image = resize_short_side(cv2.imread(str(path)), SIDE)
        h, w = image.shape[:2]
        y, x = (h - CROP) // 2, (w - CROP) // 2
        squares.append(image[y : y + CROP, x : x + CROP])
    return squares


def _change(a: np.ndarray, b: np.ndarray) -> float:
    """Mean squared difference on [0, 1] of two uint8 images, borders left out."""
    inner = (slice(MARGIN, -MARGIN), slice(MARGIN, -MARGIN))
    return float(np.mean(np.square((a[inner].astype(np.float32) - b[inner]) / 255.0)))


def shift_change(model: StyleModel, photo: np.ndarray, shift: int) -> float:
    """Change of the output under a diagonal shift of the input by ``shift`` pixels."""
    size = CROP - 8  # both windows the same size, a multiple of 8
    base = model.run(np.ascontiguousarray(photo[:size, :size]))
    moved = model.run(np.ascontiguousarray(photo[shift : shift + size, shift : shift + size]))
    # Original coordinates [shift, size) in both outputs.
    return _change(moved[: size - shift, : size - shift], base[shift:, shift:])


def _noisy(photo: np.ndarray, noise: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(photo + noise), 0, 255).astype(np.uint8)


def pixel_noise(photo: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return _noisy(photo, rng.normal(0.0, NOISE_LEVELS, photo.shape))


def smooth_noise(photo: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    cells = CROP // SMOOTH_CELL + 1
    coarse = rng.normal(0.0, NOISE_LEVELS, (cells, cells, 3)).astype(np.float32)
    return _noisy(photo, cv2.resize(coarse, (CROP, CROP), interpolation=cv2.INTER_LINEAR))


def brighter(photo: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return _noisy(photo.astype(np.float32) * BRIGHTER, 0.0)


CHANGES: dict[str, Callable[[np.ndarray, np.random.Generator], np.ndarray]] = {
    "pixel noise": pixel_noise,
    "smooth noise": smooth_noise,
    "brightness": brighter,
}
"""The input changes other than shifts, by column name."""
COLUMNS = ("shift off the grid", "shift by 8", *CHANGES, "compression", "noise on a plain area")


def compressed_capture(photo: np.ndarray, quality: int, rng: np.random.Generator) -> np.ndarray:
    """``photo`` with fresh pixel noise, through JPEG at ``quality``."""
    noisy = _noisy(photo, rng.normal(0.0, CAPTURE_NOISE, photo.shape))
    _, data = cv2.imencode(".jpg", noisy, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


def compression_change(model: StyleModel, photo: np.ndarray, rng: np.random.Generator) -> float:
    """Mean change between the outputs of two compressed captures of ``photo``."""
    return float(
        np.mean(
            [
                _change(*(model.run(compressed_capture(photo, q, rng)) for _ in range(2)))
                for q in JPEG_QUALITIES
            ]
        )
    )


def _right_half(image: np.ndarray) -> tuple[slice, slice]:
    """The index of ``image``'s right half."""
    return slice(None), slice(image.shape[1] // 2, None)


def plain_half(photo: np.ndarray) -> np.ndarray:
    """``photo`` with its right half one flat colour, the photo's mean."""
    plain = photo.copy()
    plain[_right_half(photo)] = np.round(photo.mean(axis=(0, 1))).astype(np.uint8)
    return plain


def plain_noise_change(model: StyleModel, photo: np.ndarray, rng: np.random.Generator) -> float:
    """Change of the output on the plain half of :func:`plain_half` when
    :data:`PLAIN_NOISE` levels of pixel noise are added there."""
    plain = plain_half(photo)
    half = _right_half(plain)
    noise = np.zeros(plain.shape, np.float32)
    noise[half] = rng.normal(0.0, PLAIN_NOISE, noise[half].shape)
    return _change(model.run(plain)[half], model.run(_noisy(plain, noise))[half])


def sensitivity(model: StyleModel, photos: list[np.ndarray]) -> list[float]:
    """Mean output change (×10⁻³) under each change of :data:`COLUMNS`, over ``photos``."""
    rng = np.random.default_rng(0)  # the same noise for every model
    rows = []
    for photo in photos:
        base = model.run(photo)
        rows.append(
            [
                np.mean([shift_change(model, photo, s) for s in range(1, 8)]),
                shift_change(model, photo, 8),
                *(_change(model.run(change(photo, rng)), base) for change in CHANGES.values()),
                compression_change(model, photo, rng),
                plain_noise_change(model, photo, rng),
            ]
        )
    return [float(v) * 1e3 for v in np.mean(rows, axis=0)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--content-dir", type=Path, default=ROOT.parent / "shared" / "content")
    p.add_argument("--photos", type=int, default=24)
    p.add_argument("--models-dir", type=Path, default=ROOT / "models")
    p.add_argument("--reference", default="f957cb1", help="git revision of the old models")
    p.add_argument("--no-write", action="store_true", help="print only: BENCHMARKS.md stays")
    args = p.parse_args(argv)
    photos = photo_squares(args.content_dir, args.photos)
    rows = []
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in sorted(args.models_dir.glob("*.onnx")):
            now = sensitivity(Stylizer(path).model, photos)
            old = reference_model(args.reference, path.stem, Path(tmp))
            then = sensitivity(Stylizer(old).model, photos) if old else [float("nan")] * len(now)
            pairs = list(zip(now, then, strict=True))
            ratios.append([n / t for n, t in pairs])
            print(f"{path.stem}: " + " ".join(f"{n:.2f} ({t:.2f})" for n, t in pairs), flush=True)
            rows.append([f"`{path.stem}`", *(f"**{n:.2f}** ({t:.2f})" for n, t in pairs)])
    median = np.nanmedian(np.array(ratios), axis=0)
    command = " ".join(
        ["python benchmarks/input_sensitivity.py", *(argv if argv is not None else sys.argv[1:])]
    )
    lines = [
        "## Input sensitivity: what moves the networks' output",
        "",
        f"Machine: {machine()}. Command: `{command}`. {len(photos)} held-out photos of "
        f"`../shared/content` at {SIDE} px short side, cropped to {CROP}×{CROP}. Mean squared "
        f"change of each network's output on [0, 1], ×10⁻³, less {MARGIN} border pixels, when "
        "the input changes as between video frames: shifted diagonally by 1–7 pixels (mean; "
        "against the 8-pixel stride grid, compared with the output shifted alike) or by 8 "
        f"(with the grid); {NOISE_LEVELS:g} levels of noise on every pixel, or varying smoothly "
        f"over {SMOOTH_CELL}-pixel cells; {BRIGHTER - 1:.0%} brighter; or, for *compression*, "
        f"two captures each with {CAPTURE_NOISE:g} levels of pixel noise, JPEG-compressed at "
        f"the same quality ({', '.join(map(str, JPEG_QUALITIES))}), against each other (as a "
        "still camera's compressed frames change); or, for *noise on a plain area*, the "
        f"photo's right half made one flat colour, with and without {PLAIN_NOISE:g} level of "
        "pixel noise there (the change on that half). **Shipped** (reference: "
        f"the rtnet model of the same style at `{args.reference}`). Lower is steadier.",
        "",
        markdown_table(["style", *COLUMNS], rows),
        "",
        "Median over the styles of shipped ÷ reference: "
        + ", ".join(f"{c} {m:.2f}×" for c, m in zip(COLUMNS, median, strict=True))
        + ".",
    ]
    publish("input_sensitivity", lines, write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
