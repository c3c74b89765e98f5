"""The four-stage pipeline: order, threads, and what happens on Ctrl-C."""

from __future__ import annotations

import threading
from fractions import Fraction

import numpy as np
import pytest

from stream_nst.pipeline import run_pipeline
from stream_nst.sources import Frame


def _frames(n: int) -> list[Frame]:
    return [Frame(np.full((4, 4, 3), i, np.uint8), i, Fraction(1, 25), i) for i in range(n)]


def test_every_frame_is_stylized_smoothed_and_written_in_order() -> None:
    threads: dict[str, set[str]] = {"stylize": set(), "smooth": set(), "write": set()}
    written: list[int] = []

    def stylize(frame: Frame) -> tuple[Frame, int]:
        threads["stylize"].add(threading.current_thread().name)
        return frame, frame.index * 10

    def smooth(item: tuple[Frame, int]) -> Frame:
        threads["smooth"].add(threading.current_thread().name)
        frame, value = item
        return Frame(np.full((4, 4, 3), value, np.uint8), frame.pts, frame.time_base, frame.index)

    def write(frame: Frame) -> None:
        threads["write"].add(threading.current_thread().name)
        written.append(int(frame.image[0, 0, 0]))

    assert run_pipeline(_frames(20), stylize, smooth, write) == 20
    assert written == [i * 10 for i in range(20)]
    assert threads["stylize"] == {threading.current_thread().name}
    assert len(threads["smooth"]) == 1 and threads["smooth"] != threads["stylize"]
    assert threads["write"].isdisjoint(threads["smooth"] | threads["stylize"])


def test_frames_stylized_before_ctrl_c_are_smoothed_and_written() -> None:
    written: list[int] = []

    def stylize(frame: Frame) -> Frame:
        if frame.index == 7:
            raise KeyboardInterrupt
        return frame

    with pytest.raises(KeyboardInterrupt):
        run_pipeline(_frames(20), stylize, lambda f: f, lambda f: written.append(f.index))
    assert written == list(range(7))


def test_a_smoothing_error_reaches_the_caller() -> None:
    def smooth(frame: Frame) -> Frame:
        raise ValueError("flow failed")

    with pytest.raises(ValueError, match="flow failed"):
        run_pipeline(_frames(50), lambda f: f, smooth, lambda f: None)
