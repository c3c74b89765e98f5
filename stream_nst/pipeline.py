"""Overlap decoding, stylizing, smoothing and encoding: source -> stylize -> smooth -> sink.

Four stages joined by small bounded queues: a reader thread pulls frames from the source,
the calling thread stylizes them (so Ctrl-C lands there), a smoother thread stabilises
them and a writer thread encodes them. Decoding, onnxruntime, OpenCV's optical flow and
remapping, and encoding all release the GIL, so the stages run at the same time; the
bounded queues keep memory flat and let the slowest stage set the pace. Each queue holds at
most QUEUE_SIZE items and, beyond its first item, QUEUE_BYTES of pictures: four 1080p
frames, one 4K frame.
"""

from __future__ import annotations

import contextlib
import math
import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from .sources import Frame

QUEUE_SIZE = 4
QUEUE_BYTES = 24 * 2**20
_POLL = 0.1  # seconds between checks that the other side is still there
_END = object()
T = TypeVar("T")


@dataclass(frozen=True)
class _Failure:
    error: BaseException


class _FrameQueue(queue.Queue):
    """A queue bounded by its count of items and by the bytes of the pictures in them: an
    item counts as many places as its share of QUEUE_BYTES (a queue always takes one)."""

    def _init(self, maxsize: int) -> None:
        super()._init(maxsize)
        self._bytes = 0

    def _qsize(self) -> int:
        return max(len(self.queue), math.ceil(self._bytes * self.maxsize / QUEUE_BYTES))

    def _put(self, item: object) -> None:
        super()._put(item)
        self._bytes += _picture_bytes(item)

    def _get(self) -> object:
        item = super()._get()
        self._bytes -= _picture_bytes(item)
        return item


def _picture_bytes(item: object) -> int:
    """Bytes of the images in a queue item: a Frame, an array, or a tuple of them."""
    if isinstance(item, Frame):
        return item.image.nbytes
    if isinstance(item, np.ndarray):
        return item.nbytes
    if isinstance(item, tuple):
        return sum(map(_picture_bytes, item))
    return 0


class FrameWriter:
    """A thread that hands queued frames (or any items) to ``write`` in order.

    Used by the file pipeline and by the live window's recorder. ``close`` writes what is
    queued, stops the thread and raises the writer's error, if it had one.
    """

    def __init__(
        self,
        write: Callable[[Any], None],
        queue_size: int = QUEUE_SIZE,
        name: str = "stream-nst-writer",
    ) -> None:
        self._write = write
        self._queue: queue.Queue = _FrameQueue(maxsize=queue_size)
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def put(self, frame: Any) -> None:
        """Queue a frame; waits while the queue is full; raises the writer's error."""
        while True:
            if self.error is not None:
                raise self.error
            try:
                self._queue.put(frame, timeout=_POLL)
                return
            except queue.Full:
                continue

    def close(self) -> None:
        while self._thread.is_alive():
            try:
                self._queue.put(_END, timeout=_POLL)
                break
            except queue.Full:
                continue
        self._thread.join()
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        while (frame := self._queue.get()) is not _END:
            try:
                self._write(frame)
            except BaseException as exc:  # handed to the main thread by put/close
                self.error = exc
                return


class FrameReader:
    """A thread that pulls frames from a source into a bounded queue.

    With ``keep_latest`` a full queue gives up its oldest frame for the new one (counted in
    ``dropped``): the live window uses a one-frame queue so it always shows the newest.
    """

    def __init__(
        self, frames: Iterable[Frame], queue_size: int = QUEUE_SIZE, keep_latest: bool = False
    ) -> None:
        self._frames, self._keep_latest = frames, keep_latest
        self._queue: queue.Queue = _FrameQueue(maxsize=queue_size)
        self._stop = threading.Event()
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name="stream-nst-reader", daemon=True)
        self._thread.start()

    def __iter__(self):
        while (item := self._queue.get()) is not _END:
            if isinstance(item, _Failure):
                raise item.error
            yield item

    def stop(self) -> None:
        """Ask the thread to stop after the frame it is reading, and wait for it."""
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            for frame in self._frames:
                if self._keep_latest:
                    self._replace_oldest(frame)
                elif not self._offer(frame):
                    return
                if self._stop.is_set():
                    return
        except BaseException as exc:  # re-raised in the main thread by __iter__
            self._offer(_Failure(exc))
            return
        self._offer(_END)

    def _offer(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def _replace_oldest(self, frame: Frame) -> None:
        while True:
            try:
                self._queue.put_nowait(frame)
                return
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self._queue.get_nowait()
                    self.dropped += 1


def run_pipeline(
    frames: Iterable[Frame],
    stylize: Callable[[Frame], T],
    smooth: Callable[[T], Frame],
    write: Callable[[Frame], None],
    on_frame: Callable[[int], None] | None = None,
) -> int:
    """Read, stylize (in this thread), smooth and write every frame; return how many.

    ``smooth`` takes what ``stylize`` returned and runs in a thread of its own, in frame
    order. If ``stylize`` or ``on_frame`` raises, even KeyboardInterrupt, the frames already
    stylized are still smoothed and written before the exception propagates, so the caller
    can close a playable partial output.
    """
    writer = FrameWriter(write)
    smoother = FrameWriter(lambda item: writer.put(smooth(item)), name="stream-nst-smoother")
    reader, done = FrameReader(frames), 0
    try:
        for frame in reader:
            smoother.put(stylize(frame))
            done += 1
            if on_frame is not None:
                on_frame(done)
    finally:
        reader.stop()
        try:
            smoother.close()
        finally:
            writer.close()
    return done
