"""Flicker metric: the warping error of Lai et al. (2018), and PSNR against a reference.

Warping error (Lai et al., "Learning Blind Video Temporal Consistency", ECCV 2018): for each
pair of consecutive frames, optical flow between the *source* frames carries the previous
*stylised* frame into the current one, and the error is the mean squared difference between
the two over the pixels visible in both frames, on values in [0, 1] (averaged over colour
channels). A clip's warping error is the mean over its frame pairs; pairs without a single
visible pixel are left out, and so are scene cuts (:data:`CUT_SHARE`): two shots share no
pixel, whatever matches the flow finds between them.

Visible means: the forward-backward check holds (following the backward flow into frame t-1
and the forward flow back lands where it started, Sundaram et al. 2010 / Ruder et al. 2016,
with the thresholds of Lai et al.'s evaluation code), the pixel is not on a motion boundary,
and its position in frame t-1 lies inside that frame.

Flow (:data:`METRIC_FLOW` by default): OpenCV DIS at its medium preset on the
full-resolution grayscale source frames (resized to the stylised frames' size). The smoother
uses the same algorithm at its ultrafast preset on small frames and never sees this flow, but
a flow of the same family may share its blind spots, so a flow of another family can be used
instead (:data:`FLOW_METHODS`): DeepFlow or TV-L1 in-process where opencv-contrib is installed
(it cannot share an environment with opencv-python), or flows computed elsewhere and read
from a file (:func:`load_motions`; ``benchmarks/independent_flow.py`` writes them). Every
method compared is scored along the same flow, so only the stylised frames differ.

PSNR against a reference (the per-frame, unsmoothed output) measures how far smoothing
strays from it (ghosting, lag): ``10 log10(1 / MSE)`` over the whole clip.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice, pairwise
from pathlib import Path

import cv2
import numpy as np

from stream_nst.errors import InputError, MissingDependencyError, UsageError, first_line
from stream_nst.flow import backward_flow, inside_frame, pixel_grid, sampling_map, to_gray, warp
from stream_nst.sources import IMAGE_SUFFIXES, VideoFileSource, input_kind, read_image

METRIC_FLOW = "OpenCV DIS, medium preset, full-resolution grayscale source frames"
FLOW_METHODS = {
    "dis": METRIC_FLOW,
    "deepflow": "DeepFlow (opencv-contrib), full-resolution grayscale source frames",
    "tvl1": "TV-L1 (opencv-contrib DualTVL1), full-resolution grayscale source frames",
}
"""Flows the metric can compute itself, by name: what each is."""
FlowFunction = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""(gray frame t, gray frame t-1) -> float32 backward flow, both uint8 single-channel."""

# Forward-backward and motion-boundary thresholds of Lai et al.'s evaluation code
# (after Ruder et al. 2016): squared magnitudes, pixels.
_FB_RELATIVE, _FB_ABSOLUTE = 0.01, 0.5
_BOUNDARY_RELATIVE, _BOUNDARY_ABSOLUTE = 0.01, 0.002

CUT_LEVEL = 24.0
"""A source pixel the flow does not explain differs from where the flow takes it in the
previous frame by at least this much (root mean square over the colour channels, 0-255)."""
CUT_SHARE = 1 / 3
"""A frame pair whose source leaves more than this share of its pixels unexplained
(:data:`CUT_LEVEL`) is a scene cut, and nothing in it counts as visible. On the shared clips
no other pair came above 0.17 (``tree.avi``, leaves in the wind) and their one cut
(``cityCC0.mpg``, pair 115) scored 0.56; the forward-backward check had passed 2 % of that
pair's pixels, spurious matches that would have weighed as much as any other pair."""


@dataclass(frozen=True)
class Motion:
    """How frame t relates to frame t-1 of a source."""

    flow: np.ndarray
    """float32 ``HxWx2`` backward flow: pixel ``(x, y)`` of frame t was at ``(x, y) + flow``."""
    visible: np.ndarray
    """bool ``HxW``: the pixel has a trustworthy counterpart in frame t-1."""


def _squared_norm(vectors: np.ndarray) -> np.ndarray:
    return vectors[..., 0] ** 2 + vectors[..., 1] ** 2


