"""A sink for live output: a virtual camera that video-call and streaming apps can pick.

Frames go through pyvirtualcam (the optional extra ``stream-nst[virtualcam]``, imported
only here, and only when a virtual camera is opened) to the platform's virtual camera:
v4l2loopback on Linux, the OBS Virtual Camera on Windows and macOS. Frames are sent as
they are (BGR, never mirrored: apps mirror their own preview); the live loop runs at the
camera's pace, so no extra pacing is added.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from types import ModuleType, TracebackType

import numpy as np

from .errors import MissingDependencyError, OutputError, first_line

INSTALL_HINTS = {
    "linux": (
        "load v4l2loopback (e.g. `sudo modprobe v4l2loopback devices=1 exclusive_caps=1 "
        'card_label="stream-nst"`; Chrome and Chromium need exclusive_caps=1)'
    ),
    "darwin": "install OBS Studio 30 or newer (macOS 13+) and start its virtual camera once",
    "win32": "install OBS Studio and start its virtual camera once",
}
"""What to install for a virtual camera, per ``sys.platform``."""


def install_hint(platform: str = sys.platform) -> str:
    """What a user of ``platform`` must install for a virtual camera to exist."""
    for prefix, hint in INSTALL_HINTS.items():
        if platform.startswith(prefix):
            return hint
    return "pyvirtualcam supports Linux (v4l2loopback), Windows and macOS (OBS) only"


@dataclass(frozen=True)
class VirtualCameraSettings:
    """Which virtual camera live output goes to (its size and rate are the input's)."""

    device: str | None = None
    """A device, e.g. ``/dev/video10``; None: the first one available."""
    backend: str | None = None
    """A pyvirtualcam backend (``v4l2loopback``, ``obs``, ``unitycapture``, or one
    registered with ``pyvirtualcam.register_backend``); None: the platform's."""
    fps: float = 30.0
    """The rate announced to apps when the input does not state one."""


def import_pyvirtualcam() -> ModuleType:
    """pyvirtualcam, or :class:`MissingDependencyError` saying which extra installs it."""
    try:
        import pyvirtualcam
    except ImportError as exc:
        raise MissingDependencyError(
            "the virtual camera needs pyvirtualcam: pip install 'stream-nst[virtualcam]'"
        ) from exc
    return pyvirtualcam


class VirtualCamera:
    """A virtual camera of a fixed size and frame rate; :meth:`send` one BGR frame at a time."""

    def __init__(
        self, width: int, height: int, fps: float, settings: VirtualCameraSettings
    ) -> None:
        device, backend = settings.device, settings.backend
        pyvirtualcam = import_pyvirtualcam()
        if backend is not None and backend not in pyvirtualcam.camera.BACKENDS:
            known = ", ".join(sorted(pyvirtualcam.camera.BACKENDS)) or "none"
            raise OutputError(f"no virtual camera backend {backend!r} (known here: {known})")
        try:
            self._camera = pyvirtualcam.Camera(
                width, height, fps, fmt=pyvirtualcam.PixelFormat.BGR, device=device, backend=backend
            )
        except (RuntimeError, ValueError) as exc:
            # pyvirtualcam joins every backend's failure into one message, one per line.
            reasons = "; ".join(line for line in str(exc).splitlines() if line.strip())
            raise OutputError(
                f"no virtual camera is available ({reasons or first_line(exc)}): {install_hint()}"
            ) from exc
        self.size = (width, height)
        self.frames = 0
        """Frames sent so far."""

    @property
    def device(self) -> str:
        """The device the frames go to, as the platform names it."""
        return self._camera.device

    @property
    def backend(self) -> str:
        return self._camera.backend

    def send(self, image: np.ndarray) -> None:
        """Send one BGR uint8 frame of the camera's size."""
        width, height = self.size
        if image.shape != (height, width, 3) or image.dtype != np.uint8:
            raise OutputError(
                f"the virtual camera is {width}x{height}; got a frame of shape {image.shape}"
            )
        self._camera.send(np.ascontiguousarray(image))
        self.frames += 1

    def close(self) -> None:
        self._camera.close()

    def __enter__(self) -> VirtualCamera:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
