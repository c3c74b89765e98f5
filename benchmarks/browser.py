"""Latency and frame rate of the live paths: the web page in Chromium, and the live window.

- **Web page** (``stream-nst serve``, browser camera): headless Debian Chromium with its fake
  camera playing a 30 fps Y4M clip (its real capture pipeline), the page of
  ``stream_nst/web/static`` sending camera frames as JPEG over the WebSocket, the server
  stylizing and smoothing them and sending them back. Latency is the page's own: from the
  moment it grabs a camera frame to the moment the stylized frame is drawn
  (``performance.now()`` both), over every frame shown in the measuring window. The browser
  runs on the same 2 cores, as on a laptop.
- **Live window** (``run_live``, headless): the same clip's frames arriving at 30 fps from a
  camera-like source; latency from a frame's arrival to its stylized picture being shown.

Default settings (style ``mosaic``, smoothing on). Writes the section ``live`` of
BENCHMARKS.md and a screenshot of the page, ``samples/serve.png``.

    python benchmarks/browser.py --clip ../shared/videos/box.mp4 --seconds 15
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from web_client import (  # noqa: E402
    CHROMIUM,
    launch_chromium,
    server_thread,
    shipped_styles,
    write_y4m,
)

from benchmarks.report import machine, markdown_table, publish  # noqa: E402
from stream_nst.engine import Painting, Stylizer  # noqa: E402
from stream_nst.live import run_live  # noqa: E402
from stream_nst.settings import LiveSettings  # noqa: E402
from stream_nst.sources import Frame, SourceInfo, open_source  # noqa: E402

SIZES = ((640, 480), (1280, 720))
SCREENSHOT = ROOT / "samples" / "serve.png"


def measure_page(clip: Path, size: tuple[int, int], seconds: float, work: Path, shot: bool):
    from playwright.sync_api import sync_playwright

    camera = write_y4m(work / f"camera_{size[0]}.y4m", clip, frames=150, size=size)
    with server_thread(work, styles=shipped_styles()) as server, sync_playwright() as playwright:
        browser = launch_chromium(playwright, camera)
        page = browser.new_page(viewport={"width": 1180, "height": 560})
        page.goto(server.url + "?camera=on")
        page.wait_for_function("() => window.streamNst.stats.shown > 30", timeout=60_000)
        page.select_option("#style", "mosaic")
        page.wait_for_timeout(3000)  # warm: the style's session, the smoother
        start = page.evaluate(
            "() => { const s = window.streamNst.stats; s.latencies.length = 0;"
            " s.serverMs.length = 0; return [s.shown, s.sent, performance.now()]; }"
        )
        page.wait_for_timeout(seconds * 1000)
        end = page.evaluate(
            "() => { const s = window.streamNst.stats;"
            " return [s.shown, s.sent, performance.now(), s.latencies, s.serverMs]; }"
        )
        if shot:
            page.screenshot(path=str(SCREENSHOT))
        browser.close()
    shown, elapsed = end[0] - start[0], (end[2] - start[2]) / 1000
    return {"fps": shown / elapsed, "latency": np.array(end[3]), "server": np.array(end[4])}


class _CameraLike:
    """Frames of a clip arriving at 30 fps, as from a webcam; remembers when each came."""

    def __init__(self, frames: list[np.ndarray], seconds: float) -> None:
        self._frames, self._seconds = frames, seconds
        self.info = SourceInfo(name="paced clip", kind="camera", time_base=Fraction(1, 30))
        self.damage = None
        self.arrived: dict[int, float] = {}

    def __iter__(self):
        start = time.monotonic()
        index = 0
        while time.monotonic() - start < self._seconds:
            due = start + index / 30
            time.sleep(max(0.0, due - time.monotonic()))
            image = self._frames[index % len(self._frames)]
            self.arrived[id(image)] = time.monotonic()
            yield Frame(image, index, Fraction(1, 30), index)
            index += 1

    def close(self) -> None:
        return None


class _TimedStylizer(Stylizer):
    """A Stylizer that remembers which frame it finished last (the one shown next)."""

    finished: int = 0

    def finish(self, painting: Painting) -> np.ndarray:
        self.finished = id(painting.frame)
        return super().finish(painting)


def measure_window(clip: Path, size: tuple[int, int], seconds: float) -> dict:
    with open_source(str(clip)) as source:
        frames = [
            cv2.resize(f.image, size, interpolation=cv2.INTER_AREA)
            for f in itertools.islice(source, 150)
        ]
    camera = _CameraLike(frames, seconds + 3)
    stylizer = _TimedStylizer("mosaic")
    latencies: list[float] = []

    class Keys:  # the headless window asks for one key per frame shown: time it then
        def __iter__(self):
            return self

        def __next__(self):
            arrived = camera.arrived.get(stylizer.finished)
            if arrived is not None:
                latencies.append((time.monotonic() - arrived) * 1000)
            return None

    summary = run_live(camera, stylizer, settings=LiveSettings(headless=True), keys=Keys())
    warm = len(latencies) // 6  # the first seconds: sessions opening
    return {
        "fps": summary.frames / summary.seconds,
        "latency": np.array(latencies[warm:]),
        "server": None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--clip", type=Path, default=ROOT / "samples" / "city.mp4", help="what the camera plays"
    )
    parser.add_argument(
        "--seconds", type=float, default=15.0, help="measuring window per path and size"
    )
    args = parser.parse_args()
    if CHROMIUM is None:
        sys.exit("needs Chromium: apt install chromium")
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for size in SIZES:
            label = f"{size[0]}×{size[1]}"
            page = measure_page(args.clip, size, args.seconds, Path(work), size == SIZES[-1])
            window = measure_window(args.clip, size, args.seconds)
            for path, result in (("web page (Chromium)", page), ("live window", window)):
                latency, server = result["latency"], result["server"]
                rows.append(
                    [
                        path,
                        label,
                        f"**{result['fps']:.1f}**",
                        f"{np.median(latency):.0f}",
                        f"{np.percentile(latency, 95):.0f}",
                        f"{np.median(server):.1f}" if server is not None else "–",
                        len(latency),
                    ]
                )
    header = ["path", "camera", "fps shown", "latency median ms", "p95 ms", "server ms", "frames"]
    publish(
        "live",
        [
            "## Live latency: the web page and the live window",
            "",
            f"Machine: {machine()}. Command: `python benchmarks/browser.py --clip "
            f"{args.clip.name} --seconds {args.seconds:g}`. Style `mosaic`, smoothing on; a "
            f"30 fps camera playing `{args.clip.name}` at each size.",
            "",
            markdown_table(header, rows),
            "",
            "*Web page*: `stream-nst serve`, headless Chromium "
            f"({Path(CHROMIUM).name}) with its fake camera (its real capture pipeline), on the "
            "same 2 cores; latency from the page grabbing a camera frame to the stylized "
            "frame drawn on its canvas (JPEG both ways over a loopback WebSocket, two frames "
            "in flight); *server ms*: decode, stylize, smooth and encode on the server. "
            "*Live window*: `run_live` headless, a frame's arrival to its stylized picture "
            "shown. Screenshot of the page: [samples/serve.png](samples/serve.png).",
        ],
    )


if __name__ == "__main__":
    main()
