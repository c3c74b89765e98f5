"""Temporal smoothing stage: source -> stylize -> **smooth** -> sink.

A smoother sees each source frame together with its stylized frame, in order, and
returns the frame to write. :meth:`Smoother.reset` forgets the previous frames (a new clip).

:class:`FlowSmoother` (the default) blends each stylised frame with the previous *output*
carried along the source's optical flow, so textures stay put on static content and move
with moving content instead of boiling, without the ghost trails of a plain blend
(:class:`ExponentialBlend`, kept as the baseline the benchmark compares against). Per
frame, on small grayscale source frames (``flow_width`` wide):

1. DIS optical flow (ultrafast preset) from the current to the previous frame;
2. the *warp error*: the previous small frame warped along the flow, minus the current one.
   It stands in for occlusion detection (a forward-backward check would need a second
   flow): disoccluded or newly entering content, and places the flow got wrong, do not
   match;
3. the frame's dominant translation (the median flow) replaces the dense flow wherever it
   explains a 5x5 neighbourhood at least as well: static and rigidly panning background
   then moves as one, instead of jittering with the dense flow's per-pixel noise;
4. when more than ``scene_cut_fraction`` of the frame has a warp error of at least
   ``rejected_error``, a new shot has started and the state is reset. Otherwise a pixel's
   blend weight is ``strength`` where its warp error is at most ``trusted_error``, falling
   linearly towards 0 at ``rejected_error`` but never below ``untrusted_share * strength``
   (and 0 where the flow leaves the frame). Both thresholds rise by ``noise_allowance``
   times the frame's median warp error: a noisy source (sensor grain, compression)
   mismatches everywhere, and a pixel rejected for its noise flickers at the network's
   full per-frame amplitude; a clean source keeps the strict thresholds that stop ghosts;
5. at the stylized frames' resolution: interpolate the sampling positions up, remap the
   previous output (fixed-point bilinear), blend per pixel (8-bit weights). In the runtime
   these are the network's paintings, before the frame's size and edges are restored
   (:mod:`stream_nst.sequence`).

The returned frame is also the smoother's memory of the previous output: callers must
not modify it in place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import cv2
import numpy as np

from stream_nst.errors import UsageError
from stream_nst.flow import backward_flow, inside_frame, pixel_grid, sampling_map, to_gray


@dataclass(frozen=True)
class SmoothSettings:
    """How video output is stabilised over time (all defaults live here)."""

    enabled: bool = True
    """Smooth at all (``--no-smooth`` turns it off)."""
    strength: float = 0.8
    """Weight of the motion-compensated previous output where the flow is trusted, in
    [0, 1): 0 is no smoothing; higher is steadier but slower to follow changes
    (``--smooth-strength``). 0.8 rather than 0.7: on the clips it was tuned on (BENCHMARKS.md,
    "Temporal stability"), 0.8 lowers the warping error against an equal-PSNR blend
    (box.mp4, scored along Farneback flow: 0.92x the blend's at 0.7, 0.85x at 0.8)."""
    flow_width: int = 256
    """Width in pixels of the grayscale frames the flow is computed on (never upscaled)."""
    trusted_error: float = 10.0
    """Warp error (gray levels, 0-255) up to which the flow is fully trusted, on a source
    without noise."""
    rejected_error: float = 30.0
    """Warp error at and above which a pixel is taken as new content, on a source without
    noise."""
    noise_allowance: float = 30.0
    """How many times the frame's median warp error both thresholds rise by. 30 rather
    than 0: on the clips it was tuned on, pixels rejected for their source's noise were
    the smoother's loss against a plain blend (tree.avi, along DeepFlow: 1.43x the
    equal-PSNR blend's warping error without it; BENCHMARKS.md, "Temporal stability")."""
    untrusted_share: float = 0.25
    """Share of ``strength`` a rejected pixel still carries from the previous output, in
    [0, 1]: the flow is most often wrong on small moving things, where fresh per-frame
    output flickers most. 0.25 is the largest that leaves no visible ghost behind a moving
    object (tests/test_smooth.py)."""
    scene_cut_fraction: float = 0.35
    """Share of a frame the previous one cannot explain (warp error at least
    ``rejected_error``) above which the frame starts a new shot (the state resets)."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.strength < 1.0:
            raise UsageError(f"smoothing strength must be in [0, 1), got {self.strength}")
        if self.flow_width < 16:
            raise UsageError(f"flow width must be at least 16 pixels, got {self.flow_width}")
        if not 0.0 <= self.trusted_error < self.rejected_error <= 255.0:
            raise UsageError(
                "need 0 <= trusted_error < rejected_error <= 255, got "
                f"{self.trusted_error} and {self.rejected_error}"
            )
        if self.noise_allowance < 0.0:
            raise UsageError(f"noise allowance must be at least 0, got {self.noise_allowance}")
        if not 0.0 <= self.untrusted_share <= 1.0:
            raise UsageError(f"untrusted share must be in [0, 1], got {self.untrusted_share}")
        if not 0.0 < self.scene_cut_fraction <= 1.0:
            raise UsageError(f"scene-cut fraction must be in (0, 1], got {self.scene_cut_fraction}")


class Smoother(Protocol):
    """Takes (source BGR uint8 HxWx3, stylized BGR uint8 HxWx3), gives stylized BGR uint8."""

    def __call__(self, source: np.ndarray, stylized: np.ndarray) -> np.ndarray: ...

    def reset(self) -> None: ...


class PassThrough:
    """No smoothing (``--no-smooth``)."""

    def __call__(self, source: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        return stylized

    def reset(self) -> None:
        return None


class ExponentialBlend:
    """Plain exponential blend ``out = alpha * previous out + (1 - alpha) * stylized``.

    No motion compensation: steady on static content, ghost trails behind anything that
    moves. The baseline :class:`FlowSmoother` is measured against.
    """

    def __init__(self, alpha: float) -> None:
        if not 0.0 <= alpha < 1.0:
            raise UsageError(f"blend alpha must be in [0, 1), got {alpha}")
        self.alpha = alpha
        self._previous: np.ndarray | None = None

    def __call__(self, source: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        previous = self._previous
        if previous is None or previous.shape != stylized.shape:
            self._previous = stylized.copy()
        else:
            self._previous = cv2.addWeighted(previous, self.alpha, stylized, 1.0 - self.alpha, 0)
        return self._previous

    def reset(self) -> None:
        self._previous = None


# DIS preset of the smoother's flow: patch search without variational refinement is enough
# at a few hundred pixels wide and costs well under a millisecond.
_FLOW_PRESET = cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST
# Window (small-frame pixels) over which the dominant translation and the dense flow are
# compared, and the stride of the flow samples the dominant translation is the median of.
_NEIGHBOURHOOD = (5, 5)
_DOMINANT_STRIDE = 8
_MIN_FLOW_SIDE = 12  # DIS needs one side at least this long; smaller frames pass through


@dataclass
class _Geometry:
    """Per-resolution constants and reusable buffers of :class:`FlowSmoother`."""

    small_size: tuple[int, int]  # (width, height) the flow is computed at
    full_size: tuple[int, int]  # (width, height) of the stylised frames
    small_grid: np.ndarray = field(init=False)
    small_map: np.ndarray = field(init=False)
    dominant: np.ndarray = field(init=False)  # the dominant translation, as a flow field
    full_map: np.ndarray = field(init=False)
    to_full: np.ndarray = field(init=False)  # small-pixel -> full-pixel coordinates (affine)

    def __post_init__(self) -> None:
        (small_w, small_h), (full_w, full_h) = self.small_size, self.full_size
        self.small_grid = pixel_grid(small_h, small_w)
        self.small_map = np.empty_like(self.small_grid)
        self.dominant = np.empty_like(self.small_grid)
        self.full_map = np.empty((full_h, full_w, 2), np.float32)
        # Pixel centres: small (x + 0.5) * scale = full (x' + 0.5).
        scale_x, scale_y = full_w / small_w, full_h / small_h
        self.to_full = np.array(
            [[scale_x, 0.0, (scale_x - 1) / 2], [0.0, scale_y, (scale_y - 1) / 2]], np.float32
        )


class FlowSmoother:
    """Motion-compensated temporal smoothing (see the module docstring for the method)."""

    def __init__(self, settings: SmoothSettings) -> None:
        self.settings = settings
        self._flow = cv2.DISOpticalFlow_create(_FLOW_PRESET)
        self._geometry: _Geometry | None = None
        self._previous_gray: np.ndarray | None = None
        self._previous_out: np.ndarray | None = None

    def reset(self) -> None:
        self._previous_gray = None
        self._previous_out = None

    def __call__(self, source: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        gray = self._small_gray(source)
        previous_gray, previous_out = self._previous_gray, self._previous_out
        self._previous_gray = gray
        if (
            previous_gray is None
            or previous_out is None
            or previous_gray.shape != gray.shape
            or previous_out.shape != stylized.shape
            or max(gray.shape) < _MIN_FLOW_SIDE
        ):
            return self._restart(stylized)
        geometry = self._geometry_for(gray, stylized)
        motion = self._motion(gray, previous_gray, geometry)
        if motion is None:
            return self._restart(stylized)
        small_weight, small_positions = motion
        # At the stylized frames' size: scale the sampling positions from small-pixel to
        # full-pixel centres and interpolate them up (the same as upscaling the flow and
        # adding the full-size grid, but in one pass), then remap the previous output.
        cv2.transform(small_positions, geometry.to_full, dst=small_positions)
        cv2.resize(small_positions, geometry.full_size, dst=geometry.full_map)
        # Fixed-point maps: converting costs less than remap saves with them.
        map_xy, map_fraction = cv2.convertMaps(geometry.full_map, None, cv2.CV_16SC2)
        warped = cv2.remap(
            previous_out, map_xy, map_fraction, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        # Blend in 8 bits: out = (warped * w + stylized * (255 - w)) / 255.
        weight = cv2.resize(small_weight, geometry.full_size)
        carried = cv2.multiply(warped, weight, scale=1 / 255)
        fresh = cv2.multiply(stylized, cv2.bitwise_not(weight), scale=1 / 255)
        self._previous_out = cv2.add(carried, fresh)
        return self._previous_out

    def _small_gray(self, source: np.ndarray) -> np.ndarray:
        gray = to_gray(source)
        height, width = gray.shape
        target = self.settings.flow_width
        if width <= target:
            return gray
        size = (target, max(1, round(height * target / width)))
        # Halve by area averaging (OpenCV's fast path) while at least twice too wide; the
        # last step, by less than 2, is bilinear (cheap, and hardly aliases at that ratio).
        while gray.shape[1] >= 2 * target:
            half = (gray.shape[1] // 2, gray.shape[0] // 2)
            gray = cv2.resize(gray, half, interpolation=cv2.INTER_AREA)
        return cv2.resize(gray, size, interpolation=cv2.INTER_LINEAR)

    def _geometry_for(self, gray: np.ndarray, stylized: np.ndarray) -> _Geometry:
        small_size = (gray.shape[1], gray.shape[0])
        full_size = (stylized.shape[1], stylized.shape[0])
        geometry = self._geometry
        if geometry is None or (geometry.small_size, geometry.full_size) != (small_size, full_size):
            geometry = self._geometry = _Geometry(small_size, full_size)
        return geometry

    def _motion(
        self, gray: np.ndarray, previous_gray: np.ndarray, geometry: _Geometry
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Blend weight of the warped previous output (uint8, 255 = all of it, 3 channels),
        and where each pixel samples the previous frame, both at small size; None at a
        scene cut."""
        flow = backward_flow(self._flow, gray, previous_gray)
        error = self._warp_error(previous_gray, gray, flow, geometry)
        # The dominant (camera) translation: where it explains a neighbourhood as well as
        # the dense flow does, use it, so static or rigidly panning background is not
        # resampled along the dense flow's per-pixel noise (its textures would jitter).
        samples = flow[::_DOMINANT_STRIDE, ::_DOMINANT_STRIDE].reshape(-1, 2)
        geometry.dominant[:] = np.median(samples, axis=0)
        dominant_error = self._warp_error(previous_gray, gray, geometry.dominant, geometry)
        dominant = cv2.compare(
            cv2.blur(dominant_error, _NEIGHBOURHOOD), cv2.blur(error, _NEIGHBOURHOOD), cv2.CMP_LE
        )
        cv2.copyTo(geometry.dominant, dominant, flow)
        cv2.copyTo(dominant_error, dominant, error)
        rejected = cv2.countNonZero(cv2.compare(error, self.settings.rejected_error, cv2.CMP_GE))
        if rejected > self.settings.scene_cut_fraction * error.size:
            return None
        positions = sampling_map(flow, geometry.small_grid, out=geometry.small_map)
        # 0-255, and 0 where the flow leaves the frame; one copy per colour channel.
        inside = inside_frame(positions, *gray.shape)
        allowance = self.settings.noise_allowance * float(np.median(error))
        weight = cv2.multiply(self._weight(error, allowance), inside, dtype=cv2.CV_8U)
        return cv2.cvtColor(weight, cv2.COLOR_GRAY2BGR), positions

    @staticmethod
    def _warp_error(
        previous_gray: np.ndarray, gray: np.ndarray, flow: np.ndarray, geometry: _Geometry
    ) -> np.ndarray:
        """float32 absolute difference between ``gray`` and ``previous_gray`` warped along
        ``flow``, in gray levels."""
        positions = sampling_map(flow, geometry.small_grid, out=geometry.small_map)
        warped = cv2.remap(
            previous_gray, positions, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        return cv2.absdiff(warped, gray).astype(np.float32)

    def _weight(self, error: np.ndarray, allowance: float) -> np.ndarray:
        """``strength`` up to ``trusted_error``, falling linearly towards 0 at
        ``rejected_error`` (both raised by ``allowance``), never below ``untrusted_share *
        strength``."""
        s = self.settings
        slope = s.strength / (s.rejected_error - s.trusted_error)
        weight = (s.rejected_error + allowance) * slope - error * slope
        return np.clip(weight, s.untrusted_share * s.strength, s.strength, out=weight)

    def _restart(self, stylized: np.ndarray) -> np.ndarray:
        self._previous_out = stylized.copy()
        return self._previous_out


def make_smoother(settings: SmoothSettings) -> Smoother:
    """Build the smoother the settings ask for."""
    if not settings.enabled or settings.strength == 0.0:
        return PassThrough()
    return FlowSmoother(settings)
