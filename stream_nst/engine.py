"""Run style models with onnxruntime: ``Stylizer(style).stylize(frame_bgr) -> frame_bgr``.

A model paints at its own size: its ``paint_size`` metadata is the short side (px) it was
trained to paint at. Each frame is scaled to that size (never to more than a 16:9 frame of
it), painted, and brought back to the frame's size by the fast guided filter
(:mod:`stream_nst.upsample`), which takes the sharp edges from the frame. The network's cost
per frame is therefore the same at 480p, 720p or 4K, and its brush strokes keep the
painting's scale relative to the picture. Models without ``paint_size`` run at the frame's
own size (``max_size`` still caps it). :meth:`Stylizer.stylize` is two steps, ``paint`` (the
network, at its size) and ``finish`` (back to the frame's size), so that video smoothing
can steady the painting in between, on a quarter of a 720p frame's pixels.

Per frame, the work outside the network is kept to what the frame needs: nothing for a
``bgr_uint8_nhwc`` model at a size the model accepts (the frame goes in as a view and the
output comes back as a view); a reflect pad and a crop otherwise; a resize and the guided
upsampling when the painting size differs; one OpenCV call each for the strength blend and
colour preservation, and only when asked for.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from .errors import (
    InputError,
    ModelError,
    OutOfMemoryError,
    UsageError,
    first_line,
    is_out_of_memory,
)
from .hardware import choose_providers, physical_cores
from .model_format import BGR_UINT8_NHWC, MIN_SIZE, model_spec
from .settings import DEFAULT_STYLE, EngineSettings, StylizeSettings
from .styles import StyleInfo, resolve_style
from .upsample import GuidedUpsampler

_GPU_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider")


@dataclass(frozen=True)
class Painting:
    """A frame and the network's painting of it (:meth:`Stylizer.paint`)."""

    frame: np.ndarray
    """The frame, BGR uint8, at its own size."""
    source: np.ndarray
    """The frame at the size the network painted at (``frame`` itself if that is its size)."""
    painted: np.ndarray
    """The network's output, BGR uint8, the size of ``source``."""


class StyleModel:
    """One onnxruntime session for one style model."""

    def __init__(self, style: StyleInfo, settings: EngineSettings) -> None:
        self.style = style
        self._session, self.provider = _open_session(style.path, settings)
        self.spec = model_spec(
            f"style model {style.path}",
            style.metadata,
            self._session.get_inputs(),
            self._session.get_outputs(),
        )

    def run(self, image: np.ndarray) -> np.ndarray:
        """Stylize a BGR uint8 HxWx3 image; pads to the model's multiple and crops back."""
        height, width = image.shape[:2]
        padded = _pad_to_multiple(image, self.spec.pad_multiple)
        if self.spec.convention == BGR_UINT8_NHWC:
            feed, unpack = padded[np.newaxis], _from_bgr_uint8_nhwc
        else:
            feed, unpack = _to_rgb_float255_nchw(padded), _from_rgb_float255_nchw
        try:
            (result,) = self._session.run([self.spec.output_name], {self.spec.input_name: feed})
        except Exception as exc:  # onnxruntime's error types share no base but Exception
            failed = OutOfMemoryError if is_out_of_memory(exc) else ModelError
            raise failed(
                f"style model {self.style.path} failed on a {width}x{height} frame: "
                f"{first_line(exc)}"
            ) from exc
        if result.dtype.kind == "f" and not np.isfinite(result.sum(dtype=np.float64)):
            raise ModelError(
                f"style model {self.style.path} returned NaN or infinite values "
                f"for a {width}x{height} frame (a broken model)"
            )
        out = unpack(result) if result.ndim == 4 else result
        if out.shape != padded.shape:
            raise ModelError(
                f"style model {self.style.path} returned shape {result.shape} "
                f"for a {padded.shape[1]}x{padded.shape[0]} input"
            )
        if out.shape[:2] != (height, width):
            out = np.ascontiguousarray(out[:height, :width])
        return out


