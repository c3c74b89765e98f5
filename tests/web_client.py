"""Helpers of the web app's tests: a server on a free port and the page's frame messages."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import struct
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import cv2
import numpy as np

from stream_nst.settings import ServeSettings
from stream_nst.sources import open_source
from stream_nst.styles import installed_styles
from stream_nst.web.server import WebServer

REPO = Path(__file__).resolve().parents[1]
CITY = REPO / "samples" / "city.mp4"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
"""Debian's Chromium (``apt install chromium``), if installed."""


def write_y4m(path: Path, source: Path, frames: int = 60, size: tuple[int, int] = (640, 360)):
    """The first ``frames`` frames of ``source`` at ``size`` as a Y4M clip: Chromium's fake
    camera plays (and loops) it through its real capture pipeline."""
    width, height = size
    with path.open("wb") as out, open_source(str(source)) as clip:
        out.write(f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode())
        for index, frame in enumerate(clip):
            if index == frames:
                break
            image = cv2.resize(frame.image, size, interpolation=cv2.INTER_AREA)
            out.write(b"FRAME\n" + cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420).tobytes())
    return path


def launch_chromium(playwright, camera_clip: Path):
    """Headless Chromium whose camera plays ``camera_clip`` (a Y4M file), permission granted."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={camera_clip}",
        ],
    )


def shipped_styles(*names: str):
    """The shipped style models of these names (all if none)."""
    styles = [s for s in installed_styles() if not s.error]
    return [s for s in styles if not names or s.name in names]


def picture(width: int = 320, height: int = 240, seed: int = 0) -> np.ndarray:
    """A photo-like test picture: smooth shapes, edges and some noise (BGR uint8)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.stack([x / width * 200, y / height * 200, (x + y) / (width + height) * 255], -1)
    cv2.circle(image, (width // 3, height // 2), height // 4, (30, 200, 90), -1)
    cv2.rectangle(image, (width // 2, height // 4), (width - 20, height - 30), (220, 60, 40), -1)
    image += rng.normal(0, 6, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def jpeg(image: np.ndarray, quality: int = 90) -> bytes:
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()


def frame_message(frame_id: int, client_ms: float, data: bytes) -> bytes:
    """A page's frame message (the protocol is written out here, not imported)."""
    return b"F" + struct.pack("<Id", frame_id, client_ms) + data


def parse_reply(message: bytes) -> tuple[int, float, float, np.ndarray]:
    """(id, client_ms, server_ms, picture) of a server's frame message."""
    assert message[:1] == b"F"
    frame_id, client_ms, server_ms = struct.unpack_from("<Idf", message, 1)
    image = cv2.imdecode(np.frombuffer(message[17:], np.uint8), cv2.IMREAD_COLOR)
    return frame_id, client_ms, server_ms, image


@contextlib.asynccontextmanager
async def serving(tmp_path: Path, styles=None, **settings) -> AsyncIterator[WebServer]:
    server = WebServer(
        ServeSettings(port=0, recordings=tmp_path / "recordings", **settings),
        styles=styles if styles is not None else shipped_styles("mosaic", "candy"),
    )
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def next_json(ws, kind: str, timeout: float = 10.0) -> dict:
    """The next JSON message of type ``kind`` (frames and other messages skipped)."""

    async def wait() -> dict:
        while True:
            message = await ws.receive()
            if message.type.name == "TEXT":
                data = json.loads(message.data)
                if data["type"] == kind:
                    return data
            elif message.type.name in ("CLOSE", "CLOSED", "CLOSING", "ERROR"):
                raise AssertionError(f"connection closed waiting for {kind}: {message}")

    return await asyncio.wait_for(wait(), timeout)


async def next_frame(ws, timeout: float = 20.0) -> tuple[int, float, float, np.ndarray]:
    """The next stylized frame (JSON messages skipped)."""

    async def wait() -> tuple[int, float, float, np.ndarray]:
        while True:
            message = await ws.receive()
            if message.type.name == "BINARY":
                return parse_reply(message.data)
            if message.type.name in ("CLOSE", "CLOSED", "CLOSING", "ERROR"):
                raise AssertionError(f"connection closed waiting for a frame: {message}")

    return await asyncio.wait_for(wait(), timeout)


@contextlib.contextmanager
def server_thread(tmp_path: Path, **settings) -> Iterator[WebServer]:
    """A server running in a thread of its own (for the browser tests' sync API)."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict = {}

    async def main() -> None:
        async with serving(tmp_path, **settings) as server:
            holder["server"] = server
            holder["stop"] = asyncio.Event()
            started.set()
            await holder["stop"].wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert started.wait(30), "the server did not start"
    try:
        yield holder["server"]
    finally:
        loop.call_soon_threadsafe(holder["stop"].set)
        thread.join(30)
