"""Live output to a virtual camera (stream_nst.virtualcam), through pyvirtualcam itself.

The frame path runs through a backend registered with ``pyvirtualcam.register_backend``;
the error path is the real one of this machine (Linux without a v4l2loopback device).
"""

from __future__ import annotations

import glob
import json
import sys
import time
from fractions import Fraction
from typing import ClassVar

import numpy as np
import pytest
from rt_media import MjpegServer, gradient_frame

from stream_nst.engine import Stylizer
from stream_nst.errors import MissingDependencyError, OutputError
from stream_nst.live import run_live
from stream_nst.settings import LiveSettings
from stream_nst.smooth import SmoothSettings
from stream_nst.sources import ClosingSource, Frame, SourceInfo
from stream_nst.virtualcam import VirtualCamera, VirtualCameraSettings, install_hint

pyvirtualcam = pytest.importorskip("pyvirtualcam", reason="needs stream-nst[virtualcam]")
from pyvirtualcam.util import encode_fourcc  # noqa: E402


class RecordingBackend:
    """A pyvirtualcam backend that keeps what it is given."""

    opened: ClassVar[list[dict]] = []
    frames: ClassVar[list[tuple[float, np.ndarray]]] = []

    def __init__(self, *, width, height, fps, fourcc, device, **kw) -> None:
        RecordingBackend.opened.append(
            {"width": width, "height": height, "fps": fps, "fourcc": fourcc, "device": device}
        )
        self._device = device or "/dev/video-test"
        self.closed = False

    def send(self, frame: np.ndarray) -> None:
        RecordingBackend.frames.append((time.monotonic(), frame.copy()))

    def close(self) -> None:
        self.closed = True

    def device(self) -> str:
        return self._device

    def native_fourcc(self):
        return None


@pytest.fixture
def recording_backend():
    RecordingBackend.opened, RecordingBackend.frames = [], []
    pyvirtualcam.register_backend("stream-nst-test", RecordingBackend)
    yield RecordingBackend
    pyvirtualcam.camera.BACKENDS.pop("stream-nst-test", None)


class PacedSource(ClosingSource):
    """Distinct frames at a camera's pace (``rate`` per second)."""

    def __init__(self, count: int, rate: int = 50, size=(48, 64)) -> None:
        self.images = [gradient_frame(i, size[1], size[0]) for i in range(count)]
        self.info = SourceInfo("paced", "camera", Fraction(1, rate), rate=Fraction(rate))
        self.damage = None
        self._pause = 1 / rate

    def __iter__(self):
        for index, image in enumerate(self.images):
            yield Frame(image, index, self.info.time_base, index)
            time.sleep(self._pause)

    def close(self) -> None:
        return None


def test_frames_reach_the_camera_at_its_size_in_order_unmirrored(tiny_model, recording_backend):
    source = PacedSource(30)
    stylizer = Stylizer(tiny_model)
    events: list[str] = []
    summary = run_live(
        source,
        stylizer,
        settings=LiveSettings(
            headless=True, virtual_camera=VirtualCameraSettings(backend="stream-nst-test")
        ),
        smooth=SmoothSettings(enabled=False),
        on_event=events.append,
    )
    (opened,) = recording_backend.opened
    assert (opened["width"], opened["height"], opened["fps"]) == (64, 48, 50.0)
    assert opened["fourcc"] == encode_fourcc(pyvirtualcam.PixelFormat.BGR.value)
    assert summary.virtual_camera == "/dev/video-test"
    assert any("virtual camera /dev/video-test" in e and "64x48 at 50 fps" in e for e in events)
    sent = recording_backend.frames
    # One frame out per frame shown, none twice, none held back.
    assert len(sent) == summary.frames and summary.frames + summary.dropped == 30
    expected = [stylizer.stylize(image) for image in source.images]
    matched = []
    for _, flat in sent:
        image = flat.reshape(48, 64, 3)  # BGR as the network gave it: no overlay, no flip
        matched.append(next(i for i, e in enumerate(expected) if np.array_equal(image, e)))
    assert matched == sorted(set(matched)) and matched[-1] == 29
    # Sent as the frames arrive: never ahead of the source's pace (50 fps).
    times = [t for t, _ in sent]
    assert times[-1] - times[0] >= 0.8 * (matched[-1] - matched[0]) / 50


