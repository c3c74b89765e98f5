"""The live loop, driven without a window by a replayed clip or a local stream."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import cv2
import pytest
from rt_media import MjpegServer, gradient_frame, probe

from stream_nst.engine import Stylizer
from stream_nst.errors import UsageError
from stream_nst.live import KEYS, LiveSession, Window, run_live
from stream_nst.pipeline import FrameReader
from stream_nst.settings import CaptureSettings, LiveSettings
from stream_nst.sources import ClosingSource, Frame, SourceInfo, open_source
from stream_nst.styles import installed_styles


class ReplayCamera(ClosingSource):
    """A clip played over and over like a camera: endless, at a steady pace, ms timestamps."""

    def __init__(self, clip: Path, pause: float = 0.002) -> None:
        source = open_source(clip)
        self._images = [frame.image for frame in source]
        source.close()
        self._pause = pause
        self.info = SourceInfo("replay", "camera", Fraction(1, 1000), rate=Fraction(25))
        self.damage = None

    def __iter__(self) -> Iterator[Frame]:
        index = 0
        while True:
            image = self._images[index % len(self._images)]
            yield Frame(image, 40 * index, self.info.time_base, index)
            index += 1
            time.sleep(self._pause)

    def close(self) -> None:
        return None


def test_keys_switch_style_strength_smoothing_snapshot_record_quit(tmp_path, models_dir, make_clip):
    keys = ["n", None, "+", "-", "-", "m", "s", "r", None, None, None, "r", "q", "never seen"]
    events: list[str] = []
    stylizer = Stylizer("tiny")
    summary = run_live(
        ReplayCamera(make_clip()),
        stylizer,
        installed_styles(),
        settings=LiveSettings(headless=True, save_dir=tmp_path),
        keys=keys,
        on_event=events.append,
    )
    assert summary.frames == 13  # "q" on the 13th frame
    assert stylizer.style.name == "tiny8"
    assert stylizer.settings.strength == pytest.approx(0.8)
    assert "smoothing off" in events and "style tiny8" in events
    (snapshot,) = summary.snapshots
    assert cv2.imread(str(snapshot)).shape == (48, 64, 3)
    (recording,) = summary.recordings
    out = probe(recording)
    assert out.frames == 5 and out.seconds[0] == 0.0
    assert any(event.startswith("recorded") for event in events)


class ListSource:
    """Frames from a list, as fast as they are asked for."""

    def __init__(self, count: int) -> None:
        self.frames = [
            Frame(gradient_frame(i, 32, 32), i, Fraction(1, 25), i) for i in range(count)
        ]
        self.info = SourceInfo("list", "camera", Fraction(1, 25))
        self.damage = None

    def __iter__(self) -> Iterator[Frame]:
        return iter(self.frames)

    def close(self) -> None:
        return None


def test_the_window_loop_drops_frames_to_stay_current(tiny_model, monkeypatch):
    shown: list[int] = []
    real_paint = LiveSession.paint

    def slow_paint(self, frame):
        shown.append(frame.index)
        time.sleep(0.02)
        return real_paint(self, frame)

    monkeypatch.setattr(LiveSession, "paint", slow_paint)
    summary = run_live(ListSource(200), Stylizer(tiny_model), settings=LiveSettings(headless=True))
    assert summary.frames + summary.dropped == 200
    assert shown == sorted(shown) and shown[-1] == 199
    assert len(shown) < 200


def test_live_from_a_local_stream_until_it_drops(tmp_path, tiny_model):
    server = MjpegServer([20])
    try:
        source = open_source(
            server.url, CaptureSettings(reconnect_attempts=1, reconnect_delay=0.01)
        )
        summary = run_live(
            source,
            Stylizer(tiny_model),
            settings=LiveSettings(headless=True, save_dir=tmp_path),
            keys=["s"],
        )
        source.close()
    finally:
        server.close()
    assert 1 <= summary.frames <= 20
    assert "stopped after" in summary.damage
    assert len(summary.snapshots) == 1


def test_the_newest_frame_reader_reports_source_errors():
    def broken():
        yield Frame(gradient_frame(0, 16, 16), 0, Fraction(1), 0)
        raise OSError("unplugged")

    latest = FrameReader(broken(), queue_size=1, keep_latest=True)
    with pytest.raises(OSError, match="unplugged"):
        list(latest)
    latest.stop()


def test_cli_live_mode_with_the_window_replaced(
    tmp_path, models_dir, make_clip, run_cli, monkeypatch
):
    class FakeWindow:
        def __init__(self, title: str) -> None:
            self.keys = iter(["s", None, "q"])

        def show(self, image):
            return next(self.keys)

        def close(self) -> None:
            return None

    camera = ReplayCamera(make_clip())
    monkeypatch.setattr("stream_nst.live.Window", FakeWindow)
    monkeypatch.setattr("stream_nst.cli.open_source", lambda spec: camera)
    monkeypatch.chdir(tmp_path)  # snapshots go to the working directory by default
    result = run_cli("--style", "tiny", "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["frames"] == 3 and len(report["snapshots"]) == 1
    assert "saved" in result.err


def test_no_display_is_a_usage_error(monkeypatch):
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(UsageError, match="no display"):
        Window("test")


def test_every_key_is_documented():
    assert set(KEYS) == {"n", "p", "+", "-", "m", "s", "r", "q"}


def test_every_painted_frame_is_finished_and_shown_in_order(tiny_model, monkeypatch):
    painted: list[int] = []
    finished: list[int] = []
    real_paint, real_finish = LiveSession.paint, LiveSession.finish

    def paint(self, frame):
        painted.append(frame.index)
        return real_paint(self, frame)

    def finish(self, frame, painting):
        assert painting.frame is frame.image  # each frame with its own painting
        finished.append(frame.index)
        return real_finish(self, frame, painting)

    monkeypatch.setattr(LiveSession, "paint", paint)
    monkeypatch.setattr(LiveSession, "finish", finish)
    summary = run_live(ListSource(40), Stylizer(tiny_model), settings=LiveSettings(headless=True))
    assert finished == painted and painted[-1] == 39  # the last frame too
    assert summary.frames == len(painted)
