"""Temporal-stability benchmark: per-frame vs plain exponential blend vs FlowSmoother.

For each clip (first ``--frames`` frames, scaled to at most ``--max-width`` wide) the style
model runs frame by frame; the per-frame output is then smoothed by
:class:`~stream_nst.smooth.FlowSmoother` at the default settings and by an
:class:`~stream_nst.smooth.ExponentialBlend` whose alpha is tuned (bisection) to stray as far
from the per-frame output as ours does (equal PSNR). Every output is scored with the same
source flow (:mod:`stream_nst.flicker`). The smoother's cost at 640x480 is timed against the
model's, interleaved frame by frame so background load hits both alike, and the whole runtime
(``stylize_video``) is timed with smoothing off and on.

Writes its section into BENCHMARKS.md between ``<!-- temporal:start -->`` and
``<!-- temporal:end -->`` (other content untouched) and a picture to samples/temporal.png.

    python benchmarks/temporal.py [--model models/mosaic.onnx] [--frames 90]
"""

from __future__ import annotations

import argparse
import io
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.report import BENCHMARKS_MD, machine, markdown_table, write_section
from stream_nst.convert import stylize_video
from stream_nst.engine import Stylizer
from stream_nst.flicker import (
    METRIC_FLOW,
    Motion,
    MotionEstimator,
    clip_psnr,
    mean_warping_error,
    read_frames,
)
from stream_nst.flow import warp
from stream_nst.smooth import ExponentialBlend, FlowSmoother, Smoother, SmoothSettings

ROOT = Path(__file__).resolve().parent.parent
CLIPS = ("cup.mp4", "box.mp4", "vtest.avi", "cityCC0.mpg", "sintel_mountain_2")


@dataclass
class ClipResult:
    """One clip's row of the table."""

    clip: str
    frames: int
    size: str
    net_ms: float
    blend_ms: float
    smooth_ms: float
    alpha: float
    warp: dict[str, float]  # method -> mean warping error
    psnr: dict[str, float]  # method -> PSNR vs per-frame (blend, ours)

    @property
    def meets_criteria(self) -> bool:
        """Ours at most half the per-frame warping error, and below the matched blend's."""
        ours = self.warp["ours"]
        return ours <= 0.5 * self.warp["per-frame"] and ours < self.warp["blend"]


@dataclass
class ClipOutputs:
    """Everything the picture needs from one clip."""

    sources: list[np.ndarray]
    outputs: dict[str, list[np.ndarray]]  # method -> frames
    motions: list[Motion]


def timed(fn: Callable[[np.ndarray, np.ndarray], np.ndarray], *frames: Sequence[np.ndarray]):
    """Apply ``fn`` frame by frame; returns the outputs and the mean ms per frame."""
    outputs, seconds = [], 0.0
    for args in zip(*frames, strict=True):
        start = time.perf_counter()
        outputs.append(fn(*args))
        seconds += time.perf_counter() - start
    return outputs, 1000.0 * seconds / len(outputs)


def smoothed(smoother: Smoother, sources, stylized) -> tuple[list[np.ndarray], float]:
    smoother.reset()
    return timed(smoother, sources, stylized)


def matched_alpha(target_psnr: float, sources, stylized) -> float:
    """The blend alpha whose PSNR vs per-frame equals ``target_psnr`` (bisection: PSNR
    falls as alpha grows)."""
    low, high = 0.0, 0.99
    for _ in range(14):
        middle = (low + high) / 2
        blended, _ = smoothed(ExponentialBlend(middle), sources, stylized)
        if clip_psnr(blended, stylized) > target_psnr:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def benchmark_clip(path: Path, stylizer: Stylizer, settings: SmoothSettings, args):
    sources = list(read_frames(path, max_frames=args.frames, max_width=args.max_width))
    stylized, net_ms = timed(stylizer.stylize, sources)
    ours, smooth_ms = smoothed(FlowSmoother(settings), sources, stylized)
    psnr_ours = clip_psnr(ours, stylized)
    alpha = matched_alpha(psnr_ours, sources, stylized)
    blended, blend_ms = smoothed(ExponentialBlend(alpha), sources, stylized)
    estimator = MotionEstimator()
    motions = [estimator(a, b) for a, b in pairwise(sources)]
    outputs = {"per-frame": stylized, "blend": blended, "ours": ours}
    height, width = sources[0].shape[:2]
    result = ClipResult(
        clip=path.name,
        frames=len(sources),
        size=f"{width}x{height}",
        net_ms=net_ms,
        blend_ms=blend_ms,
        smooth_ms=smooth_ms,
        alpha=alpha,
        warp={name: mean_warping_error(frames, motions) for name, frames in outputs.items()},
        psnr={"blend": clip_psnr(blended, stylized), "ours": psnr_ours},
    )
    return result, ClipOutputs(sources, outputs, motions)


