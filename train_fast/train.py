"""Per-style feed-forward training: the Gatys objective distilled into a fast network.

Built for small CPUs: channels_last tensors, style Grams computed once, random crops,
resumable checkpoints every few minutes, a wall-clock budget, and periodic previews.
Checkpoints live in a work directory outside the repository (never shipped); the product
is ``OUT_DIR/NAME.onnx``. An exported model is also a starting point: ``init`` reads its
weights back (continuing its step and time counts when it is the same style, fine-tuning
when it is another), so training continues on any machine from the shipped file.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from stream_nst.errors import first_line
from train_fast.artworks import Artwork
from train_fast.data import CropSampler, split_content
from train_fast.errors import InputError, UsageError
from train_fast.export import ExportReport, export_onnx, read_model, training_record
from train_fast.images import image_to_tensor, read_image, tensor_to_image, write_image
from train_fast.losses import LossWeights, StyleLoss
from train_fast.nets import ARCHITECTURES, StyleNet, build_net
from train_fast.precision import PRECISIONS, choose_autocast, precision_name
from train_fast.stability import next_frame, output_change
from train_fast.vgg import load_vgg_weights

CHECKPOINT_FILE = "checkpoint.pt"

TRAIN_WEIGHTS = LossWeights(content=3.0, style=10.0, colour=300.0, tv=1e-5)
"""The objective a feed-forward network trains on: more style than Gatys's defaults (a
network must learn it for every photo at once) and the painting's palette as its own term.
Content 3 rather than 1.5 (with colour 300 rather than 1000): at 1.5 the scene's structure
dissolved under large strokes; at 3 buildings and ridges stay readable (tuning frames)."""


def default_work_dir(name: str) -> Path:
    """``$XDG_CACHE_HOME/stream-nst/train/NAME`` (``~/.cache/...``): checkpoints and previews."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "stream-nst" / "train" / name


@dataclass(frozen=True)
class TrainSettings:
    """Everything that defines a training run (recorded in the model's metadata)."""

    style_image: Path
    name: str
    content_dir: Path
    out_dir: Path
    artwork: Artwork
    arch: str = "paintnet"
    steps: int = 2000
    size: int = 192  # training crop, px
    style_size: int = 384  # style image's long side, px
    batch: int = 4
    learning_rate: float = 3e-3
    """Adam's peak learning rate; each run ramps up to it and decays it (:func:`run_lr`)."""
    lr_ramp_steps: int = 50
    """Steps over which each run's fresh Adam ramps its learning rate up from near zero."""
    weights: LossWeights = field(default_factory=lambda: TRAIN_WEIGHTS)
    stability_weight: float = 20.0  # steadiness under shifts, brightness, noise, motion (video)
    warmup_steps: int = 200
    """Steps in which a new network first learns to reproduce its input (pixel loss, no
    VGG: seconds on a CPU), so style training starts from the photo instead of noise."""
    minutes: float | None = None  # wall-clock budget; stop (and export) when spent
    checkpoint_minutes: float = 3.0
    export_minutes: float | None = None
    """Also export ``NAME.onnx`` this often while training (None: only at the end), so a
    run cut short still leaves its latest model."""
    preview_every: int = 50
    resume: bool = False
    work_dir: Path | None = None
    vgg: str | None = None
    seed: int = 0
    threads: int | None = None
    fp16_copy: bool = False
    paint_size: int | None = 360
    """Short side (px) the runtime scales frames to for this network (None: full size)."""
    init: Path | None = None
    """An exported model (``NAME.onnx``) to start from instead of a new network."""
    precision: str = "auto"
    """VGG trunk precision: ``auto`` (bf16 where the CPU has it natively), ``fp32``, ``bf16``."""

    def checked(self) -> TrainSettings:
        if self.arch not in ARCHITECTURES:
            raise UsageError(
                f"unknown --arch {self.arch!r}; choose from {', '.join(ARCHITECTURES)}"
            )
        if not self.name or not all(c.islower() or c.isdigit() or c == "_" for c in self.name):
            raise UsageError(
                f"a style name must be lowercase letters, digits and _ (got {self.name!r})",
                setting="name",
            )
        multiple = ARCHITECTURES[self.arch].PAD_MULTIPLE
        if self.size < 32 or self.size % multiple:
            raise UsageError(
                f"the crop size must be a multiple of {multiple} and at least 32", setting="size"
            )
        if self.steps < 1 or self.batch < 1 or self.warmup_steps < 0 or self.lr_ramp_steps < 0:
            raise UsageError(
                "steps and batch size must be positive, warm-up steps not negative",
                setting="steps",
            )
        if not self.out_dir.is_dir():
            raise InputError(f"output folder does not exist: {self.out_dir}")
        if self.precision not in PRECISIONS:
            raise UsageError(f"precision must be one of {', '.join(PRECISIONS)}")
        if self.paint_size is not None and self.paint_size < 32:
            raise UsageError("paint size must be at least 32 pixels")
        if self.init is not None and self.resume:
            raise UsageError("start from a model or resume a checkpoint, not both")
        return self


