"""Where frames come from: video files (PyAV), images, cameras and network streams (OpenCV).

Every source yields :class:`Frame` objects: a BGR uint8 HxWx3 C-contiguous image with its
presentation timestamp. Decoding faults are not raised mid-run: the source skips what it
cannot decode, ends where the input ends, and says why in ``damage``, so the run can finish
a playable output from what it got.
"""

from __future__ import annotations

import heapq
import itertools
import re
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Protocol, TypeVar

import av
import cv2
import numpy as np

from .errors import InputError
from .settings import CaptureSettings

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".bmp", ".dib", ".tif", ".tiff", ".webp", ".jp2"}
    | {".pbm", ".pgm", ".ppm", ".pnm"}
)
VIDEO_SUFFIXES = frozenset(
    {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".mts", ".m2ts"}
    | {".flv", ".wmv", ".ogv", ".3gp", ".gif"}
)
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_FILE_URL_SCHEMES = frozenset({"http", "https", "ftp"})
_URL_TIMEOUT = 5.0  # seconds to open, and between packets, before a URL counts as dead
_REORDER_WINDOW = 8
_MILLISECONDS = Fraction(1, 1000)


@dataclass(frozen=True)
class Frame:
    """One picture of a stream and when to show it (``pts * time_base`` seconds)."""

    image: np.ndarray
    """BGR uint8, height x width x 3, C-contiguous."""
    pts: int
    time_base: Fraction
    index: int


@dataclass(frozen=True)
class SourceInfo:
    """What is known about a source before its first frame."""

    name: str
    kind: str
    """``video``, ``image``, ``camera`` or ``stream``."""
    time_base: Fraction
    rate: Fraction | None = None
    """Average frame rate, if known."""
    total_frames: int | None = None
    """Expected number of frames (an estimate for some containers), if known."""
    audio_from: Path | str | None = None
    """The file (or file URL) whose audio streams belong with these frames."""


class Source(Protocol):
    """An iterable of frames with what is known about them; ``with source:`` closes it."""

    info: SourceInfo
    damage: str | None
    """After iteration: why frames were lost or the input ended early; None if all well."""

    def __iter__(self) -> Iterator[Frame]: ...

    def close(self) -> None: ...

    def __enter__(self) -> Source: ...

    def __exit__(self, *error: object) -> None: ...


_S = TypeVar("_S", bound="ClosingSource")


class ClosingSource:
    """Makes a source with ``close`` a context manager (``with open_source(x) as s:``)."""

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(self, *error: object) -> None:
        self.close()  # type: ignore[attr-defined]


def is_stream_url(text: str) -> bool:
    return bool(_URL.match(text))


def input_kind(spec: str | int | Path) -> str:
    """What an input names, by its spelling alone (nothing is opened): ``camera`` (an
    index), ``stream`` (a URL), ``folder``, ``image`` (by suffix) or ``video`` (any other
    path; opening it tells whether it is one)."""
    if isinstance(spec, int) or (isinstance(spec, str) and spec.isdigit()):
        return "camera"
    if isinstance(spec, str) and is_stream_url(spec):
        return "stream"
    path = Path(spec)
    if path.is_dir():
        return "folder"
    return "image" if path.suffix.lower() in IMAGE_SUFFIXES else "video"


def open_source(spec: str | int | Path, capture: CaptureSettings | None = None) -> Source:
    """Open a camera index, a stream URL, an image file or a video file."""
    kind = input_kind(spec)
    if kind == "camera":
        return CaptureSource(int(spec), capture)
    if kind == "stream":
        return _open_url(str(spec), capture)
    path = Path(spec)
    if not path.exists():
        raise InputError(f"no such file: {path}")
    if kind == "folder":
        raise InputError(f"{path} is a folder, not a file")
    if not path.is_file():
        raise InputError(
            f"{path} is not a regular file (a pipe or a device); "
            "give a file, a camera index or a stream URL"
        )
    return ImageSource(path) if kind == "image" else VideoFileSource(path)


def _open_url(url: str, capture: CaptureSettings | None) -> Source:
    """A URL to a file is read like a file, with its own timestamps and audio: any
    ``file://`` URL, and an http(s) or ftp URL ending in a video suffix that turns out to
    have a duration. Anything else (rtsp, udp, a camera's MJPEG, a live transport stream)
    is a live stream, timed by arrival."""
    scheme, _, rest = url.partition("://")
    if scheme.lower() == "file":
        return VideoFileSource(url)
    suffix = Path(rest.split("?", 1)[0]).suffix.lower()
    if scheme.lower() in _FILE_URL_SCHEMES and suffix in VIDEO_SUFFIXES:
        try:
            source = VideoFileSource(url)
        except InputError:
            return CaptureSource(url, capture)
        if source.has_duration:
            return source
        source.close()
    return CaptureSource(url, capture)


def folder_inputs(folder: Path) -> list[Path]:
    """The images and videos directly inside ``folder``, by name (hidden files left out)."""
    return sorted(
        path
        for path in folder.iterdir()
        if path.is_file()
        and not path.name.startswith(".")
        and path.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES
    )


