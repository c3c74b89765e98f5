"""Where on a still-camera clip the networks flicker: on the things that move, or elsewhere.

On a clip from a still camera (``vtest.avi``: people walking across a square; ``box.mp4``),
each pixel is *near motion* when it lies within ``--reach`` px of a pixel whose flow differs
from the frame's median flow by more than ``--moving`` px (something moving on its own; the
median is the camera), and *still* otherwise. For every shipped style and its reference
(the model of the same style at ``--reference``, as in ``benchmarks/network_flicker.py``),
the first ``--frames`` frames are stylised one by one with no smoothing, and the warping
error along the source's flow (``stream_nst.flicker``) is split into the two parts: the
share of the error near motion, and the mean error over the still pixels. A second table
says what changes the painting of the still pixels: each frame with only its pixels near
motion taken from the next frame (the moving things alone), and with only the others taken
from it (noise and compression alone), against the frame's own painting. A third table
splits the moving things' share by how far the still pixels lie from the nearest moving
pixel (``--reach`` to twice it, twice to four times, beyond): how far a network's painting
of something spreads around it.

(On clips where the camera shakes or pans, the flow of plain areas is noisy enough to call
most pixels moving: this split is for still cameras.)

``--picture STYLE IMAGE`` also draws, for one pair of frames, that style's painting and its
reference's, and how each changes when only the pixels near motion change.

    python benchmarks/flicker_near_motion.py [--clip vtest.avi] [--styles mosaic candy]
                                             [--picture candy docs/moving_things.jpg]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.network_flicker import reference_model  # noqa: E402
from benchmarks.report import labelled_strip, machine, markdown_table, publish  # noqa: E402
from stream_nst.engine import Stylizer  # noqa: E402
from stream_nst.flicker import Motion, MotionEstimator, read_frames, warping_error_map  # noqa: E402


def motion_distance(motion: Motion, moving: float) -> np.ndarray:
    """float ``HxW``: how many px (along rows, columns or diagonals) each pixel lies from the
    nearest pixel moving more than ``moving`` px against the median flow (0 on them)."""
    own = motion.flow - np.median(motion.flow.reshape(-1, 2), axis=0)
    still = (np.linalg.norm(own, axis=-1) <= moving).astype(np.uint8)
    return cv2.distanceTransform(still, cv2.DIST_C, 3)


def split_error(
    outputs: list[np.ndarray], motions: list[Motion], near: list[np.ndarray]
) -> tuple[float, float]:
    """(share of the summed warping error near motion, mean error ×10⁻³ of still pixels)."""
    near_sum = still_sum = still_count = 0.0
    for (previous, current), motion, close in zip(pairwise(outputs), motions, near, strict=True):
        error = warping_error_map(previous, current, motion)
        near_sum += float(error[motion.visible & close].sum())
        still = motion.visible & ~close
        still_sum += float(error[still].sum())
        still_count += int(np.count_nonzero(still))
    return near_sum / (near_sum + still_sum), still_sum / max(1.0, still_count) * 1e3


def _change(
    stylize: Callable[[np.ndarray], np.ndarray],
    previous: np.ndarray,
    current: np.ndarray,
    region: np.ndarray,
    painted: np.ndarray,
) -> np.ndarray:
    """Squared change per pixel (on [0, 1], mean over the colours) of ``previous``'s
    painting (``painted``) when only ``region`` takes ``current``'s values."""
    frame = previous.copy()
    frame[region] = current[region]
    change = (stylize(frame).astype(np.float32) - painted.astype(np.float32)) / 255.0
    return np.mean(change**2, axis=2)


@dataclass(frozen=True)
class StillChange:
    """What changes the still pixels' painting: mean squared changes ×10⁻³ on [0, 1]."""

    moving: float
    """From the pixels near motion alone taking the next frame's values."""
    rest: float
    """From the still pixels alone taking them (noise, compression)."""
    by_distance: tuple[float, ...]
    """``moving``'s change at ``reach``–2·``reach``, 2–4·``reach`` and beyond 4·``reach`` px
    from the nearest moving pixel."""


def still_change(
    stylize: Callable[[np.ndarray], np.ndarray],
    frames: list[np.ndarray],
    paintings: list[np.ndarray],
    distances: list[np.ndarray],
    reach: int,
) -> StillChange:
    """What changes the painting of the pixels more than ``reach`` px from motion
    (``distances``: :func:`motion_distance` of each pair) between frames; ``paintings``
    are ``stylize`` of ``frames``."""
    edges = (reach, 2 * reach, 4 * reach, np.inf)
    moving: list[float] = []
    rest: list[float] = []
    bands: list[list[float]] = [[] for _ in edges[1:]]
    pairs = zip(pairwise(frames), paintings, distances, strict=False)
    for (previous, current), painted, distance in pairs:
        close = distance <= reach
        from_moving = _change(stylize, previous, current, close, painted)
        moving.append(float(from_moving[~close].mean()))
        rest.append(float(_change(stylize, previous, current, ~close, painted)[~close].mean()))
        for band, low, high in zip(bands, edges, edges[1:], strict=False):
            inside = (distance > low) & (distance <= high)
            if inside.any():
                band.append(float(from_moving[inside].mean()))
    return StillChange(
        float(np.mean(moving)) * 1e3,
        float(np.mean(rest)) * 1e3,
        tuple(float(np.mean(b)) * 1e3 if b else float("nan") for b in bands),
    )


PICTURE_PAIR = 5
"""The pair of frames (its first frame's index) ``--picture`` draws."""


