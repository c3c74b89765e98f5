"""``stream-nst train`` and ``stream-nst gatys``: argument parsing and progress bars only.

Flag defaults come from the settings dataclasses, so every default lives in one place.
Errors are raised as :class:`stream_nst.errors.StreamNSTError`; ``stream_nst.cli.main`` maps
them to messages and exit codes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import fields
from pathlib import Path

import cv2
import torch

from stream_nst.engine import keep_original_colors
from stream_nst.errors import OutputError, StreamNSTError, first_line
from stream_nst.progress import render_line
from train_fast.artworks import Artwork, artwork_for
from train_fast.errors import UsageError
from train_fast.export import reexport
from train_fast.gatys import GatysProgress, GatysSettings, gatys_optimise
from train_fast.images import (
    image_to_tensor,
    read_image,
    tensor_to_image,
    write_image,
)
from train_fast.interpolate import interpolate
from train_fast.library import LIBRARY, library_settings
from train_fast.losses import LossWeights
from train_fast.nets import ARCHITECTURES
from train_fast.precision import BF16_CPU_FLAGS, cpu_flags, precision_name
from train_fast.train import (
    TRAIN_WEIGHTS,
    Trainer,
    TrainProgress,
    TrainResult,
    TrainSettings,
    default_work_dir,
)
from train_fast.vgg import VGG_ENV_VAR, default_vgg_source, load_vgg_weights

_GATYS = {f.name: f.default for f in fields(GatysSettings)}
_TRAIN = {f.name: f.default for f in fields(TrainSettings)}


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError instead of printing and exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def _add_common(p: argparse.ArgumentParser, weights: LossWeights) -> None:
    p.add_argument(
        "--vgg",
        default=None,
        metavar="PATH",
        help=f"VGG-19 weights: torchvision .pth, MatConvNet .mat or a TF.js/Keras "
        f"model.json folder (default: ${VGG_ENV_VAR}, else torchvision's download)",
    )
    p.add_argument(
        "--style-weight",
        type=float,
        default=weights.style,
        help="weight of the Gram style loss (default %(default)s)",
    )
    p.add_argument(
        "--content-weight",
        type=float,
        default=weights.content,
        help="weight of the relu4_2 content loss (default %(default)s)",
    )
    p.add_argument(
        "--colour-weight",
        type=float,
        default=weights.colour,
        help="weight of the colour term: sliced Wasserstein distance between the output's "
        "and the painting's pixel colours (default %(default)s)",
    )
    p.add_argument(
        "--tv-weight",
        type=float,
        default=weights.tv,
        help="weight of total variation (default %(default)s)",
    )
    p.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _weights(args: argparse.Namespace) -> LossWeights:
    return LossWeights(
        content=args.content_weight,
        style=args.style_weight,
        colour=args.colour_weight,
        tv=args.tv_weight,
    )


class Progress:
    """The tool's progress line on a terminal (:func:`stream_nst.progress.render_line`, as
    the runtime's); on a pipe or log file, one plain line every ``log_every`` steps."""

    def __init__(self, total: int, quiet: bool, desc: str, log_every: int = 10):
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.desc, self.total, self.log_every = desc, total, log_every
        self.start = time.perf_counter()
        self._first: int | None = None  # the step this run started at (a resumed run)
        self._drawn_at = 0.0
        self._shown = False

    def update(self, step: int, info: dict[str, str]) -> None:
        if self.quiet:
            return
        if self._first is None:
            self._first = step
        fields_ = " ".join(f"{k}={v}" for k, v in info.items())
        elapsed = time.perf_counter() - self.start
        if self.tty:
            now = time.perf_counter()
            if now - self._drawn_at >= 0.1 or step == self.total:
                line = render_line(
                    step - self._first,
                    self.total - self._first,
                    elapsed,
                    self.desc,
                    unit="steps",
                    rate_unit="steps/s",
                    extra=f"step {step}/{self.total} {fields_}",
                )
                sys.stderr.write(f"\r{line}\x1b[K")
                sys.stderr.flush()
                self._drawn_at, self._shown = now, True
        elif step % self.log_every == 0 or step == self.total:
            print(
                f"{self.desc}: step {step}/{self.total} {fields_} [{elapsed:.0f} s]",
                file=sys.stderr,
                flush=True,
            )

    def close(self) -> None:
        if self._shown:
            sys.stderr.write("\n")
            self._shown = False


