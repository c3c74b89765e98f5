"""Texture against steadiness: both of the style criteria, as the painting is softened.

Issue #10 asks every style to be at least as close to its painting as the peer's (among
others, on the mean Gram ratio over relu1_1…relu5_1: the painting's texture) *and* to
flicker no more, frame by frame, than the rtnet model it replaced (warping error on the
shared clips). This script takes both measures of the shipped models and of the same
models with their painting blurred (Gaussian, ``--soften`` σ in pixels at the size the
network paints at, between :meth:`Stylizer.paint` and :meth:`Stylizer.finish`): the
finest scale of the painting carries most of the Gram texture and most of the flicker,
so the table shows how far apart the two criteria are for each style. The peer's
any-painting mode, which criterion 1 compares with, is measured on the same clips.

Texture: ``benchmarks/quality.py``'s held-out frames, metrics and peer outputs (cached
there; ours only are stylised here). Steadiness: ``benchmarks/network_flicker.py``'s clips
and reference models.

    python benchmarks/texture_vs_flicker.py --styles candy mosaic the_scream
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import cv2
import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.network_flicker import (  # noqa: E402
    CLIPS,
    HELD_OUT_CLIPS,
    FlickerClips,
    counts,
    reference_model,
)
from benchmarks.quality import (  # noqa: E402
    CACHE,
    PEER,
    PHOTOS,
    SHARED,
    Frame,
    Scorer,
    compare_picture,
    held_out_photos,
    peer_outputs,
    score_style,
    style_of,
    video_frames,
    write_jpeg,
)
from benchmarks.quality_metrics import QualityMeter  # noqa: E402
from benchmarks.report import machine, markdown_table, publish  # noqa: E402
from stream_nst.engine import Painting, Stylizer  # noqa: E402
from train_fast.vgg import load_vgg_weights  # noqa: E402

PICTURE_FRAME = "box.mp4#160"
"""The held-out frame of the picture (a webcam-like 640×480 frame)."""
PICTURE = ROOT / "samples" / "texture_vs_flicker.jpg"


class SoftenedStylizer:
    """A :class:`Stylizer` whose painting is blurred by ``sigma`` px before it is finished."""

    def __init__(self, stylizer: Stylizer, sigma: float) -> None:
        self.stylizer = stylizer
        self.sigma = sigma

    def stylize(self, frame: np.ndarray) -> np.ndarray:
        painting = self.stylizer.paint(frame)
        if self.sigma > 0:
            soft = cv2.GaussianBlur(painting.painted, (0, 0), self.sigma)
            painting = Painting(painting.frame, painting.source, soft)
        return self.stylizer.finish(painting)


@dataclass(frozen=True)
class Point:
    """One style at one softening: its texture and its flicker against the reference."""

    style: str
    sigma: float | None
    """The softening of our painting; None for the peer's output."""
    gram: float
    """Our mean Gram ratio over the quality frames (lower: closer to the painting)."""
    peer_gram: float
    flicker: dict[str, float]
    """Warping error ÷ the reference's, by clip (at most 1: no more flicker)."""

    @property
    def meets_both(self) -> bool:
        """Texture at least the peer's and no more flicker than the reference on every clip."""
        return self.gram <= self.peer_gram and all(r <= 1 for r in self.flicker.values())

    def row(self) -> list[object]:
        tuning = [self.flicker[c] for c in CLIPS if c in self.flicker]
        held_out = [self.flicker[c] for c in HELD_OUT_CLIPS if c in self.flicker]
        return [
            f"`{self.style}`",
            "peer" if self.sigma is None else f"ours, σ {self.sigma:g}",
            f"{self.gram:.3f} ({self.peer_gram:.3f})",
            "yes" if self.gram <= self.peer_gram else "no",
            counts(tuning),
            f"{max(tuning):.2f}",
            counts(held_out),
            f"{max(held_out):.2f}" if held_out else "–",
            "**both**" if self.meets_both else "no",
        ]


def mean_gram(rows: Sequence[dict], method: str) -> float:
    """The mean over frames of ``method``'s mean Gram ratio (quality.py's rows)."""
    return float(np.mean([r[method]["gram_mean"] for r in rows]))


def trades_off(points: Sequence[Point]) -> bool:
    """Whether, style by style, more softening always raised the Gram ratio and lowered the
    worst flicker ratio over the clips."""
    by_style: dict[str, list[Point]] = {}
    for point in sorted((p for p in points if p.sigma is not None), key=lambda p: p.sigma):
        by_style.setdefault(point.style, []).append(point)
    return all(
        a.gram < b.gram and max(a.flicker.values()) > max(b.flicker.values())
        for runs in by_style.values()
        for a, b in pairwise(runs)
    )