class Stylizer:
    """Stylize BGR uint8 frames with a style model.

    Sessions are created lazily, one per style, and kept: switching back to a style
    used before is instant. ``settings`` may be replaced between frames (the live window
    does so to change the strength).
    """

    def __init__(
        self,
        style: str | Path | StyleInfo = DEFAULT_STYLE,
        *,
        settings: StylizeSettings | None = None,
        engine: EngineSettings | None = None,
    ) -> None:
        self.settings = settings or StylizeSettings()
        self.engine = engine or EngineSettings()
        self._models: dict[Path, StyleModel] = {}
        self.style = style if isinstance(style, StyleInfo) else resolve_style(style)
        self.upsampler = GuidedUpsampler()

    def set_style(self, style: str | Path | StyleInfo) -> None:
        """Switch to another style (its session is created on the next frame)."""
        self.style = style if isinstance(style, StyleInfo) else resolve_style(style)

    def load(self) -> StyleModel:
        """Open the current style's session now (it is otherwise opened on the first
        frame), so a broken model fails before any other work; returns it."""
        return self.model

    @property
    def model(self) -> StyleModel:
        """The current style's session, created on first use."""
        model = self._models.get(self.style.path)
        if model is None:
            model = self._models[self.style.path] = StyleModel(self.style, self.engine)
        return model

    @property
    def provider(self) -> str:
        """The onnxruntime execution provider running the current style."""
        return self.model.provider

    def stylize(self, frame: np.ndarray) -> np.ndarray:
        """Return the stylized BGR uint8 HxWx3 frame, the same size as ``frame``."""
        return self.finish(self.paint(frame))

    def paint(self, frame: np.ndarray) -> Painting:
        """The network's painting of a BGR uint8 HxWx3 frame, at the size it paints at.

        :meth:`finish` brings it to the frame's size; a video smoother steadies it in
        between (:class:`~stream_nst.sequence.SequenceStylizer`), where it costs the least.
        """
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise InputError(f"expected a BGR uint8 HxWx3 frame, got {frame.dtype} {frame.shape}")
        height, width = frame.shape[:2]
        if min(height, width) < MIN_SIZE:
            raise InputError(
                f"image too small: {width}x{height} pixels (at least {MIN_SIZE}x{MIN_SIZE})"
            )
        model = self.model
        paint_size = self.settings.paint_size or model.spec.paint_size
        size = painting_size(width, height, paint_size, self.settings.max_size)
        if size == (width, height):
            source = frame
        else:  # smaller: area averaging; larger (a frame under the painting size): bilinear
            shrink = size[0] < width
            interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
            source = cv2.resize(frame, size, interpolation=interpolation)
        return Painting(frame, source, model.run(source))

    def finish(self, painting: Painting) -> np.ndarray:
        """``painting`` at its frame's size, with the strength and colour settings applied."""
        frame, source, out = painting.frame, painting.source, painting.painted
        height, width = frame.shape[:2]
        if source.shape[1] < width:  # painted small: restore the frame's size and edges
            out = self.upsampler.upsample(out, source, frame)
        elif source.shape[1] > width:  # painted big: shrink back
            out = cv2.resize(out, (width, height), interpolation=cv2.INTER_AREA)
        settings = self.settings
        if settings.preserve_color:
            out = keep_original_colors(frame, out)
        if settings.strength < 1.0:
            out = cv2.addWeighted(out, settings.strength, frame, 1.0 - settings.strength, 0.0)
        return out


def keep_original_colors(original: np.ndarray, stylized: np.ndarray) -> np.ndarray:
    """Brightness from ``stylized``, colour (chroma) from ``original``, both BGR uint8."""
    luma = cv2.cvtColor(stylized, cv2.COLOR_BGR2YCrCb)
    mixed = cv2.cvtColor(original, cv2.COLOR_BGR2YCrCb)
    mixed[..., 0] = luma[..., 0]
    return cv2.cvtColor(mixed, cv2.COLOR_YCrCb2BGR)


def _open_session(path: Path, settings: EngineSettings) -> tuple[ort.InferenceSession, str]:
    options = ort.SessionOptions()
    options.intra_op_num_threads = settings.threads or physical_cores()
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 4  # failures become ModelError messages, not log lines
    # Idle workers sleep instead of spinning: decoding and encoding need those cores too
    # (measured on 2 cores: ~50 fps instead of ~34 for a 25 ms/frame model on cup.mp4).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    providers = choose_providers(settings.device)
    # onnxruntime prints provider fallbacks to stdout, which --json owns: keep the text
    # for the error message instead.
    fallback_report = io.StringIO()
    try:
        with contextlib.redirect_stdout(fallback_report):
            session = ort.InferenceSession(str(path), options, providers=providers)
    except Exception as exc:  # onnxruntime's error types share no base but Exception
        raise ModelError(f"cannot load style model {path}: {first_line(exc)}") from exc
    provider = session.get_providers()[0]
    if settings.device == "cuda" and provider not in _GPU_PROVIDERS:
        reason = first_line(fallback_report.getvalue()) or "see the onnxruntime GPU requirements"
        raise UsageError(
            f"CUDA was asked for, but onnxruntime fell back to the CPU ({reason})",
            setting="device",
        )
    return session, provider


def _pad_to_multiple(image: np.ndarray, multiple: int) -> np.ndarray:
    """Reflect-pad the bottom and right edges up to multiples of ``multiple`` (no copy if none)."""
    height, width = image.shape[:2]
    bottom, right = -height % multiple, -width % multiple
    if not bottom and not right:
        return image
    return cv2.copyMakeBorder(image, 0, bottom, 0, right, cv2.BORDER_REFLECT_101)


def _from_bgr_uint8_nhwc(batch: np.ndarray) -> np.ndarray:
    return batch[0]


def _to_rgb_float255_nchw(image: np.ndarray) -> np.ndarray:
    return cv2.dnn.blobFromImage(image, swapRB=True)


def _from_rgb_float255_nchw(batch: np.ndarray) -> np.ndarray:
    rgb = np.clip(batch[0], 0.0, 255.0).transpose(1, 2, 0)
    return cv2.cvtColor(np.rint(rgb).astype(np.uint8), cv2.COLOR_RGB2BGR)


def painting_size(
    width: int, height: int, paint_size: int | None, max_size: int | None = None
) -> tuple[int, int]:
    """The (width, height) a ``width``×``height`` frame is painted at.

    The short side becomes ``paint_size`` (None: the frame's own size), but the area never
    exceeds a 16:9 frame of that short side (so a very elongated frame costs no more) and the
    long side never exceeds ``max_size``; both sides stay at least :data:`MIN_SIZE`.
    """
    scale = 1.0
    if paint_size is not None:
        scale = min(
            paint_size / min(width, height),
            (paint_size * paint_size * 16 / 9 / (width * height)) ** 0.5,
        )
    if max_size is not None:
        scale = min(scale, max_size / max(width, height))
    if abs(scale - 1.0) < 1e-3:
        return width, height
    return max(MIN_SIZE, round(width * scale)), max(MIN_SIZE, round(height * scale))