def _parse_style(values: Sequence[str]) -> tuple[list[Path], list[float]]:
    """``STYLE[:WEIGHT]`` arguments → paths and mixing weights."""
    paths, mix = [], []
    for value in values:
        path, _, weight = (
            value.rpartition(":") if ":" in value and not Path(value).exists() else (value, "", "")
        )
        try:
            mix.append(float(weight) if weight else 1.0)
        except ValueError:
            raise UsageError(f"bad style weight in {value!r} (use STYLE.jpg:0.5)") from None
        paths.append(Path(path))
    return paths, mix


def gatys_main(argv: list[str]) -> int:
    """``stream-nst gatys CONTENT STYLE [STYLE ...] -o OUT``: the original optimisation."""
    p = _Parser(
        prog="stream-nst gatys",
        description="Stylise one image by optimising its pixels against the Gatys et al. "
        "(2015) loss on VGG-19 (slow; the original algorithm).",
    )
    p.add_argument("content", type=Path, help="content image")
    p.add_argument(
        "styles", nargs="+", metavar="STYLE[:WEIGHT]", help="style image(s), optionally weighted"
    )
    p.add_argument("-o", "--output", type=Path, required=True, help="output image (.png/.jpg)")
    p.add_argument(
        "--size", type=int, default=256, help="long side of the result in px (default %(default)s)"
    )
    p.add_argument(
        "--style-size",
        type=int,
        default=None,
        help="long side of the style image(s) (default: --size)",
    )
    p.add_argument(
        "--steps", type=int, default=_GATYS["steps"], help="optimiser steps (default %(default)s)"
    )
    p.add_argument("--optimizer", choices=("lbfgs", "adam"), default=_GATYS["optimizer"])
    p.add_argument("--init", choices=("content", "noise"), default=_GATYS["init"])
    p.add_argument("--preserve-color", action="store_true", help="keep the content's colours")
    p.add_argument("-y", "--overwrite", action="store_true", help="replace OUTPUT if it exists")
    _add_common(p, GatysSettings().weights)
    args = p.parse_args(argv)
    if args.output.exists() and not args.overwrite:
        raise UsageError(f"{args.output} exists (use -y to overwrite)")
    if not args.output.parent.is_dir():  # found out now, not after the optimisation
        raise OutputError(f"output folder {args.output.parent} does not exist")
    if not cv2.haveImageWriter(str(args.output)):
        raise OutputError(
            f"cannot write {args.output.suffix or 'suffix-less'} images: {args.output}"
        )
    if args.size < 32:
        raise UsageError("--size must be at least 32")
    _set_threads(args.threads)
    content_img = read_image(args.content, args.size)
    paths, mix = _parse_style(args.styles)
    styles = [image_to_tensor(read_image(s, args.style_size or args.size)) for s in paths]
    vgg = load_vgg_weights(args.vgg or default_vgg_source())
    settings = GatysSettings(
        steps=args.steps, optimizer=args.optimizer, init=args.init, weights=_weights(args)
    )
    bar = Progress(args.steps, args.quiet, "gatys")
    start = time.perf_counter()

    def on_progress(ev: GatysProgress) -> None:
        bar.update(
            ev.step,
            {"style": f"{ev.losses['style']:.3f}", "content": f"{ev.losses['content']:.3f}"},
        )

    try:
        out, losses = gatys_optimise(
            image_to_tensor(content_img), styles, vgg, settings, mix, on_progress
        )
    finally:
        bar.close()
    result = tensor_to_image(out)
    if args.preserve_color:
        result = keep_original_colors(content_img, result)
    write_image(args.output, result)
    if not args.quiet:
        print(
            f"wrote {args.output} in {time.perf_counter() - start:.0f} s "
            f"(style {losses['style']:.3f}, content {losses['content']:.3f})",
            file=sys.stderr,
        )
    return 0


