"""The ``stream-nst`` command.

This module and the subcommands' front ends (:mod:`stream_nst.flicker_cli`,
``train_fast.cli``, ``python -m train_fast.library``) are the only code that prints, and
this one alone decides exit codes: library code raises
:class:`~stream_nst.errors.StreamNSTError` subclasses, and :func:`main` turns each into
one line on stderr and exit code 2 (so does running out of memory); Ctrl-C becomes exit
code 130, SIGTERM 143 and SIGHUP 129 (the console script, :mod:`stream_nst.entry`, turns
those signals into Ctrl-C's KeyboardInterrupt).

Subcommands are recognised by the first argument (``styles``, ``train``, ``gatys``,
``interpolate``, ``measure-flicker``, ``serve``); anything else is the default action,
``--style X [INPUT] [-o OUT]``.
A file literally named like a subcommand is given as ``./styles``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import sys
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import TextIO, TypeVar

import cv2
import onnxruntime as ort

from .convert import (
    FolderSummary,
    RunSummary,
    stylize_folder,
    stylize_image,
    stylize_many,
    stylize_video,
)
from .engine import Stylizer
from .errors import (
    MissingDependencyError,
    Stopped,
    StreamNSTError,
    UsageError,
    first_line,
    is_out_of_memory,
)
from .live import KEYS, run_live
from .outputs import plan_outputs
from .progress import Progress, render_bar
from .settings import (
    DEFAULT_STYLE,
    DEVICES,
    EncodeSettings,
    EngineSettings,
    LiveSettings,
    StylizeSettings,
)
from .smooth import SmoothSettings
from .sources import input_kind, open_source
from .styles import MODELS_ENV, installed_styles
from .virtualcam import VirtualCameraSettings

EXIT_OK, EXIT_BAD_INPUT = 0, 2
PROG = "stream-nst"
_TRAINING_USAGE = {
    "train": "STYLE_IMAGE --name NAME --content-dir PHOTOS [-o MODELS_DIR] [options]",
    "gatys": "CONTENT STYLE[:WEIGHT] [STYLE ...] -o OUTPUT [options]",
    "interpolate": "FIRST.onnx SECOND.onnx --share S -o OUTPUT.onnx",
}


T = TypeVar("T")


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError (one line) instead of printing usage and exiting."""

    def error(self, message: str):
        raise UsageError(f"{message} (see {self.prog} --help)")


class _Console:
    """Everything the command prints: messages and the progress bar on stderr, JSON on stdout."""

    def __init__(self, stdout: TextIO, stderr: TextIO) -> None:
        self.stdout, self.stderr = stdout, stderr
        self.quiet = False
        self.json_mode = False
        """Whether stdout carries a JSON summary (also of a failed run)."""
        self._drawn_at = 0.0
        self._bar_shown = False
        self._bar_name = ""

    def say(self, message: str) -> None:
        if not self.quiet:
            self.end_bar()
            print(message, file=self.stderr)

    def error(self, message: str) -> None:
        self.end_bar()
        print(f"{PROG}: error: {message}", file=self.stderr)

    def failed(self, message: str, exit_code: int, **fields: object) -> int:
        """Report a failed command: the error line, and the JSON summary in JSON mode."""
        self.error(message)
        if self.json_mode:
            status = "interrupted" if exit_code > 128 else "error"
            self.json({"status": status, "error": message, "exit_code": exit_code, **fields})
        return exit_code

    def json(self, data: object) -> None:
        print(json.dumps(data, indent=2), file=self.stdout)

    def progress(self, progress: Progress) -> None:
        if progress.name != self._bar_name:  # the next input of a folder run: a new bar
            self.end_bar()
            self._bar_name = progress.name
        now = time.monotonic()
        due = now - self._drawn_at >= 0.1 or progress.done == progress.total
        if due and not self.quiet and self.stderr.isatty():
            self.stderr.write(f"\r{render_bar(progress)}\x1b[K")
            self.stderr.flush()
            self._drawn_at, self._bar_shown = now, True

    def end_bar(self) -> None:
        if self._bar_shown:
            self.stderr.write("\n")
            self._bar_shown = False


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    console = _Console(sys.stdout, sys.stderr)
    _silence_native_logs()
    command = args[0] if args else ""
    try:
        if command == "styles":
            return _styles_command(args[1:], console)
        if command in _TRAINING_USAGE:
            return _training_command(command, args[1:])
        if command == "measure-flicker":
            return _flicker_command(args[1:])
        if command == "serve":
            from .serve_cli import main as serve_main

            return serve_main(args[1:], console.say)
        console.json_mode = "--json" in args
        return _stylize_command(args, console)
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except BrokenPipeError:  # stdout closed early, as by `stream-nst styles | head -1`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt as exc:  # Ctrl-C, or a signal (Stopped, from stream_nst.entry)
        signum = getattr(exc, "signum", signal.SIGINT)
        return console.failed(_stopped_message(exc), 128 + signum, **_kept_fields(exc))
    except StreamNSTError as exc:
        return console.failed(_with_hint(exc), exc.exit_code, **getattr(exc, "fields", {}))
    except Exception as exc:  # MemoryError, or cv2.error / an FFmpeg error saying so
        if not is_out_of_memory(exc):
            raise
        return console.failed(_out_of_memory(exc), EXIT_BAD_INPUT)


