"""Where stylized frames go: a video file (PyAV) or an image file.

Both write to a hidden temporary file beside the destination and rename it into place
when finished, so an existing file is never half-overwritten and a failed run leaves
nothing behind. ``finish(complete=False)`` (after Ctrl-C) still closes the video
properly: the frames done so far make a playable file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import av
import cv2
import numpy as np

from .audio import AudioTracks
from .errors import OutputError, UsageError
from .settings import EncodeSettings
from .sources import Frame

# Encoder names to try for a --codec value, best first.
_ENCODERS = {
    "h264": ("libx264", "libopenh264", "h264"),
    "hevc": ("libx265", "hevc"),
    "h265": ("libx265", "hevc"),
    "vp9": ("libvpx-vp9", "vp9"),
    "av1": ("libsvtav1", "libaom-av1", "av1"),
}
# Encoder options that take --crf (and --preset).
_RATE_OPTIONS = {
    "libx264": lambda s: {"crf": str(s.crf), "preset": s.preset},
    "libx265": lambda s: {"crf": str(s.crf), "preset": s.preset, "x265-params": "log-level=error"},
    "libvpx-vp9": lambda s: {"crf": str(s.crf), "b": "0"},
    "libaom-av1": lambda s: {"crf": str(s.crf), "b": "0"},
    "libsvtav1": lambda s: {"crf": str(s.crf)},
}


class Sink(Protocol):
    """Takes stylized frames in order; ``finish`` publishes the output, ``abort`` drops it."""

    path: Path
    frames: int
    size: tuple[int, int]
    """(width, height) of the frames written; (0, 0) before the first."""
    audio: str
    """What happened to the source's audio: ``copied``, ``re-encoded to aac``, ``none``."""

    def write(self, frame: Frame) -> None: ...

    def finish(self, *, complete: bool = True) -> None: ...

    def abort(self) -> None: ...


def check_output(path: Path, overwrite: bool) -> None:
    """Raise :class:`OutputError` if ``path`` cannot or may not be written."""
    folder = path.parent
    if not folder.is_dir():
        raise OutputError(f"output folder {folder} does not exist")
    if path.is_dir():
        raise OutputError(f"output {path} is a folder")
    if path.exists() and not overwrite:
        raise OutputError(f"{path} already exists (use -y to overwrite it)")


def reserve_temp(path: Path) -> Path:
    """Create an empty hidden file beside ``path`` to write into; proves the folder writable."""
    temp = path.with_name(f".{path.stem}.{secrets.token_hex(4)}.partial{path.suffix}")
    try:
        with open(temp, "xb"):
            pass
    except OSError as exc:
        raise OutputError(f"cannot write to folder {path.parent}: {exc.strerror}") from exc
    return temp


class ImageFileSink:
    """Writes the one frame of an image source as an image file (format from the suffix)."""

    def __init__(self, path: Path, *, overwrite: bool = False) -> None:
        check_output(path, overwrite)
        if not cv2.haveImageWriter(str(path)):
            raise OutputError(f"cannot write {path.suffix or 'suffix-less'} images: {path}")
        self.path = path
        self.frames = 0
        self.size = (0, 0)
        self.audio = "none"
        self._temp = reserve_temp(path)

    def write(self, frame: Frame) -> None:
        ok, encoded = cv2.imencode(self.path.suffix, frame.image)
        if not ok:
            raise OutputError(f"cannot encode {self.path}")
        try:
            self._temp.write_bytes(encoded.tobytes())
        except OSError as exc:
            raise OutputError(f"cannot write {self.path}: {exc.strerror}") from exc
        self.frames += 1
        self.size = (frame.image.shape[1], frame.image.shape[0])

    def finish(self, *, complete: bool = True) -> None:
        if not self.frames:
            self.abort()
            return
        os.replace(self._temp, self.path)

    def abort(self) -> None:
        self._temp.unlink(missing_ok=True)


