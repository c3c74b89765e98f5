"""The input on the server (camera, stream or video file) that pages can watch stylized.

One reader thread keeps the newest frame; every page's session takes the newest frame it
has not seen yet, so a slow page skips frames instead of falling behind and never slows
the others. A video file plays at its own frame rate (by its timestamps) and starts over at
its end, as a camera would keep going; an image is shown as a still.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..sources import Frame, Source, open_source

_STILL_INTERVAL = 0.1  # seconds between repeats of an image input


@dataclass(frozen=True)
class InputFrame:
    """The newest frame of the input and its place in the sequence."""

    number: int
    frame: Frame
    time_ms: float
    """When it was read, on the server's clock (``time.monotonic``, ms)."""


class ServerInput:
    """A camera, stream, image or video file read in the background."""

    def __init__(self, spec: str, opener: Callable[[str], Source] = open_source) -> None:
        self.spec = spec
        self._opener = opener
        self.name = ""
        self.damage: str | None = None
        """Why the input stopped, if it did."""
        self._latest: InputFrame | None = None
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._source = opener(spec)  # a bad input fails here, before the server starts
        self.name = self._source.info.name
        self._thread = threading.Thread(target=self._run, name="stream-nst-input", daemon=True)
        self._thread.start()

    def newest_after(self, number: int, timeout: float) -> InputFrame | None:
        """The newest frame numbered above ``number``, waiting up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._latest is None or self._latest.number <= number:
                left = deadline - time.monotonic()
                if left <= 0 or self._stop.is_set():
                    return None
                self._changed.wait(left)
            return self._latest

    def close(self) -> None:
        self._stop.set()
        with self._changed:
            self._changed.notify_all()
        self._thread.join(timeout=5)
        self._source.close()

    def _run(self) -> None:
        number = 0
        try:
            while not self._stop.is_set():
                for frame in self._paced(self._source):
                    number += 1
                    latest = InputFrame(number, frame, time.monotonic() * 1000)
                    with self._changed:
                        self._latest = latest
                        self._changed.notify_all()
                    if self._stop.is_set():
                        return
                if self._source.info.kind not in ("video", "image"):
                    self.damage = self._source.damage or "the input ended"
                    return
                self._source.close()
                self._source = self._opener(self.spec)  # a file: play it again
        except Exception as exc:  # reported to the pages as the input's state
            self.damage = str(exc)

    def _paced(self, source: Source) -> Iterator[Frame]:
        """Frames at their own times: a file by its timestamps, an image repeated."""
        kind = source.info.kind
        if kind not in ("video", "image"):
            yield from source  # a camera or stream comes at its own pace
            return
        start, first_pts = time.monotonic(), None
        for frame in source:
            if kind == "image":
                while not self._stop.wait(_STILL_INTERVAL):
                    yield frame
                return
            first_pts = frame.pts if first_pts is None else first_pts
            due = start + float((frame.pts - first_pts) * frame.time_base)
            if self._stop.wait(max(0.0, due - time.monotonic())):
                return
            yield frame