def smoother_cost(stylizer: Stylizer, settings: SmoothSettings, path: Path, frames: int):
    """(model ms, smoother ms) per 640x480 frame: medians, the two timed alternately."""
    sources = [
        cv2.resize(f, (640, 480), interpolation=cv2.INTER_AREA)
        for f in read_frames(path, max_frames=frames)
    ]
    smoother = FlowSmoother(settings)
    net, smooth = [], []
    for source in sources:
        start = time.perf_counter()
        stylized = stylizer.stylize(source)
        middle = time.perf_counter()
        smoother(source, stylized)
        net.append(middle - start)
        smooth.append(time.perf_counter() - middle)
    return 1000.0 * float(np.median(net[1:])), 1000.0 * float(np.median(smooth[1:]))


def pipeline_fps(stylizer: Stylizer, path: Path, rounds: int) -> dict[str, float]:
    """fps of the whole runtime (decode, stylize, smooth, encode) on ``path``, smoothing
    off and on, runs alternated; the best of ``rounds`` each (background load only slows)."""
    best = {"off": 0.0, "on": 0.0}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(rounds):
            for mode in best:
                smooth = SmoothSettings(enabled=mode == "on")
                out = Path(folder) / f"{mode}.mp4"
                summary = stylize_video(path, out, style=stylizer, smooth=smooth, overwrite=True)
                best[mode] = max(best[mode], summary.fps)
    return best


CROP = (128, 96)  # (width, height) of one frame's crop in the picture
FLICKER_GAIN = 3.0  # the flicker rows show |frame - previous warped| times this
STRIP = 5  # consecutive frames shown
LABEL_WIDTH = 118


