"""Every tunable of the runtime, as typed frozen dataclasses with their defaults.

The defaults live here and only here: the command line reads them for its help texts and
maps its flags onto these classes; the Python API takes them as keyword arguments.
Values are checked when an object is made, so a bad value fails before any work starts.
(The smoothing settings live beside the smoother, in :mod:`stream_nst.smooth`.)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError
from .virtualcam import VirtualCameraSettings

DEFAULT_STYLE = "mosaic"
"""The style used when none is given."""

DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class StylizeSettings:
    """What is done to each frame around the network."""

    strength: float = 1.0
    """1 = the network's output, 0 = the original frame; in between, a blend."""
    preserve_color: bool = False
    """Keep the original colours and take only the brightness from the style."""
    max_size: int | None = None
    """Paint at most this many pixels on the longer side (then scale back); None = no cap."""
    paint_size: int | None = None
    """Short side (px) to paint at instead of the model's own ``paint_size`` (None: the
    model's). Larger = finer strokes and more detail, at a higher cost per frame."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.strength <= 1.0:
            raise UsageError(f"strength must be between 0 and 1, not {self.strength:g}")
        if self.max_size is not None and self.max_size < 16:
            raise UsageError(f"max size must be at least 16 pixels, not {self.max_size}")
        if self.paint_size is not None and self.paint_size < 16:
            raise UsageError(f"paint size must be at least 16 pixels, not {self.paint_size}")


@dataclass(frozen=True)
class EngineSettings:
    """Where and how the network runs."""

    device: str = "auto"
    """``auto`` (a CUDA GPU when there is one, else the CPU), ``cpu`` or ``cuda``."""
    threads: int | None = None
    """onnxruntime intra-op threads; None = the physical cores this process may use."""

    def __post_init__(self) -> None:
        if self.device not in DEVICES:
            raise UsageError(f"device must be one of {', '.join(DEVICES)}, not {self.device!r}")
        if self.threads is not None and self.threads < 1:
            raise UsageError(f"threads must be at least 1, not {self.threads}")


@dataclass(frozen=True)
class EncodeSettings:
    """How stylized video is encoded."""

    codec: str = "h264"
    """Video codec (``h264``, ``hevc``, ``vp9``, ``av1``, ``mpeg4`` or any FFmpeg encoder name)."""
    crf: int = 20
    """Constant rate factor for codecs that have one: lower = better and bigger."""
    preset: str = "superfast"
    """Encoder speed preset for x264/x265. ``superfast`` keeps a 720p run real-time on two
    cores (32.7 fps end to end against 25.3 with ``veryfast``, measured; files are larger
    at the same crf)."""
    threads: int = 2
    """Encoder threads: few, because the network needs the cores."""

    def __post_init__(self) -> None:
        if not 0 <= self.crf <= 63:
            raise UsageError(f"crf must be between 0 and 63, not {self.crf}")
        if self.threads < 0:
            raise UsageError(f"encoder threads must not be negative, not {self.threads}")


@dataclass(frozen=True)
class CaptureSettings:
    """How cameras and network streams are read."""

    reconnect_attempts: int = 3
    """How often a dropped stream is reopened before the run finishes with what it has."""
    reconnect_delay: float = 0.25
    """Seconds before the first reconnect; doubled for each further attempt."""


@dataclass(frozen=True)
class LiveSettings:
    """The live window, and where else live output goes."""

    headless: bool = False
    """No window: keys come from the caller (tests, scripts) instead of the keyboard."""
    virtual_camera: VirtualCameraSettings | None = None
    """Also send the output (smoothed, without the status line) to a virtual camera."""
    window_title: str = "stream-nst"
    save_dir: Path = Path(".")
    """Where snapshots (``s``) and recordings (``r``) are written."""
    strength_step: float = 0.1
    """How much ``+`` and ``-`` change the strength."""
    show_fps: bool = True


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class ServeSettings:
    """The local web app (``stream-nst serve``) and the limits it puts on pages."""

    host: str = "127.0.0.1"
    """Address to listen on. Only this machine by default; any other address makes the
    server require a random token in every URL."""
    port: int = 8765
    """TCP port (0: any free port)."""
    input: str | None = None
    """A camera index, stream URL, video or image on the server that pages can watch
    stylized (None: pages stylize their own browser camera only)."""
    recordings: Path = Path("stream-nst-recordings")
    """The one folder pages can write to and read from: recordings and snapshots."""
    allow_upload: bool = False
    """Let pages add style models (validated, size-limited, kept in a temporary folder)."""
    max_sessions: int = 4
    """Pages connected at once; more are refused."""
    max_frame_bytes: int = 4 * 2**20
    """Largest message a page may send (a JPEG frame)."""
    max_frame_pixels: int = 1920 * 1080
    """Largest picture a page may send."""
    max_fps: float = 60.0
    """Frames per second a page may send; more are dropped, and a page sending many times
    this many messages is disconnected."""
    max_upload_bytes: int = 32 * 2**20
    """Largest style model a page may upload."""
    jpeg_quality: int = 85
    """Quality of the stylized frames sent to pages (JPEG, 1-100)."""
    tls_cert: Path | None = None
    """A certificate (PEM) to serve HTTPS with, and ``tls_key`` its private key: browsers
    give a page on another machine a camera only over HTTPS."""
    tls_key: Path | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise UsageError(f"port must be between 0 and 65535, not {self.port}")
        if self.max_sessions < 1 or self.max_fps <= 0:
            raise UsageError("at least one session and a positive frame rate are needed")
        if not 1 <= self.jpeg_quality <= 100:
            raise UsageError(f"JPEG quality must be between 1 and 100, not {self.jpeg_quality}")
        if (self.tls_cert is None) != (self.tls_key is None):
            raise UsageError("HTTPS needs both a certificate and its key")

    @property
    def local_only(self) -> bool:
        """Whether only this machine can reach the server."""
        return self.host in LOOPBACK_HOSTS