_HINTS = {
    "overwrite": "use -y to overwrite it",
    "codec": "choose another --codec",
    "container": "use .mp4 or .mkv, or another --codec",
    "device": "use --device auto or cpu",
    "name": "--name",
    "size": "--size",
    "steps": "--steps, --batch, --warmup-steps",
    "resume": "--resume",
    "port": "choose another --port",
    "output": "-o FOLDER",
}
"""The flags that fix an error, by the setting it names (StreamNSTError.setting)."""


def _with_hint(error: StreamNSTError) -> str:
    hint = _HINTS.get(error.setting or "")
    return f"{error} ({hint})" if hint else str(error)


def _failure(src: str, error: Exception) -> str:
    """One input's failure in a folder run, naming the input."""
    message = _with_hint(error) if isinstance(error, StreamNSTError) else _out_of_memory(error)
    return message if src in message else f"{src}: {message}"


def build_parser() -> argparse.ArgumentParser:
    stylize, engine, encode = StylizeSettings, EngineSettings, EncodeSettings
    parser = _Parser(
        prog=PROG,
        usage=(
            "%(prog)s [--style NAME|PATH.onnx] [INPUT] [-o OUTPUT] [options]\n"
            "       %(prog)s styles [--json]\n"
            "       %(prog)s serve [INPUT] [--host H] [--port P]\n"
            "       %(prog)s train|gatys|interpolate|measure-flicker ..."
        ),
        description="Stylize videos, images and live camera streams with neural style models.",
        epilog=(
            "Other commands: 'stream-nst styles [--json]' lists the installed styles; "
            "'stream-nst train|gatys ...' train styles and 'stream-nst interpolate ...' "
            "balances two versions of one (need stream-nst[train]); "
            "'stream-nst measure-flicker ...'; 'stream-nst serve' the web app with live "
            "controls, for browsers and OBS (needs stream-nst[serve]). "
            "A file named like a command: ./styles. "
            f"Extra style folders: ${MODELS_ENV}. Live keys: "
            + ", ".join(f"{key} {what}" for key, what in KEYS.items())
        ),
    )
    add = parser.add_argument
    add(
        "input",
        nargs="*",
        metavar="INPUT",
        help="video, image, folder, camera index (0) or stream URL; several files go into "
        "the folder -o names; default: camera 0, live",
    )
    add(
        "-o",
        "--output",
        metavar="OUTPUT",
        help="output file (folder for a folder input); "
        "without it, a camera or stream opens the live window",
    )
    add(
        "--style",
        default=DEFAULT_STYLE,
        metavar="NAME|PATH.onnx",
        help=f"installed style name or model file (default: {DEFAULT_STYLE})",
    )
    add("-y", "--overwrite", action="store_true", help="replace an existing output")
    add("--json", action="store_true", help="print a machine-readable summary on stdout")
    add("-q", "--quiet", action="store_true", help="no progress bar or messages")
    add(
        "--strength",
        type=float,
        default=stylize.strength,
        help=f"0..1, blend of stylized and original (default: {stylize.strength:g})",
    )
    add("--preserve-color", action="store_true", help="keep the original colours")
    add(
        "--max-size",
        type=int,
        default=stylize.max_size,
        metavar="PIXELS",
        help="paint at most this size on the longer side, then scale back (default: no cap)",
    )
    add(
        "--paint-size",
        type=int,
        default=stylize.paint_size,
        metavar="PIXELS",
        help="short side the network paints at, then the result is brought back to full "
        "size with the frame's edges (default: the style's own, e.g. 360); larger = finer "
        "strokes, slower",
    )
    add(
        "--device",
        choices=DEVICES,
        default=engine.device,
        help=f"where the network runs (default: {engine.device})",
    )
    add(
        "--threads",
        type=int,
        default=engine.threads,
        metavar="N",
        help="inference threads (default: the physical cores available)",
    )
    add("--no-smooth", action="store_true", help="no temporal smoothing")
    add(
        "--smooth-strength",
        type=float,
        default=SmoothSettings().strength,
        metavar="S",
        help="0..<1: how much of the motion-compensated previous output is kept "
        "(default %(default)s)",
    )
    add(
        "--virtual-camera",
        action="store_true",
        help="live input: also send the stylized frames to a virtual camera, for video "
        "calls and OBS (needs stream-nst[virtualcam] and v4l2loopback or OBS)",
    )
    add(
        "--virtual-camera-device",
        metavar="DEVICE",
        help="the virtual camera to use, e.g. /dev/video10 (default: the first one)",
    )
    add(
        "--no-window",
        action="store_true",
        help="with --virtual-camera: no live window (stop with Ctrl-C)",
    )
    add(
        "--ray",
        nargs="?",
        const="",
        metavar="auto|ADDRESS",
        help="convert files on a Ray cluster (needs stream-nst[cluster]): one task per file, "
        "long videos in chunks; inputs and outputs on storage every node reaches. Alone: "
        "the cluster running on this machine, or a new local one; auto: the one Ray finds "
        "(RAY_ADDRESS); or HOST:PORT",
    )
    add("--codec", default=encode.codec, help=f"video codec (default: {encode.codec})")
    add(
        "--crf",
        type=int,
        default=encode.crf,
        help=f"video quality, lower is better (default: {encode.crf})",
    )
    add(
        "--preset", default=encode.preset, help=f"x264/x265 speed preset (default: {encode.preset})"
    )
    add("--version", action="version", version=f"{PROG} {_version()}")
    return parser