def train_main(argv: list[str]) -> int:
    """``stream-nst train STYLE_IMAGE --name NAME -o MODELS_DIR``: train a real-time style."""
    p = _Parser(
        prog="stream-nst train",
        description="Train a feed-forward style network on the Gatys loss (VGG-19) and "
        "export it to MODELS_DIR/NAME.onnx. Interrupt any time: Ctrl-C saves a "
        "checkpoint, --resume continues.",
    )
    p.add_argument("style_image", type=Path, help="the painting / style image")
    p.add_argument("--name", required=True, help="style name: lowercase letters, digits, _")
    p.add_argument(
        "-o", "--output-dir", type=Path, default=Path("."), help="where NAME.onnx goes (default: .)"
    )
    p.add_argument("--content-dir", type=Path, required=True, help="folder of training photos")
    p.add_argument(
        "--arch",
        choices=sorted(ARCHITECTURES),
        default=_TRAIN["arch"],
        help="network: paintnet (real-time, default), rtnet (the older real-time network) "
        "or johnson (Johnson et al. 2016)",
    )
    p.add_argument(
        "--init",
        type=Path,
        default=None,
        metavar="MODEL.onnx",
        help="start from this exported model's weights: the same style continues its "
        "training (steps and time add up), another style is fine-tuned from it",
    )
    p.add_argument(
        "--paint-size",
        type=int,
        default=_TRAIN["paint_size"],
        help="short side in px the runtime scales frames to for this style: the scale "
        "of its brush strokes on screen, and a fixed cost per frame (default %(default)s)",
    )
    p.add_argument(
        "--precision",
        choices=("auto", "fp32", "bf16"),
        default=_TRAIN["precision"],
        help="VGG-19 precision: auto = bf16 where the CPU has it natively (AVX512_BF16/AMX), "
        "else fp32 (default %(default)s)",
    )
    p.add_argument(
        "--steps", type=int, default=_TRAIN["steps"], help="training steps (default %(default)s)"
    )
    p.add_argument(
        "--minutes",
        type=float,
        default=None,
        help="wall-clock budget; stops and exports when spent",
    )
    p.add_argument(
        "--size", type=int, default=_TRAIN["size"], help="training crop in px (default %(default)s)"
    )
    p.add_argument(
        "--style-size",
        type=int,
        default=_TRAIN["style_size"],
        help="style image long side (default %(default)s)",
    )
    p.add_argument(
        "--batch", type=int, default=_TRAIN["batch"], help="crops per step (default %(default)s)"
    )
    p.add_argument(
        "--lr",
        type=float,
        default=_TRAIN["learning_rate"],
        help="Adam learning rate (default %(default)s)",
    )
    p.add_argument(
        "--stability-weight",
        type=float,
        default=_TRAIN["stability_weight"],
        help="weight of the stability loss (output steady under small shifts, brightness "
        "changes, noise and something moving elsewhere) for steadier video (default "
        "%(default)s)",
    )
    p.add_argument(
        "--warmup-steps",
        type=int,
        default=_TRAIN["warmup_steps"],
        help="steps that first teach a new network to copy its input, so style training "
        "starts from the photo (pixel loss, no VGG; default %(default)s)",
    )
    p.add_argument(
        "--resume", action="store_true", help="continue from the checkpoint in --work-dir"
    )
    p.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="checkpoints and previews (default: ~/.cache/stream-nst/train/NAME)",
    )
    p.add_argument("--checkpoint-minutes", type=float, default=_TRAIN["checkpoint_minutes"])
    p.add_argument(
        "--export-minutes",
        type=float,
        default=None,
        help="also export NAME.onnx this often during training (default: at the end only)",
    )
    p.add_argument("--artwork-title", default=None, help="artwork title for the metadata")
    p.add_argument("--artist", default=None, help="artist for the metadata")
    p.add_argument("--licence", default=None, help="artwork licence status for the metadata")
    p.add_argument("--fp16", action="store_true", help="also write NAME.fp16.onnx for GPUs")
    p.add_argument("--seed", type=int, default=_TRAIN["seed"])
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    p.add_argument("-y", "--overwrite", action="store_true", help="replace an existing NAME.onnx")
    _add_common(p, TRAIN_WEIGHTS)
    args = p.parse_args(argv)
    target = args.output_dir / f"{args.name}.onnx"
    continuing = args.resume or (args.init is not None and _same_file(args.init, target))
    _prepare_output_dir(target, args.overwrite or continuing)
    known = artwork_for(args.style_image.stem)
    artwork = Artwork(
        args.artwork_title or known.title,
        args.artist or known.artist,
        args.licence or known.licence,
    )
    if not args.style_image.is_file():
        raise UsageError(f"style image not found: {args.style_image}")
    settings = TrainSettings(
        style_image=args.style_image,
        name=args.name,
        content_dir=args.content_dir,
        out_dir=args.output_dir,
        artwork=artwork,
        arch=args.arch,
        steps=args.steps,
        size=args.size,
        style_size=args.style_size,
        batch=args.batch,
        learning_rate=args.lr,
        weights=_weights(args),
        stability_weight=args.stability_weight,
        warmup_steps=args.warmup_steps,
        minutes=args.minutes,
        checkpoint_minutes=args.checkpoint_minutes,
        export_minutes=args.export_minutes,
        resume=args.resume,
        work_dir=args.work_dir,
        vgg=args.vgg or default_vgg_source(),
        seed=args.seed,
        threads=args.threads,
        fp16_copy=args.fp16,
        paint_size=args.paint_size,
        init=args.init,
        precision=args.precision,
    )
    trainer = Trainer(settings)
    if not args.quiet:
        if settings.resume:
            start = f"resuming {trainer.checkpoint_path} at step {trainer.step}"
        elif settings.init:
            start = f"from {settings.init} at step {trainer.step}"
        else:
            start = "new network"
        print(
            f"train {args.name}: {settings.arch}, {start}, VGG-19 in "
            f"{precision_name(trainer.autocast)} ({_precision_reason(settings.precision)})",
            file=sys.stderr,
        )
    result = run_training(trainer, Progress(settings.steps, args.quiet, f"train {args.name}"))
    summary = {
        "model": str(result.export.path),
        "steps": result.steps,
        "seconds": round(result.seconds, 1),
        "losses": result.losses,
        "onnx_max_abs_diff": result.export.max_abs_diff,
        "bytes": result.export.bytes,
        "stopped_by_time_budget": result.stopped_early,
        "work_dir": str(trainer.work_dir),
    }
    if args.json:
        print(json.dumps(summary))
    elif not args.quiet:
        report = result.export
        print(
            f"wrote {report.path} ({report.bytes / 1e6:.2f} MB, {result.steps} steps, "
            f"torch vs onnxruntime max diff {report.max_abs_diff} levels)",
            file=sys.stderr,
        )
    return 0