def occlusion_mask(
    backward: np.ndarray, forward: np.ndarray, positions: np.ndarray | None = None
) -> np.ndarray:
    """bool ``HxW``, True where a pixel of frame t has no reliable counterpart in frame t-1.

    ``backward`` is the flow t -> t-1, ``forward`` the flow t-1 -> t; ``positions`` (optional)
    are the sampling positions ``grid + backward``. A pixel is flagged when the round trip
    misses, ``|b + f(x + b)|^2 > 0.01 (|b|^2 + |f(x + b)|^2) + 0.5``, or when it lies on a
    motion boundary, ``|grad b_x|^2 + |grad b_y|^2 > 0.01 |b|^2 + 0.002``.
    """
    if positions is None:
        positions = sampling_map(backward, pixel_grid(*backward.shape[:2]))
    returned = cv2.remap(
        forward, positions, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    backward_sq = _squared_norm(backward)
    round_trip = _squared_norm(backward + returned)
    inconsistent = (
        round_trip > _FB_RELATIVE * (backward_sq + _squared_norm(returned)) + _FB_ABSOLUTE
    )
    d_dx = np.diff(backward, axis=1, append=backward[:, -1:])
    d_dy = np.diff(backward, axis=0, append=backward[-1:])
    gradient_sq = _squared_norm(d_dx) + _squared_norm(d_dy)
    boundary = gradient_sq > _BOUNDARY_RELATIVE * backward_sq + _BOUNDARY_ABSOLUTE
    return inconsistent | boundary


def flow_function(method: str) -> FlowFunction:
    """The flow of :data:`FLOW_METHODS` named ``method``; DeepFlow and TV-L1 need
    opencv-contrib (``cv2.optflow``), else :class:`MissingDependencyError`."""
    if method not in FLOW_METHODS:
        raise UsageError(f"unknown flow {method!r}; choose from {', '.join(FLOW_METHODS)}")
    if method == "dis":
        dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        return lambda gray, prev_gray: backward_flow(dis, gray, prev_gray)
    optflow = getattr(cv2, "optflow", None)
    if optflow is None:
        raise MissingDependencyError(
            f"the {method} flow needs opencv-contrib (cv2.optflow), which cannot share an "
            "environment with opencv-python: compute the flows there "
            "(benchmarks/independent_flow.py) and pass them with --flows"
        )
    if method == "deepflow":
        estimator = optflow.createOptFlow_DeepFlow()
    else:
        estimator = optflow.DualTVL1OpticalFlow_create()
    return lambda gray, prev_gray: estimator.calc(gray, prev_gray, None)


def motion_from_flows(backward: np.ndarray, forward: np.ndarray) -> Motion:
    """:class:`Motion` of frame t from its backward flow (t -> t-1) and the forward flow
    (t-1 -> t): visible where inside frame t-1 and not occluded (:func:`occlusion_mask`)."""
    backward, forward = backward.astype(np.float32), forward.astype(np.float32)
    height, width = backward.shape[:2]
    positions = sampling_map(backward, pixel_grid(height, width))
    inside = inside_frame(positions, height, width) > 0
    return Motion(backward, inside & ~occlusion_mask(backward, forward, positions))


class MotionEstimator:
    """Computes :class:`Motion` between consecutive BGR source frames with a flow of
    :data:`FLOW_METHODS` (default DIS, :data:`METRIC_FLOW`); nothing is visible across a
    scene cut (:func:`unless_cut`)."""

    def __init__(self, method: str = "dis") -> None:
        self._flow = flow_function(method)
        self.description = FLOW_METHODS[method]

    def __call__(self, previous: np.ndarray, current: np.ndarray) -> Motion:
        prev_gray, gray = to_gray(previous), to_gray(current)
        motion = motion_from_flows(self._flow(gray, prev_gray), self._flow(prev_gray, gray))
        return unless_cut(previous, current, motion)


def unexplained_share(previous: np.ndarray, current: np.ndarray, motion: Motion) -> float:
    """Share of the pixels of source frame ``current`` that ``previous`` warped along
    ``motion`` does not explain (a difference of at least :data:`CUT_LEVEL`)."""
    level = (CUT_LEVEL / 255.0) ** 2
    return float(np.mean(warping_error_map(previous, current, motion) >= level))


def unless_cut(previous: np.ndarray, current: np.ndarray, motion: Motion) -> Motion:
    """``motion`` between two source frames, with no pixel visible if they are a scene cut
    (:data:`CUT_SHARE`)."""
    if unexplained_share(previous, current, motion) > CUT_SHARE:
        return Motion(motion.flow, np.zeros_like(motion.visible))
    return motion


def load_motions(path: str | Path) -> tuple[str, Iterator[Motion]]:
    """The flow description and the :class:`Motion` of every frame pair in a flows file:
    an ``.npz`` with ``backward`` and ``forward`` arrays of shape ``(pairs, H, W, 2)``
    (pair i leads from frame i to frame i + 1) and optionally ``method``, a description."""
    try:
        data = np.load(path)
        backward, forward = data["backward"], data["forward"]
        method = str(data["method"]) if "method" in data else f"flows from {path}"
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"cannot read flows from {path}: {first_line(exc)}") from exc
    if backward.shape != forward.shape or backward.ndim != 4 or backward.shape[-1] != 2:
        raise InputError(f"{path}: backward and forward flows must both be (pairs, H, W, 2)")
    motions = (motion_from_flows(b, f) for b, f in zip(backward, forward, strict=True))
    return method, motions