LR_FINAL_FRACTION = 0.1
"""The learning rate a run ends at, as a fraction of its peak."""


def run_lr(peak: float, run_step: int, ramp_steps: int, done: float) -> float:
    """The learning rate of one step of a run: a linear ramp, then a cosine decay.

    Every run (a new network, a continued model or a resumed checkpoint after a restart)
    starts a fresh Adam, whose first updates are each about ``lr`` in size whatever the
    gradient: at full rate they undo part of what a continued model learned (a 2.6-minute
    continuation made six styles' texture worse). So the rate ramps up over ``ramp_steps``
    (``run_step`` counts from 1 in this run), then falls along a half cosine to
    :data:`LR_FINAL_FRACTION` of ``peak`` as ``done`` (the share of the run's step or time
    budget spent, 0–1) reaches 1, so each run ends settled rather than mid-stride.
    """
    ramp = min(1.0, run_step / ramp_steps) if ramp_steps else 1.0
    decay = LR_FINAL_FRACTION + (1 - LR_FINAL_FRACTION) * 0.5 * (1 + np.cos(np.pi * min(done, 1)))
    return peak * ramp * float(decay)


@dataclass(frozen=True)
class TrainProgress:
    """One progress event (every step)."""

    step: int
    steps: int
    losses: dict[str, float]
    images_per_second: float
    elapsed_seconds: float
    event: str = "step"  # "warmup" (step 0) or "step"


@dataclass(frozen=True)
class TrainResult:
    steps: int
    seconds: float
    losses: dict[str, float]
    export: ExportReport
    stopped_early: bool