def ghost_crop(blended: Sequence[np.ndarray], stylized: Sequence[np.ndarray]):
    """(first frame, x, y) of the strip and crop where the plain blend strays furthest from
    the per-frame output: its ghost trails, behind moving content."""
    height, width = stylized[0].shape[:2]
    crop_w, crop_h = min(CROP[0], width), min(CROP[1], height)
    energy = [
        cv2.boxFilter(
            cv2.cvtColor(cv2.absdiff(b, s), cv2.COLOR_BGR2GRAY), cv2.CV_32F, (crop_w, crop_h)
        )
        for b, s in zip(blended, stylized, strict=True)
    ]
    best = (-1.0, 1, 0, 0)
    for first in range(1, len(energy) - STRIP + 1):
        window = sum(energy[first : first + STRIP])
        _, peak, _, (x, y) = cv2.minMaxLoc(window)
        best = max(best, (peak, first, x, y))
    _, first, x, y = best
    return (
        first,
        int(np.clip(x - crop_w // 2, 0, width - crop_w)),
        int(np.clip(y - crop_h // 2, 0, height - crop_h)),
    )


def label(tile_row: np.ndarray, text: str) -> np.ndarray:
    margin = np.full((tile_row.shape[0], LABEL_WIDTH, 3), 255, np.uint8)
    for line, part in enumerate(text.split("\n")):
        y = 22 + 18 * line
        cv2.putText(margin, part, (6, y), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return np.hstack([margin, tile_row])


def picture(result: ClipResult, outputs: ClipOutputs) -> np.ndarray:
    """Rows: source, then per method its frames and its flicker (the frame minus the
    previous one warped along the source flow, amplified), over ``STRIP`` consecutive
    frames."""
    first, x, y = ghost_crop(outputs.outputs["blend"], outputs.outputs["per-frame"])
    frames = range(first, first + STRIP)

    def crop(image: np.ndarray) -> np.ndarray:
        return image[y : y + CROP[1], x : x + CROP[0]]

    def flicker(method_frames: list[np.ndarray], t: int) -> np.ndarray:
        previous = warp(method_frames[t - 1], outputs.motions[t - 1].flow)
        residual = cv2.cvtColor(cv2.absdiff(method_frames[t], previous), cv2.COLOR_BGR2GRAY)
        residual = cv2.convertScaleAbs(residual, alpha=FLICKER_GAIN)
        residual[~outputs.motions[t - 1].visible] = 0
        return cv2.cvtColor(residual & 0xF0, cv2.COLOR_GRAY2BGR)  # 16 levels: a smaller PNG

    rows = [label(np.hstack([crop(outputs.sources[t]) for t in frames]), "source")]
    names = {
        "per-frame": "per-frame",
        "blend": f"exp. blend\nalpha {result.alpha:.2f}",
        "ours": "ours\n(FlowSmoother)",
    }
    for method, name in names.items():
        method_frames = outputs.outputs[method]
        rows.append(label(np.hstack([crop(method_frames[t]) for t in frames]), name))
        residual = np.hstack([crop(flicker(method_frames, t)) for t in frames])
        rows.append(
            label(
                residual, f"flicker x{FLICKER_GAIN:g}\nwarp err {result.warp[method] * 1e3:.2f}e-3"
            )
        )
    return np.vstack(rows)


def write_picture(path: Path, image: np.ndarray, limit: int = 300_000) -> None:
    """Write ``image`` as a PNG with an adaptive palette (Pillow, which torchvision brings),
    with as many colours as keep it under ``limit`` bytes."""
    from PIL import Image

    rgb = Image.fromarray(np.ascontiguousarray(image[:, :, ::-1]))
    for colours in (256, 192, 128, 96, 64):
        png = io.BytesIO()
        rgb.quantize(colours, dither=Image.Dither.NONE).save(png, "PNG", optimize=True)
        if png.tell() <= limit:
            break
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png.getvalue())


@dataclass
class Cost:
    """What smoothing costs at 640x480."""

    net_ms: float  # model, per frame
    smooth_ms: float  # FlowSmoother, per frame
    fps_off: float  # whole runtime, smoothing off
    fps_on: float  # whole runtime, smoothing on (default settings)

    @property
    def throughput_cost(self) -> float:
        return 1.0 - self.fps_on / self.fps_off


def section(results: list[ClipResult], cost: Cost, context: dict[str, str]) -> str:
    """The body of the BENCHMARKS.md section."""
    rows = []
    for r in results:
        w = r.warp
        fps = [1000.0 / (r.net_ms + extra) for extra in (0.0, r.blend_ms, r.smooth_ms)]
        rows.append(
            [
                r.clip,
                r.size,
                f"{w['per-frame'] * 1e3:.2f} / {w['blend'] * 1e3:.2f} / **{w['ours'] * 1e3:.2f}**",
                f"{w['ours'] / w['per-frame']:.2f}",
                f"{r.alpha:.2f}",
                f"{r.psnr['blend']:.2f} / {r.psnr['ours']:.2f}",
                f"{fps[0]:.1f} / {fps[1]:.1f} / {fps[2]:.1f}",
                "met" if r.meets_criteria else "**not met**",
            ]
        )
    header = [
        "clip",
        "size",
        "warping error ×10⁻³: per-frame / blend / **ours**",
        "ours ÷ per-frame",
        "blend α",
        "PSNR dB: blend / ours",
        "fps: per-frame / blend / ours",
        "criteria",
    ]
    lines = [
        "## Temporal stability",
        "",
        f"Model `{context['model']}` ({context['description']}); {context['machine']}; "
        f"first {context['frames']} frames of each clip, at most {context['width']} px wide. "
        f"Command: `{context['command']}`",
        "",
        "Warping error (Lai et al. 2018: MSE on [0, 1] between each frame and the previous "
        "one warped along the source's optical flow, over pixels visible in both frames; "
        f"flow: {METRIC_FLOW}; lower is steadier) and PSNR against the per-frame output "
        "(higher strays less: ghosting and lag cost PSNR). The exponential blend's alpha is "
        "tuned per clip to the PSNR of ours. fps: model plus smoother on this machine.",
        "",
        markdown_table(header, rows),
    ]
    cost_ok = cost.throughput_cost <= 0.15
    lines += [
        "",
        f"Cost at 640×480 ({context['cost_clip']}): the smoother takes {cost.smooth_ms:.2f} ms "
        f"a frame against the model's {cost.net_ms:.1f} ms (medians, timed alternately); the "
        f"whole runtime (decode, stylize, smooth, encode; `stylize_video`) runs at "
        f"{cost.fps_off:.1f} fps without smoothing and {cost.fps_on:.1f} fps with it: "
        f"**{cost.throughput_cost:.1%} of throughput** "
        f"({'within' if cost_ok else '**over**'} the 15 % budget). Load average when timing: "
        f"{context['load']} (other jobs slow both alike; the ratios are what count).",
        "",
        "Criteria per clip: ours at most half the per-frame warping error, and below the "
        "equal-PSNR blend's.",
        "",
        f"![Temporal stability on {context['picture_clip']}]({context['picture']})",
        "",
        f"`{context['picture']}`: {context['picture_clip']}, {STRIP} consecutive frames, "
        "cropped where the plain blend ghosts most. Per method: its frames, then its flicker "
        f"(each frame minus the previous one warped along the source flow, ×{FLICKER_GAIN:g}; "
        "occluded pixels black).",
    ]
    return "\n".join(lines)


def relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "mosaic.onnx")
    parser.add_argument("--videos", type=Path, default=ROOT.parent / "shared" / "videos")
    parser.add_argument("--clips", nargs="+", default=list(CLIPS))
    parser.add_argument("--frames", type=int, default=90, help="frames per clip")
    parser.add_argument("--max-width", type=int, default=640)
    parser.add_argument("--picture-clip", default="cup.mp4", help="also the 640x480 cost clip")
    parser.add_argument("--rounds", type=int, default=3, help="runtime fps runs, each mode")
    parser.add_argument("--report", type=Path, default=BENCHMARKS_MD)
    parser.add_argument("--picture", type=Path, default=ROOT / "samples" / "temporal.png")
    parser.add_argument("--no-write", action="store_true", help="print the results only")
    args = parser.parse_args(argv)
    if not args.model.is_file():
        parser.error(f"no model at {args.model} (pass --model)")
    cost_clip = args.videos / args.picture_clip
    if not cost_clip.is_file():
        parser.error(f"{args.picture_clip} is not a video file in {args.videos}")
    stylizer = Stylizer(args.model)
    settings = SmoothSettings()
    results = []
    for clip in args.clips:
        path = args.videos / clip
        if not path.exists():
            print(f"skipping {clip}: not in {args.videos}", file=sys.stderr)
            continue
        result, outputs = benchmark_clip(path, stylizer, settings, args)
        results.append(result)
        w = result.warp
        print(
            f"{result.clip:18} {result.size:8} warping error per-frame {w['per-frame']:.5f} "
            f"blend {w['blend']:.5f} (alpha {result.alpha:.2f}) ours {w['ours']:.5f} "
            f"[x{w['ours'] / w['per-frame']:.2f}] PSNR {result.psnr['ours']:.2f} dB, "
            f"smoother {result.smooth_ms:.2f} ms: {'met' if result.meets_criteria else 'NOT MET'}",
            flush=True,
        )
        if clip == args.picture_clip and not args.no_write:
            write_picture(args.picture, picture(result, outputs))
    load = os.getloadavg()[0]
    net_ms, smooth_ms = smoother_cost(stylizer, settings, cost_clip, 60)
    fps = pipeline_fps(stylizer, cost_clip, args.rounds)
    cost = Cost(net_ms, smooth_ms, fps["off"], fps["on"])
    print(
        f"640x480: model {cost.net_ms:.1f} ms, smoother {cost.smooth_ms:.2f} ms; runtime "
        f"{cost.fps_off:.1f} fps -> {cost.fps_on:.1f} fps smoothed "
        f"({cost.throughput_cost:.1%} of throughput)"
    )
    if not args.no_write:
        context = {
            "model": relative(args.model),
            "description": ", ".join(
                f"{key} {value}"
                for key, value in stylizer.style.metadata.items()
                if key in ("style_name", "architecture")
            )
            or "no metadata",
            "machine": machine(),
            "frames": str(args.frames),
            "width": str(args.max_width),
            "command": shlex.join(["python", "benchmarks/temporal.py", *(argv or sys.argv[1:])]),
            "picture": relative(args.picture),
            "picture_clip": args.picture_clip,
            "cost_clip": args.picture_clip,
            "load": f"{load:.1f}",
        }
        write_section("temporal", section(results, cost, context), args.report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