def read_image(path: Path) -> np.ndarray:
    """Read an image file as BGR uint8 (EXIF orientation applied)."""
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc
    if data.size == 0:
        raise InputError(f"{path} is empty (0 bytes)")
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None:
        raise InputError(f"cannot read {path}: not an image OpenCV can decode")
    return image


class ImageSource(ClosingSource):
    """One image file as a one-frame source."""

    def __init__(self, path: Path) -> None:
        self._image = read_image(path)
        self.info = SourceInfo(name=str(path), kind="image", time_base=Fraction(1), total_frames=1)
        self.damage: str | None = None

    def __iter__(self) -> Iterator[Frame]:
        yield Frame(self._image, 0, self.info.time_base, 0)

    def close(self) -> None:
        return None


class VideoFileSource(ClosingSource):
    """A video file (or a URL to one) decoded with PyAV, rotated upright, in presentation
    order."""

    def __init__(self, path: Path | str) -> None:
        if isinstance(path, Path):
            try:
                empty = path.stat().st_size == 0
            except OSError as exc:
                raise InputError(f"cannot read {path}: {exc.strerror}") from exc
            if empty:
                raise InputError(f"{path} is empty (0 bytes)")
        try:
            timeout = None if isinstance(path, Path) else _URL_TIMEOUT
            self._container = av.open(str(path), metadata_errors="ignore", timeout=timeout)
        except av.FFmpegError as exc:
            if isinstance(exc, OSError):  # not found, no permission, ...
                raise InputError(f"cannot read {path}: {exc.strerror}") from exc
            raise InputError(f"cannot read {path}: not a video file ({_reason(exc)})") from exc
        if not self._container.streams.video:
            self._container.close()
            raise InputError(f"{path} has no video stream")
        self._stream = stream = self._container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = stream.average_rate or stream.guessed_rate
        total = stream.frames or None
        if total is None and rate and self._container.duration:
            total = round(self._container.duration / 1_000_000 * rate)
        self.info = SourceInfo(
            name=str(path),
            kind="video",
            time_base=stream.time_base or Fraction(1, 90000),
            rate=Fraction(rate) if rate else None,
            total_frames=total,
            audio_from=path if self._container.streams.audio else None,
        )
        self.has_duration = bool(stream.duration or self._container.duration)
        """Whether the file states how long it is (a live stream does not)."""
        self.damage: str | None = None

    def __iter__(self) -> Iterator[Frame]:
        order = _PresentationOrder(self._frame_step())
        timed = itertools.chain.from_iterable(map(order.push, self._decode()))
        for index, (pts, frame) in enumerate(itertools.chain(timed, order.flush())):
            yield Frame(_upright_bgr(frame), pts, self.info.time_base, index)

    def window(self, first: int, end: int | None) -> Iterator[Frame]:
        """The frames with ``first <= pts < end`` (None: to the end), decoded from the last
        keyframe at or before ``first``, in presentation order. For files whose timestamps
        are presentation times (see :mod:`stream_nst.chunks`, which plans such windows);
        ``index`` counts from 0 at the window's first frame."""
        self._container.seek(first, stream=self._stream, backward=True, any_frame=False)
        index = 0
        for frame in self._decode():
            if frame.pts is None or frame.pts < first:
                continue
            if end is not None and frame.pts >= end:
                return  # decoded frames come in presentation order: the window is done
            yield Frame(_upright_bgr(frame), frame.pts, self.info.time_base, index)
            index += 1

    def close(self) -> None:
        self._container.close()

    def _decode(self) -> Iterator[av.VideoFrame]:
        """Decoded frames in decoder order; notes damage instead of raising."""
        stream, bad_packets, last_end = self._stream, 0, None
        try:
            for packet in self._container.demux(stream):
                if packet.pts is not None:
                    last_end = max(last_end or 0, packet.pts + (packet.duration or 0))
                try:
                    yield from packet.decode()
                except av.FFmpegError:
                    bad_packets += 1
        except av.FFmpegError as exc:
            self.damage = f"the file is damaged and ends early ({_reason(exc)})"
            return
        stated_end = self._stated_end()
        if bad_packets:
            self.damage = f"{bad_packets} damaged packet(s) could not be decoded and were skipped"
        elif last_end is not None and stated_end is not None and self._short(last_end, stated_end):
            seconds = [float(end * self.info.time_base) for end in (last_end, stated_end)]
            self.damage = (
                "the file is truncated: its video ends at {:.1f} s of the {:.1f} s it states"
            ).format(*seconds)

    def _stated_end(self) -> Fraction | None:
        """Where the file says its video ends (time_base units), from its duration and from
        its frame count: a cut AVI states its full frame count, while FFmpeg estimates the
        duration from what is left."""
        stream, time_base = self._stream, self.info.time_base
        start = stream.start_time or 0
        ends = []
        if stream.duration:
            ends.append(Fraction(start + stream.duration))
        elif self._container.duration:
            ends.append(Fraction(self._container.duration, 1_000_000) / time_base)
        if stream.frames and self.info.rate:
            ends.append(start + stream.frames / self.info.rate / time_base)
        return max(ends, default=None)

    def _short(self, last_end: int, stated_end: Fraction) -> bool:
        """Whether the video stops well before the end the file states."""
        tolerance = max(Fraction(1, 2), 3 / (self.info.rate or 25)) / self.info.time_base
        return last_end < stated_end - tolerance

    def _frame_step(self) -> int:
        """One frame interval in time_base units (for frames without a timestamp)."""
        if not self.info.rate:
            return 1
        return max(1, round(1 / (self.info.rate * self.info.time_base)))