class Trainer:
    """A resumable training run. ``run`` trains until done, out of time, or interrupted."""

    def __init__(self, settings: TrainSettings):
        self.s = settings.checked()
        if self.s.threads:
            torch.set_num_threads(self.s.threads)
        torch.manual_seed(self.s.seed)
        train_photos, held_out = split_content(self.s.content_dir)
        self.sampler = CropSampler(train_photos, self.s.size, self.s.seed)
        self.preview_source = read_image(held_out[0] if held_out else train_photos[0], 256)
        self.vgg = load_vgg_weights(self.s.vgg)
        self.autocast = choose_autocast(self.s.precision)
        style = image_to_tensor(read_image(self.s.style_image, self.s.style_size))
        self.loss = StyleLoss(self.vgg, [style], self.s.weights, autocast=self.autocast).to(
            memory_format=torch.channels_last
        )
        self.net: StyleNet = build_net(self.s.arch).to(memory_format=torch.channels_last)
        self.step = 0
        self.elapsed = 0.0
        self.losses: dict[str, float] = {}
        self.initialised_from: dict | None = None
        if self.s.init is not None:
            self._load_model(self.s.init)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=self.s.learning_rate)
        self.work_dir = self.s.work_dir or default_work_dir(self.s.name)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        if self.s.resume:
            self._load_checkpoint()

    # -- checkpoints --------------------------------------------------------------------
    @property
    def checkpoint_path(self) -> Path:
        return self.work_dir / CHECKPOINT_FILE

    def save_checkpoint(self) -> None:
        state = {
            "net": self.net.state_dict(),
            "opt": self.opt.state_dict(),
            "step": self.step,
            "elapsed": self.elapsed,
            "losses": self.losses,
            "arch": self.s.arch,
            "sampler": repr(self.sampler.state()),
            "torch_rng": torch.get_rng_state(),
        }
        tmp = self.checkpoint_path.with_suffix(".tmp")
        torch.save(state, tmp)
        tmp.replace(self.checkpoint_path)  # atomic: a crash mid-save keeps the old checkpoint

    def _load_model(self, path: Path) -> None:
        """Start from an exported model: its weights, and its counts if it is this style."""
        state, meta = read_model(path)
        if meta.get("architecture") != self.s.arch:
            raise UsageError(
                f"{path} is a {meta.get('architecture', 'unknown')} network, not {self.s.arch}"
            )
        try:
            self.net.load_state_dict(state)
        except RuntimeError as exc:
            raise InputError(
                f"{path} does not fit the {self.s.arch} network: {first_line(exc)}"
            ) from exc
        training = training_record(meta)
        self.initialised_from = {
            "model": path.name,
            "style_name": meta.get("style_name", ""),
            "steps": training.get("steps", 0),
        }
        if meta.get("style_name") == self.s.name:  # the same style: training continues
            self.step = int(training.get("steps", 0))
            self.elapsed = float(training.get("seconds", 0.0))

    def _load_checkpoint(self) -> None:
        if not self.checkpoint_path.exists():
            raise InputError(f"no checkpoint to resume at {self.checkpoint_path}", setting="resume")
        try:
            state = torch.load(self.checkpoint_path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise InputError(
                f"cannot read checkpoint {self.checkpoint_path}: {first_line(exc)}"
            ) from exc
        if state["arch"] != self.s.arch:
            raise UsageError(f"checkpoint is for --arch {state['arch']}, not {self.s.arch}")
        self.net.load_state_dict(state["net"])
        self.opt.load_state_dict(state["opt"])
        self.step, self.elapsed, self.losses = state["step"], state["elapsed"], state["losses"]
        self.sampler.restore(_literal(state["sampler"]))
        torch.set_rng_state(state["torch_rng"])

    # -- training -----------------------------------------------------------------------
    def _crops(self, n: int) -> torch.Tensor:
        return self.sampler.batch(n).contiguous(memory_format=torch.channels_last)

    def warm_up(self) -> float:
        """Teach a new network to reproduce its input (``warmup_steps``); the last pixel MSE.

        Own optimiser, discarded after: the style training's Adam starts fresh.
        """
        opt = torch.optim.Adam(self.net.parameters(), lr=self.s.learning_rate)
        mse = float("nan")
        for _ in range(self.s.warmup_steps):
            batch = self._crops(2 * self.s.batch)
            loss = ((self.net(batch) - batch) / 255.0).pow(2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            mse = float(loss.detach())
        return mse

    def train_step(self) -> dict[str, float]:
        content = self._crops(self.s.batch)
        targets = self.loss.content_targets(content)
        output = self.net(content)
        terms = self.loss(output, targets)
        objective = terms.total.mean()
        losses = terms.as_floats()
        if self.s.stability_weight > 0:
            stability = self.stability(content, output.detach())
            objective = objective + self.s.stability_weight * stability
            losses["stability"] = float(stability.detach())
        self.opt.zero_grad(set_to_none=True)
        objective.backward()
        self.opt.step()
        return losses

    def stability(self, content: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        """How much the output changes when the input changes as between video frames.

        Huang et al. (2017), Gupta et al. (2017), Wang et al. (2020):
        :func:`train_fast.stability.next_frame` warps the input by a small random motion,
        changes its brightness and noise and moves a thing in it; the output should move
        with the picture and the thing and otherwise stay the same, also around the thing.
        The motion is by fractions of a pixel too, against the network's stride grid, so
        textures tied to that grid cost here. On half the batch (the network's own forward
        and backward pass costs about as much as VGG's).
        """
        half = max(1, content.shape[0] // 2)
        frame = next_frame(content[:half], self.net.PAD_MULTIPLE)
        moved = self.net(frame.image.contiguous(memory_format=torch.channels_last))
        return output_change(moved, output[:half], frame)

    def preview(self) -> Path:
        path = self.work_dir / "preview.png"
        write_image(path, self.stylize(self.preview_source))
        return path

    @torch.no_grad()
    def stylize(self, image_bgr: np.ndarray) -> np.ndarray:
        m = self.net.PAD_MULTIPLE
        h, w = (image_bgr.shape[0] // m) * m, (image_bgr.shape[1] // m) * m
        self.net.eval()
        out = tensor_to_image(self.net(image_to_tensor(image_bgr[:h, :w])))
        self.net.train()
        return out

    def run(self, on_progress: Callable[[TrainProgress], None] | None = None) -> TrainResult:
        """Train; on Ctrl-C save a checkpoint first, then re-raise."""
        notify = on_progress or (lambda _p: None)
        budget = self.s.minutes * 60 if self.s.minutes is not None else float("inf")
        session_start = time.perf_counter()
        last_checkpoint = last_export = session_start
        stopped_early = False
        first_step = self.step
        self.net.train()
        try:
            if self.step == 0 and self.initialised_from is None and self.s.warmup_steps:
                warmup = {"warmup_mse": self.warm_up()}
                notify(TrainProgress(0, self.s.steps, warmup, 0.0, 0.0, event="warmup"))
            while self.step < self.s.steps:
                if time.perf_counter() - session_start >= budget:
                    stopped_early = True
                    break
                t0 = time.perf_counter()
                done = (self.step - first_step) / max(1, self.s.steps - first_step)
                done = max(done, (t0 - session_start) / budget)
                lr = run_lr(
                    self.s.learning_rate, self.step - first_step + 1, self.s.lr_ramp_steps, done
                )
                for group in self.opt.param_groups:
                    group["lr"] = lr
                self.losses = self.train_step()
                dt = time.perf_counter() - t0
                self.step += 1
                self.elapsed += dt
                notify(
                    TrainProgress(
                        self.step, self.s.steps, self.losses, self.s.batch / dt, self.elapsed
                    )
                )
                if self.step % self.s.preview_every == 0:
                    self.preview()
                if time.perf_counter() - last_checkpoint >= self.s.checkpoint_minutes * 60:
                    self.save_checkpoint()
                    last_checkpoint = time.perf_counter()
                export_every = self.s.export_minutes
                if export_every and time.perf_counter() - last_export >= export_every * 60:
                    self.export()
                    last_export = time.perf_counter()
        finally:
            self.save_checkpoint()  # nothing lost on Ctrl-C or a crash
        self.preview()
        report = self.export()
        return TrainResult(self.step, self.elapsed, self.losses, report, stopped_early)

    def export(self) -> ExportReport:
        s = self.s
        training = {
            "steps": self.step,
            "seconds": round(self.elapsed, 1),
            "final_losses": {k: round(v, 5) for k, v in self.losses.items()},
            "crop_size": s.size,
            "style_size": s.style_size,
            "batch": s.batch,
            "learning_rate": s.learning_rate,
            "lr_ramp_steps": s.lr_ramp_steps,
            "lr_final_fraction": LR_FINAL_FRACTION,
            "loss_weights": asdict(s.weights),
            "stability_weight": s.stability_weight,
            "warmup_steps": s.warmup_steps,
            "content_set": f"{s.content_dir.name} ({len(self.sampler.photos)} photos)",
            "style_image": s.style_image.name,
            "seed": s.seed,
            "vgg_precision": precision_name(self.autocast),
        }
        if self.initialised_from is not None:
            training["initialised_from"] = self.initialised_from
        common = dict(
            style_name=s.name,
            artwork=s.artwork,
            architecture=s.arch,
            training=training,
            vgg_source=self.vgg.source,
            paint_size=s.paint_size,
        )
        report = export_onnx(self.net, s.out_dir / f"{s.name}.onnx", **common)
        if s.fp16_copy:
            export_onnx(self.net, s.out_dir / f"{s.name}.fp16.onnx", fp16=True, **common)
        return report


def _literal(text: str) -> dict:
    import ast

    return ast.literal_eval(text)
