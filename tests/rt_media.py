"""Helpers of the runtime tests: synthetic clips, probing outputs, CLI checks, a stream."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

SHARED_VIDEOS = Path(__file__).resolve().parents[1].parent / "shared" / "videos"
"""Real clips, beside the repository; tests that need them skip where it is absent."""


@dataclass
class CliResult:
    code: int
    out: str
    err: str


def gradient_frame(index: int, width: int, height: int) -> np.ndarray:
    """A BGR test picture that changes from frame to frame."""
    y, x = np.mgrid[0:height, 0:width]
    channels = [(x * 4 + index * 10) % 256, (y * 5 + index * 7) % 256, ((x + y) * 3) % 256]
    return np.ascontiguousarray(np.stack(channels, axis=-1).astype(np.uint8))


def write_clip(
    path: Path,
    *,
    frames: int = 12,
    size: tuple[int, int] = (64, 48),
    pts_ms: Sequence[int] | None = None,
    audio: str | None = None,
    rotation: int = 0,
    gop: int = 6,
) -> Path:
    """Write a small H.264 clip: ``pts_ms`` gives (variable) timestamps in milliseconds,
    ``audio`` an audio codec (``aac``, ``libmp3lame``) for a 440 Hz tone as long as the video,
    ``rotation`` a display-matrix rotation (counter-clockwise degrees)."""
    width, height = size
    stamps = list(pts_ms) if pts_ms is not None else [40 * i for i in range(frames)]
    time_base = Fraction(1, 1000)
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=25)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.codec_context.time_base = time_base
        video.codec_context.options = {"g": str(gop), "preset": "ultrafast"}
        if rotation:
            video.set_display_rotation(rotation)
        sound = container.add_stream(audio, rate=44100, layout="mono") if audio else None
        for index, pts in enumerate(stamps):
            picture = av.VideoFrame.from_ndarray(
                gradient_frame(index, width, height), format="bgr24"
            )
            picture.pts, picture.time_base = pts, time_base
            container.mux(video.encode(picture))
        container.mux(video.encode(None))
        if sound is not None:
            seconds = (stamps[-1] + 40) / 1000
            t = np.arange(int(44100 * seconds)) / 44100
            tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[np.newaxis]
            samples = av.AudioFrame.from_ndarray(tone, format="flt", layout="mono")
            samples.sample_rate, samples.pts = 44100, 0
            container.mux(sound.encode(samples))
            container.mux(sound.encode(None))
    return path


@dataclass
class Probe:
    """What a video file holds, decoded."""

    frames: int
    width: int
    height: int
    seconds: list[float]
    """Presentation time of each video frame."""
    rotation: int
    audio: list[str]
    """Codec of each audio stream."""
    audio_packets: int
    first_frame: np.ndarray


def probe(path: Path) -> Probe:
    with av.open(str(path)) as container:
        audio = [stream.codec_context.codec.canonical_name for stream in container.streams.audio]
        audio_packets = sum(
            1 for packet in container.demux(*container.streams.audio) if packet.size
        )
    with av.open(str(path)) as container:
        decoded = list(container.decode(video=0))
    first = decoded[0]
    return Probe(
        frames=len(decoded),
        width=first.width,
        height=first.height,
        seconds=[float(frame.pts * frame.time_base) for frame in decoded],
        rotation=first.rotation,
        audio=audio,
        audio_packets=audio_packets,
        first_frame=first.to_ndarray(format="bgr24"),
    )


def assert_one_line_error(result: CliResult, *fragments: str) -> None:
    """Exit 2, a single ``stream-nst: error:`` line on stderr, no traceback."""
    assert result.code == 2, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("stream-nst: error: "), result.err
    for fragment in fragments:
        assert fragment in lines[0], result.err


def shared_video(name: str) -> Path:
    """A real clip from ../shared/videos, or skip the test where it is absent."""
    path = SHARED_VIDEOS / name
    if not path.is_file():
        pytest.skip(f"{path} is not available")
    return path


class MjpegServer:
    """Serves ``frames[i]`` JPEG frames to the i-th client, then hangs up; later clients get 404."""

    def __init__(self, frames: list[int]) -> None:
        self.frames = frames
        self.connections = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                count = server.frames[server.connections] if server.connections < len(frames) else 0
                server.connections += 1
                if not count:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                for index in range(count):
                    jpeg = cv2.imencode(".jpg", gradient_frame(index, 64, 48))[1].tobytes()
                    head = f"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}"
                    self.wfile.write(head.encode() + b"\r\n\r\n" + jpeg + b"\r\n")
                    self.wfile.flush()
                    time.sleep(0.005)

            def log_message(self, *args) -> None:
                return None

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/stream.mjpg"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