def section(points: Sequence[Point], command: str, frames: int, clip_frames: int) -> list[str]:
    """BENCHMARKS.md's section: the table and what it shows."""
    header = [
        "style",
        "output",
        "Gram ratio (peer's)",
        "texture ≤ peer",
        "tuning clips ≤ reference",
        "worst tuning ratio",
        "held-out clips ≤ reference",
        "worst held-out ratio",
        "meets both",
    ]
    met = [p for p in points if p.sigma is not None and p.meets_both]
    ours = sum(p.sigma is not None for p in points)
    trade = (
        " Blurring the painting lowered the flicker and raised the Gram ratio together for "
        "every style here: the fine scale that the networks' flicker lives in is the texture "
        "the Gram ratio asks for."
        if trades_off(points)
        else ""
    )
    return [
        "## Texture against steadiness",
        "",
        f"Machine: {machine()}. Command: `{command}`. Each style's model as shipped (σ 0) "
        "and with its painting blurred by a Gaussian of σ pixels at the size it paints at, "
        f"before the finishing upsampler; and the peer ({PEER}, its any-painting mode at its "
        "defaults, each frame alone) given the same painting. *Gram ratio*: the mean over "
        f"the quality benchmark's {frames} held-out frames (lower: closer to the painting's "
        "texture; in brackets the peer's, the bar of criterion 1). *Ratios*: warping error ÷ the "
        f"rtnet reference's on the flicker benchmark's clips (first {clip_frames} frames; "
        "at most 1 on every clip is the bar of criterion 3).",
        "",
        markdown_table(header, [p.row() for p in points]),
        "",
        f"**{len(met)} of {ours}** rows of ours meet both bars.{trade}",
        "",
        f"Picture ({PICTURE_FRAME}, each style: ours at every σ, then the peer): "
        f"[{PICTURE.relative_to(ROOT)}]({PICTURE.relative_to(ROOT)}).",
    ]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--styles", nargs="+", default=["candy", "mosaic", "the_scream"])
    p.add_argument("--soften", nargs="+", type=float, default=[0.0, 0.7, 1.2])
    p.add_argument("--models-dir", type=Path, default=ROOT / "models")
    p.add_argument("--shared", type=Path, default=SHARED)
    p.add_argument("--reference", default="f957cb1", help="git revision of the old models")
    p.add_argument("--frames", type=int, default=40, help="frames of each flicker clip")
    p.add_argument("--peer-venv", type=Path, default=CACHE / "peer-venv")
    p.add_argument("--cache-dir", type=Path, default=CACHE / "quality")
    p.add_argument("--no-write", action="store_true", help="print only: BENCHMARKS.md stays")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(2)
    scorer = Scorer(QualityMeter(load_vgg_weights(args.shared / "vgg19")), args.cache_dir)
    frames = held_out_photos(args.shared / "content", PHOTOS) + video_frames(args.shared / "videos")
    clips = FlickerClips.load(args.shared / "videos", args.frames, 640)
    clip_frames = {
        clip: [Frame(f"{clip}#{i}", "clip", image) for i, image in enumerate(pictures)]
        for clip, pictures in clips.frames.items()
    }
    peer_args = (args.peer_venv, args.cache_dir)
    shown = next(i for i, frame in enumerate(frames) if frame.name == PICTURE_FRAME)
    picture: list[list[tuple[str, np.ndarray]]] = []
    points = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.styles:
            model = args.models_dir / f"{name}.onnx"
            style = style_of(model, args.shared / "styles")
            old = reference_model(args.reference, name, Path(tmp))
            if old is None:
                continue
            reference = {c: clips.error(c, Stylizer(old).stylize) for c in clips.frames}
            peer = peer_outputs(style, frames, *peer_args)
            picture.append([])
            stylizer = Stylizer(model)
            for sigma in args.soften:
                ours = SoftenedStylizer(stylizer, sigma)
                outputs = {"ours": [ours.stylize(f.image) for f in frames], "peer": peer}
                rows = score_style(scorer, style, frames, outputs)
                flicker = {c: clips.error(c, ours.stylize) / reference[c] for c in clips.frames}
                point = Point(
                    name, sigma, mean_gram(rows, "ours"), mean_gram(rows, "peer"), flicker
                )
                points.append(point)
                picture[-1].append((f"{name}: ours, sigma {sigma:g}", outputs["ours"][shown]))
                print(" | ".join(str(v) for v in point.row()), flush=True)
            picture[-1].append((f"{name}: peer", peer[shown]))
            peer_flicker = {
                clip: clips.error_of(clip, peer_outputs(style, pictures, *peer_args))
                / reference[clip]
                for clip, pictures in clip_frames.items()
            }
            peer_gram = points[-1].peer_gram
            points.append(Point(name, None, peer_gram, peer_gram, peer_flicker))
            print(" | ".join(str(v) for v in points[-1].row()), flush=True)
    command = "python benchmarks/texture_vs_flicker.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    if not args.no_write:
        write_jpeg(PICTURE, compare_picture(picture))
    publish(
        "texture_vs_flicker",
        section(points, command, len(frames), args.frames),
        write=not args.no_write,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
