"""Network streams, from an MJPEG server on 127.0.0.1 that drops its clients on purpose."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from rt_media import MjpegServer, assert_one_line_error, probe

from stream_nst import stylize_video
from stream_nst.settings import CaptureSettings

QUICK_RECONNECT = CaptureSettings(reconnect_attempts=2, reconnect_delay=0.01)


@pytest.fixture
def mjpeg_server() -> Iterator[Callable[[list[int]], MjpegServer]]:
    servers: list[MjpegServer] = []

    def start(frames: list[int]) -> MjpegServer:
        servers.append(MjpegServer(frames))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def test_a_stream_that_reconnects_is_recorded_whole(tmp_path, tiny_model, mjpeg_server):
    server = mjpeg_server([12, 12])
    summary = stylize_video(
        server.url, tmp_path / "o.mp4", style=tiny_model, capture=QUICK_RECONNECT
    )
    assert server.connections == 2 + QUICK_RECONNECT.reconnect_attempts
    out = probe(tmp_path / "o.mp4")
    assert summary.frames == out.frames and 20 <= out.frames <= 24
    assert summary.kind == "stream" and "stopped after" in summary.damage
    assert out.seconds == sorted(out.seconds)


def test_cli_stream_that_drops_finishes_cleanly(tmp_path, tiny_model, mjpeg_server, run_cli):
    server = mjpeg_server([15])
    result = run_cli("--style", tiny_model, server.url, "-o", tmp_path / "o.mp4")
    assert_one_line_error(result, "stream stopped after", "o.mp4 holds the")
    assert 12 <= probe(tmp_path / "o.mp4").frames <= 15


def test_cli_stream_that_cannot_be_opened(tmp_path, tiny_model, mjpeg_server, run_cli):
    server = mjpeg_server([])
    result = run_cli("--style", tiny_model, server.url, "-o", tmp_path / "o.mp4")
    assert_one_line_error(result, "cannot open stream")
    assert not (tmp_path / "o.mp4").exists()
