"""Per-frame flicker of the style networks themselves: today's models against a reference commit's.

For every style in ``models/`` that also exists at ``--reference`` (a git revision, by
default the last release of the rtnet library), both models stylise every frame (or ``--frames``
frames) of each shared clip (at most ``--max-width`` px wide) one by one, with no smoothing,
and the warping error of Lai et al. (2018) is measured along the source's flow
(``stream_nst.flicker``: OpenCV DIS, forward–backward occlusion check). Lower is steadier;
the criterion is new ≤ reference on every clip. The recipes were chosen by looking at the
tuning clips (:data:`CLIPS`); the held-out clips (:data:`HELD_OUT_CLIPS`) never were, and are
reported apart. ``--smoothed`` measures the default video pipeline instead (both models'
paintings steadied by the temporal smoother, :class:`stream_nst.sequence.SequenceStylizer`),
in a section of its own.

    python benchmarks/network_flicker.py [--reference f957cb1] [--frames N] [--start 0]
                                         [--smoothed] [--styles NAME ...] [--no-write]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice, pairwise
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.report import machine, markdown_table, publish  # noqa: E402
from stream_nst.engine import Stylizer  # noqa: E402
from stream_nst.flicker import (  # noqa: E402
    Motion,
    MotionEstimator,
    mean_warping_error,
    read_frames,
)
from stream_nst.sequence import SequenceStylizer  # noqa: E402

CLIPS = ("cup.mp4", "box.mp4", "vtest.avi", "cityCC0.mpg", "sintel_mountain_2")
"""Tuning clips: the library's stability weights were chosen by their scores."""
HELD_OUT_CLIPS = ("tree.avi", "realshort.mp4")
"""Clips no recipe was chosen by."""


def ratios(style: dict[str, float], clips: tuple[str, ...]) -> list[float]:
    """A style's now ÷ reference ratios (by clip) on ``clips``."""
    return [r for clip, r in style.items() if clip in clips]


def counts(values: list[float]) -> str:
    """How many of the ratios are at most 1, as "K of N"."""
    return f"{sum(r <= 1 for r in values)} of {len(values)}"


def pairs_of(values: list[float], names: tuple[str, ...], measured: dict[str, int]) -> str:
    """The clips of ``names`` that were measured (``measured``: clip → frames), with their
    frame counts, and the median of their ratios."""
    listed = (
        ", ".join(f"{name} {measured[name]} frames" for name in names if name in measured)
        or "none long enough"
    )
    return f"{listed}; median ratio {np.median(values):.2f}" if values else listed


@dataclass(frozen=True)
class FlickerClips:
    """Frames of the shared clips (a window of each, or all of it) and the source's motion
    between them."""

    frames: dict[str, list[np.ndarray]]
    motions: dict[str, list[Motion]]

    @classmethod
    def load(
        cls,
        videos: Path,
        frames: int | None,
        max_width: int,
        start: int = 0,
        names: tuple[str, ...] = (*CLIPS, *HELD_OUT_CLIPS),
    ) -> FlickerClips:
        """The clips of ``names`` found in ``videos`` (``frames`` frames from frame
        ``start``, None: to the clip's end; a clip with fewer than two there is left out),
        and their flow."""
        end = None if frames is None else start + frames
        windows = {
            clip: list(islice(read_frames(videos / clip, max_width=max_width), start, end))
            for clip in names
            if (videos / clip).exists()
        }
        clips = {clip: window for clip, window in windows.items() if len(window) >= 2}
        estimate = MotionEstimator()
        motions = {
            clip: [estimate(a, b) for a, b in pairwise(frames)] for clip, frames in clips.items()
        }
        return cls(clips, motions)

    def error(self, clip: str, stylize: Callable[[np.ndarray], np.ndarray]) -> float:
        """Warping error ×10⁻³ of ``clip`` stylised frame by frame (``stylize``)."""
        return self.error_of(clip, [stylize(f) for f in self.frames[clip]])

    def error_of(self, clip: str, outputs: list[np.ndarray]) -> float:
        """Warping error ×10⁻³ of ``outputs``, ``clip``'s frames stylised one by one."""
        return mean_warping_error(outputs, self.motions[clip]) * 1e3


