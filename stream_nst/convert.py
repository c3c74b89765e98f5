"""Stylize whole inputs into output files: ``stylize_video``, ``stylize_image``,
``stylize_folder`` and ``stylize_many``, one implementation.

These join the stages: open the source, check and reserve the output, run the pipeline,
then publish the output (complete, or partial after Ctrl-C or a signal) or remove it
(after an error).
"""

from __future__ import annotations

import dataclasses
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .engine import Stylizer
from .errors import InputError, OutputError, Stopped, StreamNSTError, is_out_of_memory
from .outputs import default_output, plan_outputs, same_file
from .progress import Progress, ProgressCallback
from .sequence import SequenceStylizer, stylize_frames
from .settings import DEFAULT_STYLE, CaptureSettings, EncodeSettings
from .sinks import ImageFileSink, Sink, VideoFileSink
from .smooth import SmoothSettings
from .sources import Source, open_source
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
    dst: str | Path | None = None,
    *,
    style: str | Path | StyleInfo | Stylizer = DEFAULT_STYLE,
    smooth: SmoothSettings | None = None,
    encode: EncodeSettings | None = None,
    capture: CaptureSettings | None = None,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
) -> RunSummary:
    """Stylize a video file, camera (index) or stream (URL) into the video file ``dst``
    (default: beside the input, as ``NAME.STYLE.mp4``).

    ``style`` is a style name, an ``.onnx`` path, or a :class:`Stylizer` (to choose its
    settings, or to reuse its sessions over many calls).
    """
    return _stylize(
        src,
        dst,
        _as_stylizer(style),
        "video",
        capture,
        smooth=smooth,
        encode=encode,
        overwrite=overwrite,
        on_progress=on_progress,
    )


def stylize_image(
    src: str | Path,
    dst: str | Path | None = None,
    *,
    style: str | Path | StyleInfo | Stylizer = DEFAULT_STYLE,
    overwrite: bool = False,
) -> RunSummary:
    """Stylize an image file into the image file ``dst`` (format from its suffix; default:
    beside the input, as ``NAME.STYLE.EXT``)."""
    return _stylize(src, dst, _as_stylizer(style), "image", overwrite=overwrite)


@dataclass
class FolderSummary:
    """What a folder run did: one summary per finished input, one error per failed one."""

    output_dir: Path
    done: list[RunSummary] = field(default_factory=list)
    failures: dict[str, Exception] = field(default_factory=dict)
    """Input path -> why it failed (a StreamNSTError, or memory running out)."""


def stylize_folder(
    src_dir: str | Path,
    dst_dir: str | Path | None = None,
    *,
    style: str | Path | StyleInfo | Stylizer = DEFAULT_STYLE,
    smooth: SmoothSettings | None = None,
    encode: EncodeSettings | None = None,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
    on_failure: Callable[[Path, Exception], None] | None = None,
) -> FolderSummary:
    """Stylize every image and video directly inside ``src_dir`` into ``dst_dir`` (default:
    ``SRC_DIR-STYLE`` beside it; images keep their names, videos become ``.mp4``).

    All outputs are checked before any work (clashing or existing names fail at once). An
    input that fails is recorded in the summary (and passed to ``on_failure``) and the run
    goes on; Ctrl-C or a signal stops it (:class:`~stream_nst.errors.Stopped`).
    """
    stylizer = _as_stylizer(style)
    plan = plan_outputs(
        [Path(src_dir)], Path(dst_dir) if dst_dir else None, stylizer.style.name, overwrite
    )
    return stylize_many(
        plan,
        style=stylizer,
        smooth=smooth,
        encode=encode,
        overwrite=overwrite,
        on_progress=on_progress,
        on_failure=on_failure,
    )


def stylize_many(
    plan: dict[Path, Path],
    *,
    style: str | Path | StyleInfo | Stylizer = DEFAULT_STYLE,
    smooth: SmoothSettings | None = None,
    encode: EncodeSettings | None = None,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
    on_failure: Callable[[Path, Exception], None] | None = None,
) -> FolderSummary:
    """Stylize each ``input -> output`` of ``plan`` (see :func:`~stream_nst.outputs.
    plan_outputs`), one after another, as :func:`stylize_folder` does."""
    stylizer = _as_stylizer(style)
    summary = FolderSummary(next(iter(plan.values())).parent if plan else Path("."))
    for src, dst in plan.items():
        try:
            done = _stylize(
                src,
                dst,
                stylizer,
                None,
                smooth=smooth,
                encode=encode,
                overwrite=overwrite,
                on_progress=on_progress,
            )
        except Exception as exc:  # a StreamNSTError, or memory running out on this one
            if not isinstance(exc, StreamNSTError) and not is_out_of_memory(exc):
                raise
            summary.failures[str(src)] = exc
            if on_failure is not None:
                on_failure(src, exc)
        else:
            summary.done.append(done)
    return summary


def _stylize(
    src: str | int | Path,
    dst: str | Path | None,
    stylizer: Stylizer,
    kind: str | None,
    capture: CaptureSettings | None = None,
    **run: Any,
) -> RunSummary:
    """The one implementation behind the ``stylize_*`` functions; ``kind`` ``image`` or
    ``video`` refuses the other kind of input (None takes any); ``run`` are
    :func:`convert`'s keyword arguments."""
    with open_source(src, capture or CaptureSettings()) as source:
        is_image = source.info.kind == "image"
        if kind == "video" and is_image:
            raise InputError(f"{src} is an image, not a video")
        if kind == "image" and not is_image:
            raise InputError(f"{src} is not an image")
        if dst is None:
            dst = default_output(Path(str(src)), source.info.kind, stylizer.style.name)
        return convert(source, Path(dst), stylizer, **run)


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
    if info.kind in ("image", "video") and same_file(Path(info.name), dst):
        raise OutputError(f"the output {dst} is the input itself")
    sequence = SequenceStylizer(stylizer, smooth)
    sink: Sink
    if info.kind == "image":
        sink = ImageFileSink(dst, overwrite=overwrite)
    else:
        sink = VideoFileSink(
            dst, settings=encode, rate=info.rate, audio_from=info.audio_from, overwrite=overwrite
        )
    started = time.monotonic()

    def report(done: int) -> None:
        if on_progress is not None:
            on_progress(Progress(done, info.total_frames, time.monotonic() - started, info.name))

    with sink:  # whatever is left unfinished on the way out is dropped
        try:
            frames = stylize_frames(source, sequence, sink.write, report)
        except KeyboardInterrupt as exc:
            kept = sink.finish(complete=False)  # a second Ctrl-C here: nothing is left behind
            signum = getattr(exc, "signum", signal.SIGINT)
            raise Stopped(signum, kept, sink.frames, dst) from exc
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