class VideoFileSink:
    """Encodes frames (and copies the source's audio) into a video file.

    The container format (from the suffix) and the codec are checked at once; the encoder
    is opened at the first frame, with that frame's size and time base. Each frame keeps
    its timestamp, so variable frame rates survive.
    """

    def __init__(
        self,
        path: Path,
        *,
        settings: EncodeSettings | None = None,
        rate: Fraction | None = None,
        audio_from: Path | None = None,
        overwrite: bool = False,
    ) -> None:
        check_output(path, overwrite)
        self.path = path
        self.frames = 0
        self.size = (0, 0)
        self.audio = "none"
        self._settings = settings = settings or EncodeSettings()
        self._rate, self._audio_from = rate, audio_from
        self._encoder = encoder_name(settings.codec)
        self._container: av.container.OutputContainer | None = None
        self._stream: av.video.stream.VideoStream | None = None
        self._audio: AudioTracks | None = None
        self._end = 0.0
        self._temp = reserve_temp(path)
        try:
            self._container = av.open(str(self._temp), "w")  # writes nothing before a frame
        except ValueError as exc:
            self.abort()
            raise OutputError(f"unknown video format {path.suffix!r}: {path}") from exc
        codec = av.codec.Codec(self._encoder, "w").canonical_name
        if codec not in self._container.supported_codecs:
            self.abort()
            raise OutputError(
                f"{path.suffix or 'suffix-less'} files cannot hold {codec} video: {path} "
                "(use .mp4 or .mkv, or another --codec)"
            )

    def write(self, frame: Frame) -> None:
        try:
            if self._stream is None:
                self._open(frame)
            image = frame.image
            if image.shape[:2] != (self._stream.height, self._stream.width):
                image = cv2.resize(image, (self._stream.width, self._stream.height))
            elif not image.flags.c_contiguous:
                image = np.ascontiguousarray(image)
            picture = av.VideoFrame.from_ndarray(image, format="bgr24")
            picture.pts, picture.time_base = frame.pts, frame.time_base
            start = float(frame.pts * frame.time_base)
            if self._audio is not None:
                self._audio.mux_until(start)
            self._container.mux(self._stream.encode(picture))
        except (av.FFmpegError, OSError) as exc:
            raise OutputError(f"cannot write {self.path}: {exc}") from exc
        self.frames += 1
        self._end = start + (1 / self._rate if self._rate else 0.0)

    def finish(self, *, complete: bool = True) -> None:
        """Flush and publish; with ``complete=False`` the audio stops with the last frame."""
        if self._stream is None:
            self.abort()
            return
        try:
            self._container.mux(self._stream.encode(None))
            if self._audio is not None:
                self._audio.mux_until(None if complete else self._end)
                self._audio.close()
            self._container.close()
            os.replace(self._temp, self.path)
        except (av.FFmpegError, OSError) as exc:
            self.abort()
            raise OutputError(f"cannot write {self.path}: {exc}") from exc

    def abort(self) -> None:
        """Drop the output: close what is open and remove the temporary file."""
        for closable in (self._audio, self._container):
            if closable is not None:
                with contextlib.suppress(av.FFmpegError, OSError):
                    closable.close()
        self._audio = self._container = self._stream = None
        self._temp.unlink(missing_ok=True)

    def _open(self, first: Frame) -> None:
        height, width = first.image.shape[:2]
        container = self._container
        self.size = (width, height)
        stream = container.add_stream(self._encoder, rate=self._rate)
        stream.width, stream.height = width, height
        stream.pix_fmt = _pixel_format(self._encoder, width, height)
        stream.time_base = first.time_base
        stream.codec_context.time_base = first.time_base
        stream.codec_context.thread_count = self._settings.threads
        rate_options = _RATE_OPTIONS.get(self._encoder)
        stream.codec_context.options = rate_options(self._settings) if rate_options else {}
        self._stream = stream
        if self._audio_from is not None:
            self._audio = AudioTracks(self._audio_from, container)
            self.audio = self._audio.mode
        try:
            container.start_encoding()
        except (av.FFmpegError, ValueError) as exc:
            raise OutputError(
                f"{self.path.suffix} files cannot hold this video or audio "
                f"(codec {self._settings.codec}): {exc}"
            ) from exc


def encoder_name(codec: str) -> str:
    """The FFmpeg encoder for a ``--codec`` value; raises UsageError if there is none."""
    for name in _ENCODERS.get(codec.lower(), (codec,)):
        try:
            av.codec.Codec(name, "w")
        except (av.codec.codec.UnknownCodecError, ValueError):
            continue
        return name
    raise UsageError(f"no encoder for codec {codec!r} in this FFmpeg (PyAV) build")


def _pixel_format(encoder: str, width: int, height: int) -> str:
    """yuv420p where possible (plays everywhere); yuv444p for odd sizes, kept exact."""
    formats = [f.name for f in av.codec.Codec(encoder, "w").video_formats or ()]
    wanted = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"
    if not formats or wanted in formats:
        return wanted
    if wanted == "yuv444p":
        raise UsageError(f"codec {encoder} cannot encode an odd size ({width}x{height}); use h264")
    return formats[0]