def reference_model(revision: str, name: str, directory: Path) -> Path | None:
    """``models/NAME.onnx`` as it was at ``revision``, or None if it did not exist."""
    done = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{revision}:models/{name}.onnx"],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        return None
    path = directory / f"{name}.onnx"
    path.write_bytes(done.stdout)
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--reference", default="f957cb1", help="git revision of the old models")
    p.add_argument("--videos", type=Path, default=ROOT.parent / "shared" / "videos")
    p.add_argument(
        "--frames",
        type=int,
        default=None,
        help="frames of each clip from --start (default: to the clip's end)",
    )
    p.add_argument(
        "--start",
        type=int,
        default=0,
        help="first frame of each clip's window (another window of the same clips: a check "
        "that a result is not one window's; clips shorter than that are left out)",
    )
    p.add_argument("--max-width", type=int, default=640)
    p.add_argument("--styles", nargs="*", default=None, help="default: every shipped style")
    p.add_argument(
        "--models-dir", type=Path, default=ROOT / "models", help="where today's models are"
    )
    p.add_argument(
        "--smoothed",
        action="store_true",
        help="both models through the default video pipeline (temporal smoothing on), "
        "in section network_flicker_smoothed",
    )
    p.add_argument("--no-write", action="store_true", help="print only: BENCHMARKS.md stays")
    args = p.parse_args(argv)
    width = args.max_width
    names = args.styles or sorted(m.stem for m in args.models_dir.glob("*.onnx"))
    errors: dict[tuple[str, str], tuple[float, float]] = {}  # (style, clip): (old, new)
    source: dict[str, float] = {}
    measured: dict[str, int] = {}  # clip: frames
    with tempfile.TemporaryDirectory() as tmp:
        models = {
            name: (Stylizer(old), Stylizer(args.models_dir / f"{name}.onnx"))
            for name in names
            if (old := reference_model(args.reference, name, Path(tmp))) is not None
        }
        for name in (*CLIPS, *HELD_OUT_CLIPS):  # one clip in memory at a time
            clips = FlickerClips.load(args.videos, args.frames, width, args.start, (name,))
            for clip in clips.frames:
                measured[clip] = len(clips.frames[clip])
                source[clip] = clips.error(clip, lambda f: f)
                for style, pair in models.items():
                    old, new = (
                        clips.error(clip, SequenceStylizer(m) if args.smoothed else m.stylize)
                        for m in pair
                    )
                    errors[style, clip] = old, new
                    print(f"{style} {clip}: {old:.2f} -> {new:.2f}", flush=True)
    rows = []
    by_style: dict[str, dict[str, float]] = {}  # now ÷ reference per clip
    for style in models:
        for clip in measured:
            old, new = errors[style, clip]
            by_style.setdefault(f"`{style}`", {})[clip] = new / old
            rows.append(
                [
                    f"`{style}`",
                    clip if clip in CLIPS else f"{clip} (held out)",
                    f"{source[clip]:.2f}",
                    f"{old:.2f}",
                    f"**{new:.2f}**",
                    f"{new / old:.2f}",
                    "yes" if new <= old else "no",
                ]
            )
    command = "python benchmarks/network_flicker.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    summary = [
        [
            name,
            counts(ratios(style, CLIPS)),
            f"{np.mean(ratios(style, CLIPS)):.2f}",
            counts(ratios(style, HELD_OUT_CLIPS)),
        ]
        for name, style in by_style.items()
    ]
    steadier = sum(np.mean(ratios(style, CLIPS)) <= 1 for style in by_style.values())
    tuning = [r for style in by_style.values() for r in ratios(style, CLIPS)]
    held_out = [r for style in by_style.values() for r in ratios(style, HELD_OUT_CLIPS)]
    if args.smoothed:
        title = "## Flicker of the default video pipeline (smoothing on, both models)"
        how = (
            "the frames stylised in order through the default video pipeline "
            "(`SequenceStylizer`: temporal smoothing on, a fresh smoother per clip), the "
            "reference's too"
        )
    else:
        title = "## Flicker of the networks themselves (no smoothing)"
        how = "each frame stylised alone with default settings"
    if args.frames is None:
        window = f"Frames {args.start} to the end" if args.start else "Every frame"
    elif args.start:
        window = f"Frames {args.start}–{args.start + args.frames - 1}"
    else:
        window = f"The first {args.frames} frames"
    lines = [
        title,
        "",
        f"Machine: {machine()}. Command: `{command}`. Reference: the models at "
        f"`{args.reference}`. {window} of each clip long enough, at most "
        f"{args.max_width} px wide; warping error ×10⁻³ along OpenCV DIS flow of the source "
        f"(lower is steadier; frame pairs across a scene cut left out), {how}. *source* is "
        "the unstylised frames' own warping error: where the flow does not follow the "
        "picture (leaves, noise, compression), an output that keeps the picture's detail at "
        "its contrast scores about that much, a paler or blurrier one less.",
        "",
        markdown_table(
            ["style", "clip", "source", "reference", "now", "now ÷ reference", "now ≤ reference"],
            rows,
        ),
        "",
        f"Now at most the reference on **{counts(tuning)}** style × clip pairs of the tuning "
        f"clips ({pairs_of(tuning, CLIPS, measured)}), which the library's stability weights were "
        f"chosen by, and on **{counts(held_out)}** pairs of the held-out clips "
        f"({pairs_of(held_out, HELD_OUT_CLIPS, measured)}), which no recipe was chosen by.",
        "",
        "Per style:",
        "",
        markdown_table(
            [
                "style",
                "tuning clips now ≤ reference",
                "mean of now ÷ reference (tuning clips)",
                "held-out clips now ≤ reference",
            ],
            summary,
        ),
        "",
        f"**{steadier} of {len(summary)}** styles flicker no more than their reference "
        "on average over the tuning clips (mean ratio at most 1).",
    ]
    section = "network_flicker_smoothed" if args.smoothed else "network_flicker"
    publish(section, lines, write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