def _stopped_message(stop: KeyboardInterrupt) -> str:
    """``interrupted`` (or ``stopped by SIGTERM``), and what was kept of the run."""
    signum = getattr(stop, "signum", signal.SIGINT)
    if signum == signal.SIGINT:
        message = "interrupted"
    else:
        message = f"stopped by {signal.Signals(signum).name}"
    if isinstance(stop, Stopped) and stop.kept is not None:
        message += f"; {stop.kept} holds the {stop.frames} frames done"
        if stop.target is not None and stop.kept != stop.target:
            message += f" ({stop.target} was kept as it was)"
    return message


def _kept_fields(stop: KeyboardInterrupt) -> dict[str, object]:
    """What an interrupted run kept, for the JSON summary."""
    if not isinstance(stop, Stopped) or stop.target is None:
        return {}
    return {"output": str(stop.kept) if stop.kept else None, "frames": stop.frames}


def _out_of_memory(error: BaseException) -> str:
    return f"out of memory ({first_line(error)}); try --max-size, a smaller input, or more memory"


def _stylize_command(args: list[str], console: _Console) -> int:
    opts = build_parser().parse_args(args)
    console.quiet = opts.quiet
    stylizer = Stylizer(
        opts.style,
        settings=StylizeSettings(
            opts.strength, opts.preserve_color, opts.max_size, opts.paint_size
        ),
        engine=EngineSettings(opts.device, opts.threads),
    )
    stylizer.load()  # a bad model fails before any I/O
    run = _Run(opts, stylizer, console)
    output = Path(opts.output) if opts.output else None
    if opts.ray is not None:
        return run.cluster(opts.input, output)
    if len(opts.input) > 1:
        return run.batch(opts.input, output)
    spec = opts.input[0] if opts.input else "0"
    kind = input_kind(spec)
    live = kind in ("camera", "stream") and output is None
    if (opts.virtual_camera or opts.virtual_camera_device) and not live:
        raise UsageError("--virtual-camera is for live input: a camera or stream, without -o")
    if opts.no_window and not opts.virtual_camera:
        raise UsageError("--no-window is for --virtual-camera (-o records without a window)")
    if live:
        return run.live(spec)
    if kind == "folder":
        return run.folder(Path(spec))
    return run.single(spec, output)  # a file, or a camera or stream recorded


