"""Stylize the frames of one video or stream in order: source -> stylize -> smooth -> sink.

Each frame is painted by the network at its painting size (:meth:`Stylizer.paint`), the
painting is steadied against the previous ones by the smoother at that size, and only then
brought to the frame's size with the frame's own edges (:meth:`Stylizer.finish`). Smoothing
the painting rather than the full-size result costs a quarter as much at 720p (the network
paints 640x360) and keeps the frame's fine detail current: it is never carried over from
an earlier frame.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

import numpy as np

from .engine import Painting, Stylizer
from .pipeline import run_pipeline
from .smooth import SmoothSettings, make_smoother
from .sources import Frame


class SequenceStylizer:
    """A :class:`Stylizer` and a smoother for one sequence of frames, shown in order.

    ``sequence(image)`` stylizes the next frame; :meth:`paint` and :meth:`finish` are its two
    halves, for pipelines that run them in different threads (:func:`stylize_frames`).
    """

    def __init__(self, stylizer: Stylizer, smooth: SmoothSettings | None = None) -> None:
        self.stylizer = stylizer
        self.smooth = smooth or SmoothSettings()
        self._smoother = make_smoother(self.smooth)

    def __call__(self, image: np.ndarray) -> np.ndarray:
        """The next frame (BGR uint8 HxWx3), stylized and smoothed, at its size."""
        return self.finish(self.paint(image))

    def paint(self, image: np.ndarray) -> Painting:
        """The network's part of the next frame (any thread; in frame order)."""
        return self.stylizer.paint(image)

    def finish(self, painting: Painting) -> np.ndarray:
        """Smooth ``painting`` against the earlier frames and bring it to its frame's size.

        The result must not be modified in place (the smoother may keep it)."""
        steady = self._smoother(painting.source, painting.painted)
        return self.stylizer.finish(dataclasses.replace(painting, painted=steady))

    def reset(self) -> None:
        """Forget the earlier frames (a new shot or another style follows)."""
        self._smoother.reset()

    def set_smoothing(self, smooth: SmoothSettings) -> None:
        """Smooth the frames from the next one on with ``smooth`` (and forget the earlier)."""
        self.smooth = smooth
        self._smoother = make_smoother(smooth)


def stylize_frames(
    frames: Iterable[Frame],
    sequence: SequenceStylizer,
    write: Callable[[Frame], None],
    on_frame: Callable[[int], None] | None = None,
) -> int:
    """Stylize and smooth every frame into ``write`` through the threaded pipeline
    (:func:`~stream_nst.pipeline.run_pipeline`: the network in this thread, smoothing and
    finishing in another, encoding in a third); returns how many frames were written."""

    def paint(frame: Frame) -> tuple[Frame, Painting]:
        return frame, sequence.paint(frame.image)

    def finish(item: tuple[Frame, Painting]) -> Frame:
        frame, painting = item
        return dataclasses.replace(frame, image=sequence.finish(painting))

    return run_pipeline(frames, paint, finish, write, on_frame)