class _PresentationOrder:
    """Hands out decoded frames with strictly increasing timestamps.

    Some files store decode-order timestamps (``box.mp4``: pts = dts with B-frames). The
    decoder still returns frames in display order, and the *set* of timestamps is right,
    only attached to the wrong frames; sorting the timestamps of a small window of frames
    repairs that. For a file whose timestamps already increase, this changes nothing.
    """

    def __init__(self, step: int) -> None:
        self._step = step
        self._timestamps: list[int] = []
        self._frames: deque[av.VideoFrame] = deque()
        self._last: int | None = None

    def push(self, frame: av.VideoFrame) -> Iterator[tuple[int, av.VideoFrame]]:
        if frame.pts is not None:
            heapq.heappush(self._timestamps, frame.pts)
        self._frames.append(frame)
        while len(self._frames) > _REORDER_WINDOW:
            yield self._pop()

    def flush(self) -> Iterator[tuple[int, av.VideoFrame]]:
        while self._frames:
            yield self._pop()

    def _pop(self) -> tuple[int, av.VideoFrame]:
        pts = heapq.heappop(self._timestamps) if self._timestamps else None
        if self._last is not None and (pts is None or pts <= self._last):
            pts = self._last + self._step
        self._last = pts = pts or 0
        return pts, self._frames.popleft()


def _upright_bgr(frame: av.VideoFrame) -> np.ndarray:
    """The frame as BGR uint8, rotated as its display matrix says (C-contiguous)."""
    image = frame.to_ndarray(format="bgr24")
    turn = round(frame.rotation / 90) % 4  # counter-clockwise quarter turns
    if turn:
        rotations = (cv2.ROTATE_90_COUNTERCLOCKWISE, cv2.ROTATE_180, cv2.ROTATE_90_CLOCKWISE)
        return cv2.rotate(image, rotations[turn - 1])
    return image if image.flags.c_contiguous else np.ascontiguousarray(image)


class CaptureSource(ClosingSource):
    """A camera (by index) or a network stream (by URL), read with OpenCV.

    Timestamps are arrival times in milliseconds. A stream that drops is reopened up to
    ``reconnect_attempts`` times in a row (with growing pauses) before the source ends.
    """

    def __init__(self, target: int | str, settings: CaptureSettings | None = None) -> None:
        self._target, self._settings = target, settings or CaptureSettings()
        self._is_camera = isinstance(target, int)
        self._capture = self._open()
        if self._capture is None:
            if self._is_camera:
                raise InputError(f"no camera at index {target}")
            raise InputError(f"cannot open stream {target}")
        rate = self._capture.get(cv2.CAP_PROP_FPS)
        self._length = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT))
        self.info = SourceInfo(
            name=f"camera {target}" if self._is_camera else str(target),
            kind="camera" if self._is_camera else "stream",
            time_base=_MILLISECONDS,
            rate=Fraction(rate).limit_denominator(1001) if 0 < rate < 1000 else None,
        )
        self.damage: str | None = None

    def __iter__(self) -> Iterator[Frame]:
        start, last_pts, index, reconnects = time.monotonic(), -1, 0, 0
        while True:
            ok, image = self._capture.read() if self._capture is not None else (False, None)
            if ok:
                pts = max(last_pts + 1, round((time.monotonic() - start) * 1000))
                yield Frame(np.ascontiguousarray(image), pts, _MILLISECONDS, index)
                last_pts, index, reconnects = pts, index + 1, 0
                continue
            if 0 < self._length <= index:
                return  # a stream of known length (a file served over http) ended
            if self._is_camera or reconnects >= self._settings.reconnect_attempts:
                what = "camera" if self._is_camera else "stream"
                self.damage = f"the {what} stopped after {index} frames"
                return
            self.close()
            time.sleep(self._settings.reconnect_delay * 2**reconnects)
            self._capture = self._open()
            reconnects += 1

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    def _open(self) -> cv2.VideoCapture | None:
        if self._is_camera:
            capture = cv2.VideoCapture(self._target)
            capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the newest picture, not a queue of old ones
        else:
            timeouts = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, 5000, cv2.CAP_PROP_READ_TIMEOUT_MSEC, 5000]
            capture = cv2.VideoCapture(self._target, cv2.CAP_FFMPEG, timeouts)
        if capture.isOpened():
            return capture
        capture.release()
        return None


def _reason(exc: av.FFmpegError) -> str:
    return getattr(exc, "strerror", None) or str(exc)