class _Run:
    """The default action for each kind of input, with the options of the command line."""

    def __init__(self, opts: argparse.Namespace, stylizer: Stylizer, console: _Console):
        self.opts, self.stylizer, self.console = opts, stylizer, console
        self.smooth = SmoothSettings(enabled=not opts.no_smooth, strength=opts.smooth_strength)
        self.encode = EncodeSettings(opts.codec, opts.crf, opts.preset)

    def live_settings(self) -> LiveSettings:
        camera = None
        if self.opts.virtual_camera or self.opts.virtual_camera_device:
            camera = VirtualCameraSettings(device=self.opts.virtual_camera_device)
        return LiveSettings(headless=self.opts.no_window, virtual_camera=camera)

    def single(self, spec: str, output: Path | None) -> int:
        """A file, or a camera or stream recorded to ``output``."""
        if input_kind(spec) == "image":
            summary = stylize_image(
                spec, output, style=self.stylizer, overwrite=self.opts.overwrite
            )
        else:
            progress = self.console.progress
            summary = stylize_video(spec, output, on_progress=progress, **self._settings())
        return self._report([summary])

    def folder(self, folder: Path) -> int:
        result = stylize_folder(
            folder,
            self.opts.output,
            **self._settings(),
            on_progress=self.console.progress,
            on_failure=self._failed,
        )
        return self._report_batch(result)

    def batch(self, inputs: list[str], output: Path | None) -> int:
        """Several files, one after another, into the folder ``output``."""
        plan = plan_outputs(inputs, output, self.style, self.opts.overwrite)
        result = stylize_many(
            plan, **self._settings(), on_progress=self.console.progress, on_failure=self._failed
        )
        return self._report_batch(result)

    def cluster(self, inputs: list[str], output: Path | None) -> int:
        """Files (a folder, several, or one long video) on a Ray cluster."""
        try:
            from .cluster import ClusterSettings, convert_on_cluster
        except ImportError as exc:
            if not (exc.name or "").startswith("ray"):
                raise
            raise MissingDependencyError(
                '--ray needs Ray: pip install "stream-nst[cluster]"'
            ) from exc
        if not inputs:
            raise UsageError("--ray converts files: give INPUT (a file, several, or a folder)")
        plan = plan_outputs(inputs, output, self.style, self.opts.overwrite)
        settings = ClusterSettings(address=self.opts.ray or None)
        result = convert_on_cluster(
            plan,
            self.stylizer,
            smooth=self.smooth,
            encode=self.encode,
            overwrite=self.opts.overwrite,
            settings=settings,
            on_progress=self.console.progress,
        )
        for src, error in result.failures.items():
            self._failed(Path(src), error)
        return self._report_batch(result)

    def _failed(self, src: Path, error: Exception) -> None:
        self.console.error(_failure(str(src), error))

    def _report_batch(self, result: FolderSummary) -> int:
        failures = {src: _failure(src, error) for src, error in result.failures.items()}
        return max(self._report(result.done, failures), EXIT_BAD_INPUT if failures else EXIT_OK)

    def live(self, spec: str) -> int:
        styles = [self.stylizer.style]
        styles += [s for s in installed_styles() if not s.error and s.path != styles[0].path]
        with open_source(spec) as source:
            summary = run_live(
                source,
                self.stylizer,
                styles,
                settings=self.live_settings(),
                smooth=self.smooth,
                encode=self.encode,
                on_event=self.console.say,
            )
        if self.console.json_mode:
            self.console.json(
                {
                    "status": "damaged" if summary.damage else "ok",
                    "frames": summary.frames,
                    "dropped": summary.dropped,
                    "seconds": round(summary.seconds, 3),
                    "snapshots": [str(p) for p in summary.snapshots],
                    "recordings": [str(p) for p in summary.recordings],
                    "virtual_camera": summary.virtual_camera,
                }
            )
        self.console.say(f"showed {summary.frames} frames ({summary.dropped} skipped to keep up)")
        if summary.damage:
            self.console.error(f"{source.info.name}: {summary.damage}")
            return EXIT_BAD_INPUT
        return EXIT_OK

    @property
    def style(self) -> str:
        return self.stylizer.style.name

    def _settings(self) -> dict[str, object]:
        return {
            "style": self.stylizer,
            "smooth": self.smooth,
            "encode": self.encode,
            "overwrite": self.opts.overwrite,
        }

    def _report(self, summaries: list[RunSummary], failures: dict[str, str] | None = None) -> int:
        for s in summaries:
            if s.damage:
                self.console.error(
                    f"{s.input}: {s.damage}; {s.output} holds the {s.frames} frames read"
                )
            else:
                self.console.say(
                    f"wrote {s.output}: {s.frames} frame(s), {s.width}x{s.height}, "
                    f"{s.seconds:.1f} s ({s.fps:.1f} fps), audio {s.audio}"
                )
        failures = failures or {}
        if self.console.json_mode:
            items = [s.as_dict() for s in summaries]
            items += [
                {"input": src, "status": "error", "error": error} for src, error in failures.items()
            ]
            status = "damaged" if any(s.damage for s in summaries) else "ok"
            status = "error" if failures else status
            self.console.json({"status": status, "style": self.style, "items": items})
        return EXIT_BAD_INPUT if any(s.damage for s in summaries) else EXIT_OK


