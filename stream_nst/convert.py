"""Stylize a whole input into an output file: ``stylize_video``, ``stylize_image``.

These join the stages: open the source, check and reserve the output, run the pipeline,
then publish the output (complete, or partial after Ctrl-C or a signal) or remove it
(after an error).
"""

from __future__ import annotations

import dataclasses
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .engine import Stylizer
from .errors import InputError, OutputError, Stopped
from .pipeline import run_pipeline
from .progress import Progress, ProgressCallback
from .settings import DEFAULT_STYLE, CaptureSettings, EncodeSettings
from .sinks import ImageFileSink, Sink, VideoFileSink
from .smooth import SmoothSettings, make_smoother
from .sources import Frame, Source, open_source
from .styles import StyleInfo


@dataclass(frozen=True)
class RunSummary:
    """What a finished run did."""

    input: str
    output: str
    kind: str
    """``video``, ``image``, ``camera`` or ``stream``."""
    frames: int
    width: int
    height: int
    seconds: float
    style: str
    provider: str
    audio: str = "none"
    """``copied``, ``re-encoded to aac``, or ``none``."""
    damage: str | None = None
    """Why input frames were lost (damaged or truncated input, dropped stream), if they were."""

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, object]:
        return {**dataclasses.asdict(self), "fps": round(self.fps, 2)}


def stylize_video(
    src: str | int | Path,
    dst: str | Path,
    *,
    style: str | Path | StyleInfo | Stylizer = DEFAULT_STYLE,
    smooth: SmoothSettings | None = None,
    encode: EncodeSettings | None = None,
    capture: CaptureSettings | None = None,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
) -> RunSummary:
    """Stylize a video file, camera (index) or stream (URL) into the video file ``dst``.

    ``style`` is a style name, an ``.onnx`` path, or a :class:`Stylizer` (to choose its
    settings, or to reuse its sessions over many calls).
    """
    stylizer = _as_stylizer(style)
    with open_source(src, capture or CaptureSettings()) as source:
        if source.info.kind == "image":
            raise InputError(f"{src} is an image, not a video")
        return convert(source, Path(dst), stylizer, smooth, encode, overwrite, on_progress)


def stylize_image(
    src: str | Path,
    dst: str | Path,
    *,
    style: str | Path | StyleInfo | Stylizer = DEFAULT_STYLE,
    overwrite: bool = False,
) -> RunSummary:
    """Stylize an image file into the image file ``dst`` (format from its suffix)."""
    stylizer = _as_stylizer(style)
    with open_source(src) as source:
        if source.info.kind != "image":
            raise InputError(f"{src} is not an image")
        return convert(source, Path(dst), stylizer, overwrite=overwrite)


def convert(
    source: Source,
    dst: Path,
    stylizer: Stylizer,
    smooth: SmoothSettings | None = None,
    encode: EncodeSettings | None = None,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
) -> RunSummary:
    """Run ``source`` through ``stylizer`` and a smoother into ``dst``; see the module doc.

    Settings left as None take their defaults. A KeyboardInterrupt (Ctrl-C, or a signal
    the caller turned into one) is re-raised as :class:`~stream_nst.errors.Stopped` after
    the frames done were saved, saying where (``dst``, or beside it if ``dst`` exists).
    """
    info = source.info
    if info.kind in ("image", "video") and _same_file(Path(info.name), dst):
        raise OutputError(f"the output {dst} is the input itself")
    smoother = make_smoother(smooth or SmoothSettings())
    smoother.reset()
    sink: Sink
    if info.kind == "image":
        sink = ImageFileSink(dst, overwrite=overwrite)
    else:
        sink = VideoFileSink(
            dst, settings=encode, rate=info.rate, audio_from=info.audio_from, overwrite=overwrite
        )
    started = time.monotonic()

    def stylize(frame: Frame) -> tuple[Frame, np.ndarray]:
        return frame, stylizer.stylize(frame.image)

    def smooth(stylized: tuple[Frame, np.ndarray]) -> Frame:
        frame, image = stylized
        return dataclasses.replace(frame, image=smoother(frame.image, image))

    def report(done: int) -> None:
        if on_progress is not None:
            on_progress(Progress(done, info.total_frames, time.monotonic() - started, info.name))

    with sink:  # whatever is left unfinished on the way out is dropped
        try:
            frames = run_pipeline(source, stylize, smooth, sink.write, report)
        except KeyboardInterrupt as exc:
            kept = sink.finish(complete=False)  # a second Ctrl-C here: nothing is left behind
            raise Stopped(getattr(exc, "signum", signal.SIGINT), kept, sink.frames) from exc
        if not frames:
            damage = source.damage or "empty"
            raise InputError(f"no frame could be decoded from {info.name}: {damage}")
        output = sink.finish()
    width, height = sink.size
    return RunSummary(
        input=info.name,
        output=str(output),
        kind=info.kind,
        frames=frames,
        width=width,
        height=height,
        seconds=time.monotonic() - started,
        style=stylizer.style.name,
        provider=stylizer.provider,
        audio=sink.audio,
        damage=source.damage,
    )


def _as_stylizer(style: str | Path | StyleInfo | Stylizer) -> Stylizer:
    return style if isinstance(style, Stylizer) else Stylizer(style)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return b.exists() and os.path.samefile(a, b)
    except OSError:
        return False