def warping_error(previous: np.ndarray, current: np.ndarray, motion: Motion) -> float:
    """Mean squared difference on [0, 1] between ``current`` and ``previous`` warped along
    ``motion``, over visible pixels; NaN when no pixel is visible."""
    if not motion.visible.any():
        return math.nan
    return float(warping_error_map(previous, current, motion)[motion.visible].mean())


def warping_error_map(previous: np.ndarray, current: np.ndarray, motion: Motion) -> np.ndarray:
    """float32 ``HxW``: the squared difference on [0, 1] between ``current`` and ``previous``
    warped along ``motion``, averaged over the colour channels, at every pixel (visible or
    not: see ``motion.visible``)."""
    if current.shape[:2] != motion.flow.shape[:2] or previous.shape != current.shape:
        raise InputError(
            f"frame sizes differ: {previous.shape}, {current.shape}, flow {motion.flow.shape}"
        )
    warped = warp(previous.astype(np.float32), motion.flow)
    difference = (current.astype(np.float32) - warped) / 255.0
    return np.square(difference).reshape(*difference.shape[:2], -1).mean(axis=-1)


def mean_warping_error(frames: Sequence[np.ndarray], motions: Sequence[Motion]) -> float:
    """A clip's warping error: the mean over its frame pairs (``motions[i]`` leads from
    frame i to frame i + 1), leaving out pairs without visible pixels."""
    if len(motions) != len(frames) - 1:
        raise InputError(f"{len(frames)} frames need {len(frames) - 1} motions, not {len(motions)}")
    errors = [warping_error(a, b, m) for (a, b), m in zip(pairwise(frames), motions, strict=True)]
    return _mean_of_visible(errors)


def _mean_of_visible(errors: list[float]) -> float:
    visible = [e for e in errors if not math.isnan(e)]
    return float(np.mean(visible)) if visible else math.nan


def clip_psnr(frames: Iterable[np.ndarray], reference: Iterable[np.ndarray]) -> float:
    """PSNR in dB of a clip against a reference clip, from the MSE over all frames."""
    errors = [mse(a, b) for a, b in zip(frames, reference, strict=True)]
    return psnr(float(np.mean(errors)))


def mse(frame: np.ndarray, reference: np.ndarray) -> float:
    """Mean squared difference of two uint8 frames, on [0, 1]."""
    if frame.shape != reference.shape:
        raise InputError(f"frame size {frame.shape} differs from reference {reference.shape}")
    difference = cv2.absdiff(frame, reference).astype(np.float32) / 255.0
    return float(np.square(difference).mean())


def psnr(mean_squared_error: float) -> float:
    """PSNR in dB of a mean squared error on [0, 1] (infinite for identical frames)."""
    return math.inf if mean_squared_error <= 0 else -10.0 * math.log10(mean_squared_error)


@dataclass(frozen=True)
class FlickerReport:
    """What :func:`measure` found."""

    frames: int
    warping_error: float
    """Mean warping error over frame pairs (lower is steadier)."""
    psnr: float | None
    """PSNR in dB against the reference, when one was given (higher strays less)."""
    flow: str = METRIC_FLOW
    left_out: int = 0
    """Frame pairs the warping error leaves out: scene cuts, and pairs with no visible
    pixel."""