def _styles_command(args: list[str], console: _Console) -> int:
    parser = _Parser(prog=f"{PROG} styles", description="List the installed styles.")
    parser.add_argument("--json", action="store_true", help="print a JSON list on stdout")
    opts = parser.parse_args(args)
    styles = installed_styles()
    if opts.json:
        console.json([style.as_dict() for style in styles])
        return EXIT_OK
    if not styles:
        console.say(f"no styles installed (add .onnx files to a folder named by ${MODELS_ENV})")
    width = max((len(style.name) for style in styles), default=0)
    for style in styles:
        if style.error:
            about = f"(unreadable: {style.error})"
        else:
            about = " - ".join(part for part in (style.title, style.artist) if part) or "-"
            if style.licence:
                about += f" ({style.licence})"
        print(f"{style.name:<{width}}  {about}  [{style.path}]", file=console.stdout)
    return EXIT_OK


def _training_command(command: str, args: list[str]) -> int:
    hint = 'training needs torch: pip install "stream-nst[train]"'
    try:
        import torch  # noqa: F401 - only to check that training can run
    except ImportError as exc:
        if "-h" in args or "--help" in args:  # help always works; the options need torch
            print(
                f"usage: {PROG} {command} {_TRAINING_USAGE[command]}\n\n"
                f"{hint}; then '{PROG} {command} --help' lists every option "
                "(also in docs/TRAINING.md)."
            )
            return EXIT_OK
        raise MissingDependencyError(hint) from exc
    try:
        from train_fast import cli as train_cli
    except ModuleNotFoundError as exc:
        raise UsageError(f"'{PROG} {command}' is not available in this installation") from exc
    return train_cli.COMMANDS[command](args)


def _flicker_command(args: list[str]) -> int:
    try:
        front_end = importlib.import_module("stream_nst.flicker_cli")
    except ModuleNotFoundError as exc:
        if exc.name not in ("stream_nst.flicker_cli", "stream_nst.flicker"):
            raise
        raise UsageError(f"'{PROG} measure-flicker' is not available in this version") from exc
    return front_end.main(args)


def _silence_native_logs() -> None:
    """Keep OpenCV's, FFmpeg's, Qt's and onnxruntime's own log lines off the terminal."""
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    os.environ.setdefault("QT_LOGGING_RULES", "default.warning=false")  # e.g. "no fonts"
    os.environ.setdefault("SVT_LOG", "1")  # SVT-AV1 (--codec av1): errors only, no banner
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    ort.set_default_logger_severity(3)


def _version() -> str:
    try:
        return metadata.version("stream-nst")
    except metadata.PackageNotFoundError:
        return "(not installed)"
