"""The web page in a real browser: headless Debian Chromium, its fake camera, Playwright.

Chromium's ``--use-file-for-fake-video-capture`` plays a Y4M clip through its real capture
pipeline (getUserMedia, the video element, the canvas, JPEG encoding), so the page's whole
path runs as it does with a webcam. Skipped where Chromium or Playwright is missing.
"""

from __future__ import annotations

import base64
import json
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("aiohttp")
sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")

from web_client import CHROMIUM, CITY, launch_chromium, server_thread, write_y4m  # noqa: E402

from stream_nst.engine import Stylizer  # noqa: E402
from stream_nst.settings import ServeSettings  # noqa: E402

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (apt install chromium)")


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_y4m(tmp_path_factory.mktemp("camera") / "camera.y4m", CITY)


def _open_page(browser, server, camera: bool = True):
    page = browser.new_page()
    page.goto(server.url + ("&" if "?" in server.url else "?") + ("camera=on" if camera else ""))
    page.wait_for_function("() => window.streamNst && window.streamNst.ready", timeout=20_000)
    return page


def _wait_shown(page, more_than: int, timeout: float = 30_000) -> None:
    page.wait_for_function(
        "(n) => window.streamNst.stats.shown > n", arg=more_than, timeout=timeout
    )


def _last_pair(page) -> tuple[np.ndarray, np.ndarray, int]:
    """The newest (sent, received) JPEG pair the page kept, decoded."""
    data = page.evaluate(
        """async () => {
            const pair = window.streamNst.lastPair;
            const b64 = async (blob) => {
                const bytes = new Uint8Array(await blob.arrayBuffer());
                let text = ""; for (const b of bytes) text += String.fromCharCode(b);
                return btoa(text);
            };
            return {id: pair.id, sent: await b64(pair.sent), received: await b64(pair.received)};
        }"""
    )

    def decode(text: str) -> np.ndarray:
        return cv2.imdecode(np.frombuffer(base64.b64decode(text), np.uint8), cv2.IMREAD_COLOR)

    return decode(data["sent"]), decode(data["received"]), data["id"]


def _settle(page, **change) -> None:
    """Apply a change and wait until frames painted after it are shown."""
    page.wait_for_function(
        "(c) => Object.entries(c).every(([k, v]) => window.streamNst.state[k] === v)",
        arg=change,
        timeout=10_000,
    )
    shown = page.evaluate("window.streamNst.stats.shown")
    _wait_shown(page, shown + 4)


def _painted(page, sent: np.ndarray) -> np.ndarray:
    """What the server should send for ``sent``: the page's style, JPEG-encoded."""
    painted = Stylizer(page.input_value("#style")).stylize(sent)
    quality = [cv2.IMWRITE_JPEG_QUALITY, ServeSettings().jpeg_quality]
    return cv2.imdecode(cv2.imencode(".jpg", painted, quality)[1], cv2.IMREAD_COLOR)


def _difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def test_the_fake_camera_comes_back_stylized_and_the_controls_work(
    tmp_path: Path, clip: Path
) -> None:
    with server_thread(tmp_path) as server, sync_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright, clip)
        page = _open_page(browser, server)
        styles = page.eval_on_selector_all("#style option", "os => os.map(o => o.value)")
        assert styles == ["candy", "mosaic"]
        artist = Stylizer(page.input_value("#style")).style.artist
        assert artist and artist in page.inner_text("#credit")  # the artwork's credit
        _wait_shown(page, 5)

        page.uncheck("#smooth")  # frame for frame, so one frame can be checked exactly
        _settle(page, smooth=False)
        sent, received, _ = _last_pair(page)
        assert sent.shape == received.shape == (360, 640, 3)  # the camera's size, kept
        assert _difference(received, _painted(page, sent)) < 0.5  # Stylizer's, as JPEG
        assert _difference(received, sent) > 15  # and not the camera's picture

        page.select_option("#style", "mosaic" if page.input_value("#style") == "candy" else "candy")
        _settle(page, style=page.input_value("#style"))
        sent, received, _ = _last_pair(page)
        assert _difference(received, _painted(page, sent)) < 0.5

        page.eval_on_selector(
            "#strength", "e => { e.value = 0; e.dispatchEvent(new Event('input')); }"
        )
        _settle(page, strength=0)
        sent, received, _ = _last_pair(page)
        assert _difference(received, sent) < 4  # strength 0: the camera's own picture

        page.select_option("#max-fps", "5")  # the page's frame-rate cap
        page.wait_for_timeout(500)
        before = page.evaluate("window.streamNst.stats.shown")
        page.wait_for_timeout(3000)
        assert page.evaluate("window.streamNst.stats.shown") - before <= 3 * 5 + 2
        page.select_option("#max-fps", "0")

        page.click("#snapshot")
        page.click("#record")
        page.wait_for_function("() => window.streamNst.state.recording !== null", timeout=10_000)
        _wait_shown(page, page.evaluate("window.streamNst.stats.shown") + 10)
        page.click("#record")
        page.wait_for_function(
            "() => document.querySelectorAll('#files a').length === 2", timeout=20_000
        )
        links = page.eval_on_selector_all("#files a", "as => as.map(a => a.href)")
        fps = page.evaluate("window.streamNst.stats.fps")
        errors = page.evaluate("window.streamNst.stats.errors")
        browser.close()
    kinds = sorted(Path(link.split("?")[0]).suffix for link in links)
    assert kinds == [".mp4", ".png"]
    saved = sorted(p.suffix for p in (tmp_path / "recordings").iterdir())
    assert saved == [".mp4", ".png"]
    assert fps > 1 and errors == []


def test_two_tabs_at_once_and_a_closed_tab_frees_its_session(tmp_path: Path, clip: Path) -> None:
    def sessions(server) -> int:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/api/status") as r:
            return json.load(r)["sessions"]

    with server_thread(tmp_path) as server, sync_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright, clip)
        first, second = _open_page(browser, server), _open_page(browser, server)
        first.select_option("#style", "candy")
        second.select_option("#style", "mosaic")
        for page, style in ((first, "candy"), (second, "mosaic")):  # their own settings
            # The page's state is the server's reply, sent once the tab's worker has switched
            # (frames it painted before may be shown first).
            page.wait_for_function(
                "(s) => window.streamNst.state.style === s", arg=style, timeout=20_000
            )
            _wait_shown(page, page.evaluate("window.streamNst.stats.shown") + 5)
        assert sessions(server) == 2
        assert first.evaluate("window.streamNst.state.style") == "candy"
        assert second.evaluate("window.streamNst.state.style") == "mosaic"
        first.close()
        second.wait_for_timeout(100)
        for _ in range(50):
            if sessions(server) == 1:
                break
            second.wait_for_timeout(100)
        assert sessions(server) == 1
        shown = second.evaluate("window.streamNst.stats.shown")
        _wait_shown(second, shown + 5)  # the other tab goes on
        browser.close()


def test_the_servers_input_in_the_bare_view_for_obs(tmp_path: Path, clip: Path) -> None:
    with server_thread(tmp_path, input=str(CITY)) as server, sync_api.sync_playwright() as pw:
        browser = launch_chromium(pw, clip)
        page = browser.new_page()
        page.goto(server.url + "?view=bare&source=server")
        _wait_shown(page, 5)
        assert page.evaluate("window.streamNst.state.mode") == "server"
        assert not page.is_visible("#controls")  # the picture alone
        browser.close()
