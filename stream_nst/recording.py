"""Recordings and snapshots of live output: the live window's and the web server's.

A :class:`Recorder` encodes stylized frames in a thread of its own (so encoding never slows
the live picture), with timestamps from zero; :func:`save_snapshot` writes one frame as an
image. Files are named by :class:`SaveFolder`, which never reuses a name.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

from .errors import OutputError
from .pipeline import FrameWriter
from .settings import EncodeSettings
from .sinks import ImageFileSink, VideoFileSink
from .sources import Frame


class Recorder:
    """A recording in progress: timestamps from zero at its first frame."""

    def __init__(self, path: Path, rate: Fraction | None, encode: EncodeSettings) -> None:
        self.path = path
        self._sink = VideoFileSink(path, settings=encode, rate=rate)
        self._writer = FrameWriter(self._sink.write)
        self._offset: int | None = None
        self._last = -1
        self.frames = 0

    def add(self, frame: Frame) -> None:
        """Queue a frame; raises :class:`OutputError` if encoding failed."""
        # From zero, and always increasing (a replayed clip may start over).
        if self._offset is None:
            self._offset = frame.pts
        self._last = max(self._last + 1, frame.pts - self._offset)
        self._writer.put(dataclasses.replace(frame, pts=self._last))
        self.frames += 1

    def stop(self) -> None:
        """Write what is queued and publish the file."""
        try:
            self._writer.close()
        except BaseException:
            self._sink.abort()
            raise
        self._sink.finish()

    def abort(self) -> None:
        """Drop the recording (after a failure)."""
        with contextlib.suppress(OutputError):
            self._writer.close()
        self._sink.abort()


def save_snapshot(path: Path, image: np.ndarray) -> Path:
    """Write ``image`` (BGR uint8) as an image file; raises :class:`OutputError`."""
    with ImageFileSink(path) as sink:
        sink.write(Frame(image, 0, Fraction(1), 0))
        sink.finish()
    return path


@dataclasses.dataclass
class SaveFolder:
    """Names for snapshots and recordings in one folder: ``stream-nst-DATE-TIME-NNN.EXT``."""

    folder: Path
    _count: int = 0

    def new_path(self, suffix: str) -> Path:
        """A new file name with ``suffix`` (``png``, ``mp4``) that does not exist yet (the
        folder is made if need be)."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot make the folder {self.folder}: {exc.strerror}") from exc
        stamp = time.strftime("%Y%m%d-%H%M%S")
        while True:
            self._count += 1
            path = self.folder / f"stream-nst-{stamp}-{self._count:03d}.{suffix}"
            if not path.exists():
                return path