def _aligned(
    source: Iterable[np.ndarray],
    stylized: Iterable[np.ndarray],
    reference: Iterable[np.ndarray] | None,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
    """Yield (source, stylized, reference) triples; sources are resized to the stylised size
    (:func:`check_sizes`)."""
    columns = [source, stylized] if reference is None else [source, stylized, reference]
    try:
        for frames in zip(*columns, strict=True):
            src, out = frames[0], frames[1]
            check_sizes(src, out)
            height, width = out.shape[:2]
            if src.shape[:2] != (height, width):
                src = cv2.resize(src, (width, height), interpolation=cv2.INTER_AREA)
            yield src, out, (frames[2] if reference is not None else None)
    except ValueError as exc:  # zip(strict=True): one input ended before the others
        raise InputError("the inputs have different numbers of frames") from exc


def check_sizes(source: np.ndarray, stylized: np.ndarray) -> None:
    """Refuse a stylised frame that cannot be the source frame scaled: its aspect ratio
    differs by more than rounding to whole pixels allows (:class:`InputError`)."""
    (src_h, src_w), (out_h, out_w) = source.shape[:2], stylized.shape[:2]
    # The stylised height if it were the source scaled to its width, and the reverse.
    if abs(src_h * out_w / src_w - out_h) > 1.0 and abs(src_w * out_h / src_h - out_w) > 1.0:
        raise InputError(
            f"the source is {src_w}x{src_h} but the stylised video is {out_w}x{out_h}: "
            "not the same video"
        )


def _motion_source(
    flow: str, motions: tuple[str, Iterable[Motion]] | None
) -> tuple[str, Callable[[np.ndarray, np.ndarray], Motion]]:
    """(description, motion of a source frame pair) for :func:`measure`."""
    if motions is None:
        estimator = MotionEstimator(flow)
        return estimator.description, estimator
    description, given = motions[0], iter(motions[1])

    def next_given(previous: np.ndarray, current: np.ndarray) -> Motion:
        motion = next(given, None)
        if motion is None:
            raise InputError("the flows file has fewer frame pairs than the video")
        return unless_cut(previous, current, motion)

    return description, next_given


def measure(
    source: Iterable[np.ndarray],
    stylized: Iterable[np.ndarray],
    reference: Iterable[np.ndarray] | None = None,
    *,
    flow: str = "dis",
    motions: tuple[str, Iterable[Motion]] | None = None,
) -> FlickerReport:
    """Warping error of ``stylized`` along ``source``'s motion, and PSNR vs ``reference``.

    All three are iterables of BGR uint8 frames in order, consumed in one streaming pass.
    The motion is computed with the ``flow`` of :data:`FLOW_METHODS`, or given: ``motions``
    is (description, one :class:`Motion` per frame pair), as :func:`load_motions` returns.
    """
    description, motion_of = _motion_source(flow, motions)
    errors: list[float] = []
    squared: list[float] = []
    previous: tuple[np.ndarray, np.ndarray] | None = None
    for src, out, ref in _aligned(source, stylized, reference):
        if previous is not None:
            errors.append(warping_error(previous[1], out, motion_of(previous[0], src)))
        if ref is not None:
            squared.append(mse(out, ref))
        previous = src, out
    if not errors:
        raise InputError("need at least two frames to measure flicker")
    return FlickerReport(
        frames=len(errors) + 1,
        warping_error=_mean_of_visible(errors),
        psnr=psnr(float(np.mean(squared))) if reference is not None else None,
        flow=description,
        left_out=sum(math.isnan(e) for e in errors),
    )


def read_frames(
    path: str | Path, *, max_frames: int | None = None, max_width: int | None = None
) -> Iterator[np.ndarray]:
    """BGR uint8 frames of a video file or of a folder of images (in name order).

    Frames wider than ``max_width`` are scaled down to it, keeping the aspect ratio.
    Raises :class:`InputError` when the path is missing or unreadable.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"no such file or folder: {path}")
    frames = _folder_frames(path) if input_kind(path) == "folder" else _video_frames(path)
    for frame in islice(frames, max_frames):
        height, width = frame.shape[:2]
        if max_width is not None and width > max_width:
            size = (max_width, max(1, round(height * max_width / width)))
            frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
        yield frame


def _folder_frames(folder: Path) -> Iterator[np.ndarray]:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise InputError(f"no image frames in folder: {folder}")
    for file in files:
        yield read_image(file)


def _video_frames(file: Path) -> Iterator[np.ndarray]:
    """The runtime's own decoding: rotated upright, in presentation order."""
    with VideoFileSource(file) as source:
        for frame in source:
            yield frame.image
    if source.damage:
        raise InputError(f"cannot decode video {file}: {source.damage}")