def test_the_camera_gets_the_smoothed_output(tiny_model, recording_backend):
    summary = run_live(
        PacedSource(8),
        Stylizer(tiny_model),
        settings=LiveSettings(
            headless=True, virtual_camera=VirtualCameraSettings(backend="stream-nst-test")
        ),
    )
    assert len(recording_backend.frames) == summary.frames >= 1


def test_no_virtual_camera_here_is_one_line_naming_what_to_install():
    if sys.platform != "linux" or glob.glob("/dev/video*"):
        pytest.skip("a machine without video devices shows the real error path")
    with pytest.raises(OutputError) as caught:
        VirtualCamera(64, 48, 25.0, VirtualCameraSettings())
    message = str(caught.value)
    assert "\n" not in message
    assert "v4l2loopback" in message and "exclusive_caps=1" in message


def test_cli_virtual_camera_without_a_device_exits_2(tiny_model, run_cli):
    if sys.platform != "linux" or glob.glob("/dev/video*"):
        pytest.skip("a machine without video devices shows the real error path")
    server = MjpegServer([200])
    try:
        result = run_cli(
            "--style", tiny_model, server.url, "--virtual-camera", "--no-window", "--quiet"
        )
    finally:
        server.close()
    assert result.code == 2
    (line,) = result.err.strip().splitlines()
    assert "no virtual camera" in line and "modprobe v4l2loopback" in line


def test_unknown_backend_and_wrong_frames_are_output_errors(recording_backend):
    with pytest.raises(OutputError, match="no virtual camera backend 'nope'"):
        VirtualCamera(64, 48, 25.0, VirtualCameraSettings(backend="nope"))
    with VirtualCamera(64, 48, 25.0, VirtualCameraSettings(backend="stream-nst-test")) as cam:
        with pytest.raises(OutputError, match="64x48"):
            cam.send(np.zeros((48, 32, 3), np.uint8))
        cam.send(np.zeros((48, 64, 3), np.uint8))
        assert cam.frames == 1


def test_without_pyvirtualcam_it_says_which_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyvirtualcam", None)
    with pytest.raises(MissingDependencyError, match=r"stream-nst\[virtualcam\]"):
        VirtualCamera(64, 48, 25.0, VirtualCameraSettings())


@pytest.mark.parametrize(
    ("platform", "words"),
    [("linux", "v4l2loopback"), ("darwin", "OBS Studio 30"), ("win32", "OBS Studio")],
)
def test_each_platform_is_told_what_to_install(platform, words):
    assert words in install_hint(platform)


def test_cli_checks_where_a_virtual_camera_makes_sense(run_cli, tmp_path):
    result = run_cli("--style", "mosaic", str(tmp_path / "in.mp4"), "--virtual-camera")
    assert result.code == 2 and "live input" in result.err
    result = run_cli("--style", "mosaic", "0", "--no-window")
    assert result.code == 2 and "--virtual-camera" in result.err


def test_cli_window_keys_work_while_the_camera_is_fed(
    models_dir, run_cli, recording_backend, monkeypatch
):
    class FakeWindow:
        def __init__(self, title: str) -> None:
            self.keys = iter([None, "n", None, "q"])

        def show(self, image):
            return next(self.keys)

        def close(self) -> None:
            return None

    monkeypatch.setattr("stream_nst.live.Window", FakeWindow)
    monkeypatch.setattr("stream_nst.cli.open_source", lambda spec: PacedSource(100))
    # No v4l2loopback here: pyvirtualcam falls through to the next registered backend.
    result = run_cli("--style", "tiny", "--virtual-camera", "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["frames"] == 4 and report["virtual_camera"] == "/dev/video-test"
    assert len(recording_backend.frames) == 4
    assert any(line.startswith("style ") for line in result.err.splitlines())  # "n" worked


def test_a_missing_extra_fails_before_the_window_opens(tiny_model, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyvirtualcam", None)
    opened = []
    monkeypatch.setattr("stream_nst.live.Window", lambda title: opened.append(title))
    with pytest.raises(MissingDependencyError):
        run_live(
            PacedSource(3),
            Stylizer(tiny_model),
            settings=LiveSettings(virtual_camera=VirtualCameraSettings()),
        )
    assert opened == []