def run_training(trainer: Trainer, bar: Progress) -> TrainResult:
    """Run ``trainer`` behind ``bar``. On Ctrl-C or a stop signal, say which step its
    checkpoint holds and where (the run saves it before stopping), then stop as asked."""
    try:
        return trainer.run(progress_callback(bar))
    except KeyboardInterrupt:
        bar.close()
        print(
            f"{bar.desc}: stopped at step {trainer.step}; its checkpoint is "
            f"{trainer.checkpoint_path} (--resume continues from it)",
            file=sys.stderr,
        )
        raise
    finally:
        bar.close()


def progress_callback(bar: Progress) -> Callable[[TrainProgress], None]:
    def on_progress(ev: TrainProgress) -> None:
        info = {k: f"{v:.3g}" for k, v in ev.losses.items()}
        if ev.event == "step":
            info["img/s"] = f"{ev.images_per_second:.2f}"
        bar.update(ev.step, info)

    return on_progress


def _prepare_output_dir(model: Path, overwrite: bool, *, resumable: bool = True) -> None:
    """Refuse to replace ``model`` unless asked (continuing it, by --resume or --init from
    the file itself, is); create its folder."""
    if model.exists() and not overwrite:
        alternative = ", or --resume" if resumable else ""
        raise OutputError(f"{model} already exists (use -y to overwrite it{alternative})")
    try:
        model.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output folder {model.parent}: {exc.strerror}") from exc


def _precision_reason(choice: str) -> str:
    if choice != "auto":
        return f"--precision {choice}"
    flags = BF16_CPU_FLAGS & cpu_flags()
    return f"the CPU has {', '.join(sorted(flags))}" if flags else "the CPU has no native bf16"


def _same_file(a: Path, b: Path) -> bool:
    return b.exists() and a.exists() and a.samefile(b)


def _set_threads(threads: int | None) -> None:
    if threads:
        torch.set_num_threads(threads)