def moving_things_picture(
    paintings: dict[str, Callable[[np.ndarray], np.ndarray]],
    frames: list[np.ndarray],
    near: list[np.ndarray],
    height: int = 300,
) -> np.ndarray:
    """For frames :data:`PICTURE_PAIR` and the next: the frame and its pixels near motion,
    then for each of ``paintings`` (label: stylize) the painting and how much it changes
    when only the pixels near motion take the next frame's values (largest change over the
    colours, ×4, as a heat map)."""
    index = min(PICTURE_PAIR, len(near) - 1)
    previous, close = frames[index], near[index]
    moved = previous.copy()
    moved[close] = frames[index + 1][close]
    mask = cv2.cvtColor(close.astype(np.uint8) * 255, cv2.COLOR_GRAY2BGR)
    rows = [labelled_strip([("frame", previous), ("near motion (white)", mask)], height)]
    for label, stylize in paintings.items():
        before = stylize(previous)
        change = np.abs(stylize(moved).astype(np.int16) - before).max(axis=2)
        heat = cv2.applyColorMap(np.clip(change * 4, 0, 255).astype(np.uint8), cv2.COLORMAP_INFERNO)
        rows.append(
            labelled_strip(
                [(f"{label}: painting", before), (f"{label}: change from the moving things", heat)],
                height,
            )
        )
    return np.vstack(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--clip", type=Path, default=ROOT.parent / "shared" / "videos" / "vtest.avi")
    p.add_argument("--reference", default="f957cb1", help="git revision of the old models")
    p.add_argument("--frames", type=int, default=40)
    p.add_argument("--max-width", type=int, default=640)
    p.add_argument("--moving", type=float, default=0.5, help="px against the median flow")
    p.add_argument("--reach", type=int, default=8, help="px around moving pixels")
    p.add_argument("--styles", nargs="*", default=None, help="default: every shipped style")
    p.add_argument("--models-dir", type=Path, default=ROOT / "models")
    p.add_argument(
        "--picture",
        nargs=2,
        metavar=("STYLE", "IMAGE"),
        help="draw STYLE's and its reference's change from the moving things into IMAGE",
    )
    p.add_argument("--no-write", action="store_true", help="print only: BENCHMARKS.md stays")
    args = p.parse_args(argv)
    frames = list(read_frames(args.clip, max_frames=args.frames, max_width=args.max_width))
    estimate = MotionEstimator()
    motions = [estimate(a, b) for a, b in pairwise(frames)]
    distances = [motion_distance(m, args.moving) for m in motions]
    near = [d <= args.reach for d in distances]  # within --reach px of something moving
    near_share = float(np.mean([np.count_nonzero(c) / c.size for c in near]))
    names = args.styles or sorted(m.stem for m in args.models_dir.glob("*.onnx"))
    rows, causes, reaches = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            old = reference_model(args.reference, name, Path(tmp))
            if old is None:
                continue
            stylizers = {
                "reference": Stylizer(old).stylize,
                "now": Stylizer(args.models_dir / f"{name}.onnx").stylize,
            }
            cells, cause_cells, reach_cells = [], [], []
            for stylize in stylizers.values():
                paintings = [stylize(f) for f in frames]
                share, still = split_error(paintings, motions, near)
                cells += [f"{share:.0%}", f"{still:.2f}"]
                changes = still_change(stylize, frames, paintings, distances, args.reach)
                cause_cells += [f"{changes.moving:.3f}", f"{changes.rest:.3f}"]
                reach_cells += [f"{c:.3f}" for c in changes.by_distance]
            rows.append([f"`{name}`", *cells])
            causes.append([f"`{name}`", *cause_cells])
            reaches.append([f"`{name}`", *reach_cells])
            if args.picture and args.picture[0] == name:
                cv2.imwrite(args.picture[1], moving_things_picture(stylizers, frames, near))
            print(f"{name}: {cells} {cause_cells} {reach_cells}", flush=True)
    command = "python benchmarks/flicker_near_motion.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    lines = [
        "## Where the networks flicker on a still camera",
        "",
        f"Machine: {machine()}. Command: `{command}`. Clip `{args.clip.name}`, first "
        f"{args.frames} frames at most {args.max_width} px wide, each stylised alone with no "
        f"smoothing. *Near motion*: within {args.reach} px of a pixel whose flow (OpenCV DIS) "
        f"differs from the frame's median by more than {args.moving} px (on average "
        f"{near_share:.0%} of the frame); *still*: the rest. Warping error as in "
        f"*Flicker of the networks themselves*; reference: the models at `{args.reference}`.",
        "",
        markdown_table(
            [
                "style",
                "reference: share of the error near motion",
                "reference: still pixels ×10⁻³",
                "now: share near motion",
                "now: still pixels ×10⁻³",
            ],
            rows,
        ),
        "",
        "What changes the still pixels' painting from one frame to the next: the mean "
        "squared change ×10⁻³ of their painting when only the pixels near motion take the "
        "next frame's values (*moving things*), and when only the still pixels do (*the "
        "rest*: noise, compression); no warp (a still camera).",
        "",
        markdown_table(
            [
                "style",
                "reference: moving things",
                "reference: the rest",
                "now: moving things",
                "now: the rest",
            ],
            causes,
        ),
        "",
        "How far the moving things reach: their change of the still pixels' painting (as "
        "*moving things* above) by distance from the nearest moving pixel.",
        "",
        markdown_table(
            ["style"]
            + [
                f"{who}: {band} px"
                for who in ("reference", "now")
                for band in (
                    f"{args.reach}–{2 * args.reach}",
                    f"{2 * args.reach}–{4 * args.reach}",
                    f"over {4 * args.reach}",
                )
            ],
            reaches,
        ),
    ]
    publish("flicker_near_motion", lines, write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