def library_main(argv: list[str] | None = None) -> int:
    """``python -m train_fast.library [NAME ...]``: train the built-in styles in turn."""
    p = argparse.ArgumentParser(
        prog="python -m train_fast.library",
        description="Train (or keep training) the built-in styles, one after another.",
    )
    p.add_argument("names", nargs="*", help=f"styles (default: all): {', '.join(LIBRARY)}")
    p.add_argument("--styles-dir", type=Path, required=True, help="folder with NAME.jpg")
    p.add_argument("--content-dir", type=Path, required=True, help="folder of training photos")
    p.add_argument("-o", "--output-dir", type=Path, default=Path("models"))
    p.add_argument("--vgg", default=None, help="VGG-19 weights (see stream-nst train --help)")
    p.add_argument("--steps", type=int, default=20000, help="total steps per style")
    p.add_argument("--minutes", type=float, default=None, help="budget per style, this run")
    p.add_argument(
        "--work-root",
        type=Path,
        default=None,
        help="checkpoints go to WORK_ROOT/NAME (default: ~/.cache/stream-nst/train/NAME)",
    )
    p.add_argument("--threads", type=int, default=None, help="torch threads per training")
    args = p.parse_args(argv)
    unknown = [n for n in args.names if n not in LIBRARY]
    if unknown:
        p.error(f"not in the library: {', '.join(unknown)}")
    for name in args.names or list(LIBRARY):
        settings = library_settings(
            name,
            styles_dir=args.styles_dir,
            content_dir=args.content_dir,
            models_dir=args.output_dir,
            vgg=args.vgg,
            steps=args.steps,
            minutes=args.minutes,
            work_dir=args.work_root / name if args.work_root else default_work_dir(name),
            threads=args.threads,
        )
        trainer = Trainer(settings)
        start = settings.init.name if settings.init else "a new network"
        print(
            f"== {name}: from {start}, VGG-19 in {precision_name(trainer.autocast)} "
            f"({_precision_reason(settings.precision)})",
            file=sys.stderr,
            flush=True,
        )
        run_training(trainer, Progress(settings.steps, False, f"train {name}"))
    return 0


def interpolate_main(argv: list[str]) -> int:
    """``stream-nst interpolate FIRST SECOND --share S -o OUT``: a network between two."""
    p = _Parser(
        prog="stream-nst interpolate",
        description="Write the network between two trained versions of one style's network "
        "(every weight (1 - S) x FIRST's + S x SECOND's; verified in onnxruntime). Two "
        "versions continued from one model with different loss weights, one with more "
        "texture and one steadier on video, say: the share picks the balance without "
        "training again. The result carries FIRST's metadata and a record of SECOND.",
    )
    p.add_argument("first", type=Path, help="a style's network (.onnx)")
    p.add_argument("second", type=Path, help="another version of the same style's network")
    p.add_argument(
        "--share",
        type=float,
        required=True,
        metavar="S",
        help="how much of SECOND, 0 to 1 (0 writes FIRST's network, 1 SECOND's)",
    )
    p.add_argument("-o", "--output", type=Path, required=True, help="the .onnx to write")
    p.add_argument("-y", "--overwrite", action="store_true", help="replace OUTPUT if it exists")
    args = p.parse_args(argv)
    _prepare_output_dir(args.output, args.overwrite, resumable=False)
    report = interpolate(args.first, args.second, args.share, args.output)
    print(
        f"{report.path}: {1 - args.share:g} x {args.first} + {args.share:g} x "
        f"{args.second}, {report.bytes:,} bytes, within {report.max_abs_diff} levels "
        "of torch"
    )
    return 0


COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "train": train_main,
    "gatys": gatys_main,
    "interpolate": interpolate_main,
}
"""The ``stream-nst`` subcommands this module runs, by name."""


def reexport_main(argv: list[str] | None = None) -> int:
    """``python -m train_fast.export MODEL ...``: rewrite models with today's graph."""
    p = argparse.ArgumentParser(
        prog="python -m train_fast.export",
        description="Write train_fast models again, in place, with the current graph of their "
        "network (same weights and metadata, verified in onnxruntime): models trained before "
        "a graph got faster get the speed-up.",
    )
    p.add_argument("models", nargs="+", type=Path, help="NAME.onnx files")
    args = p.parse_args(argv)
    for model in args.models:
        try:
            report = reexport(model)
        except (OSError, StreamNSTError) as exc:
            print(f"error: {first_line(exc)}", file=sys.stderr)
            return 1
        print(f"{report.path}: {report.bytes:,} bytes, within {report.max_abs_diff} levels")
    return 0
