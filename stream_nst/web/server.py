"""``stream-nst serve``: a local web app that shows a live stylized stream and its controls.

The page (``static/``) talks to the server over one WebSocket per tab: it sends its own
camera's frames (or asks for the server's input) and gets stylized frames back
(:mod:`.protocol`), and sends its settings as JSON. Each tab has its own
:class:`~.session.StreamSession` and its own worker thread, so tabs never share state and
a closed tab frees its session at once.

Safe by default:

- it listens on 127.0.0.1; for any other address every URL must carry a random token;
- on 127.0.0.1 only ``localhost`` Host names are served (no DNS rebinding), and a
  WebSocket from a page of another origin is refused;
- pages send at most ``max_frame_bytes`` per message, ``max_frame_pixels`` per picture and
  ``max_fps`` frames a second (more are dropped; a flood closes the connection);
- the only files a page reaches are those in the recordings folder, by exact name;
- style uploads are off unless asked for, then size-limited, checked as a style model
  and kept in a temporary folder that is removed when the server stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import shutil
import ssl
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
from aiohttp import WSMsgType, web

from ..engine import StyleModel
from ..errors import InputError, ModelError, StreamNSTError, first_line
from ..recording import SaveFolder
from ..settings import LOOPBACK_HOSTS, EncodeSettings, EngineSettings, ServeSettings
from ..smooth import SmoothSettings
from ..styles import StyleInfo, installed_styles, load_style_info
from .protocol import decode_jpeg, encode_jpeg, frame_message, parse_frame
from .server_input import ServerInput
from .session import StreamSession

_FILE_NAME = re.compile(r"stream-nst-[0-9]{8}-[0-9]{6}-[0-9]{3,}\.(png|mp4)")
_STYLE_NAME = re.compile(r"[a-z0-9_]{1,40}")
_STATIC = {"app.js": "text/javascript", "app.css": "text/css"}
_CSP = (
    "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; "
    "connect-src 'self'; style-src 'self'; script-src 'self'; frame-ancestors 'none'"
)
_INPUT_WAIT = 0.5  # seconds a tab waits for the server's input before checking again


@dataclass
class RateLimit:
    """A token bucket: ``allow()`` is true at most ``rate`` times a second on average,
    ``burst`` times in a row."""

    rate: float
    burst: float
    _tokens: float = field(init=False)
    _last: float = field(init=False, default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self._tokens = self.burst

    def allow(self) -> bool:
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class WebServer:
    """The web app: ``await start()`` serves it, ``await stop()`` ends every session."""

    def __init__(
        self,
        settings: ServeSettings,
        *,
        styles: list[StyleInfo] | None = None,
        smooth: SmoothSettings | None = None,
        encode: EncodeSettings | None = None,
    ) -> None:
        self.settings = settings
        self.token = None if settings.local_only else secrets.token_urlsafe(18)
        found = installed_styles() if styles is None else styles
        self.styles: dict[str, StyleInfo] = {s.name: s for s in found if not s.error}
        self.uploaded: set[str] = set()
        if not self.styles:
            raise ModelError("no style models to serve")
        self.smooth, self.encode = smooth or SmoothSettings(), encode or EncodeSettings()
        self.files = SaveFolder(settings.recordings)
        self.tabs: set[_Tab] = set()
        self.input: ServerInput | None = None
        self._upload_dir: Path | None = None
        self._runner: web.AppRunner | None = None
        self.port = settings.port
        self.app = web.Application(
            middlewares=[self._guard], client_max_size=settings.max_upload_bytes
        )
        self.app.add_routes(
            [
                web.get("/", self._page),
                web.get("/static/{name}", self._static),
                web.get("/api/styles", self._list_styles),
                web.post("/api/styles", self._upload_style),
                web.get("/api/status", self._status),
                web.get("/files/{name}", self._file),
                web.get("/ws", self._websocket),
            ]
        )

    @property
    def url(self) -> str:
        """The page's address, token included."""
        host = self.settings.host
        host = f"[{host}]" if ":" in host else host
        query = f"?token={self.token}" if self.token else ""
        scheme = "https" if self.settings.tls_cert else "http"
        return f"{scheme}://{host}:{self.port}/{query}"

    async def start(self) -> str:
        """Open the server's input (if any) and listen; returns :attr:`url`."""
        if self.settings.input is not None:
            self.input = await asyncio.to_thread(ServerInput, self.settings.input)
        tls = _tls_context(self.settings)
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.host, self.settings.port, ssl_context=tls)
        try:
            await site.start()
        except OSError as exc:
            await self.stop()
            raise InputError(
                f"cannot listen on {self.settings.host}:{self.settings.port}: {exc.strerror}",
                setting="port",
            ) from exc
        self.port = self._runner.addresses[0][1]
        return self.url

    async def stop(self) -> None:
        """Close every tab (finishing their recordings), the input and the upload folder."""
        tabs = list(self.tabs)
        for tab in tabs:
            await tab.ws.close()
        # Each tab's handler then closes its session (and recording) in its worker thread:
        # wait for that before the runner cancels the handlers.
        if tabs:
            await asyncio.wait([asyncio.create_task(t.finished.wait()) for t in tabs], timeout=30)
        if self._runner is not None:
            await self._runner.cleanup()
        if self.input is not None:
            await asyncio.to_thread(self.input.close)
        if self._upload_dir is not None:
            shutil.rmtree(self._upload_dir, ignore_errors=True)

    # -- requests ------------------------------------------------------------------------
    @web.middleware
    async def _guard(self, request: web.Request, handler: Callable) -> web.StreamResponse:
        if self.settings.local_only and _hostname(request.host) not in LOOPBACK_HOSTS:
            raise web.HTTPForbidden(text="unexpected Host header\n")
        if self.token is not None and not secrets.compare_digest(
            request.query.get("token", ""), self.token
        ):
            raise web.HTTPForbidden(text="missing or wrong token\n")
        response = await handler(request)
        response.headers.setdefault("Content-Security-Policy", _CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    async def _page(self, request: web.Request) -> web.Response:
        return web.Response(text=_static_text("index.html"), content_type="text/html")

    async def _static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in _STATIC:
            raise web.HTTPNotFound()
        return web.Response(text=_static_text(name), content_type=_STATIC[name])

    async def _list_styles(self, request: web.Request) -> web.Response:
        styles = [
            {**style.as_dict(), "uploaded": name in self.uploaded}
            for name, style in self.styles.items()
        ]
        for style in styles:
            del style["path"]  # the page has no business with the server's paths
        return web.json_response(styles)

    async def _status(self, request: web.Request) -> web.Response:
        source = self.input
        return web.json_response(
            {
                "sessions": len(self.tabs),
                "max_sessions": self.settings.max_sessions,
                "input": {"name": source.name, "damage": source.damage} if source else None,
                "upload": self.settings.allow_upload,
            }
        )

    async def _file(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        path = self.settings.recordings / name
        if not _FILE_NAME.fullmatch(name) or not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers={"Cache-Control": "no-store"})

    async def _upload_style(self, request: web.Request) -> web.Response:
        if not self.settings.allow_upload:
            raise web.HTTPForbidden(text="style uploads are disabled on this server\n")
        name = request.query.get("name", "")
        if not _STYLE_NAME.fullmatch(name):
            raise web.HTTPBadRequest(text="a style name is 1-40 lowercase letters, digits, _\n")
        if name in self.styles:
            raise web.HTTPConflict(text=f"a style named {name!r} exists\n")
        data = await request.read()  # at most client_max_size, else 413
        try:
            style = await asyncio.to_thread(self._check_upload, name, data)
        except ModelError as exc:
            raise web.HTTPBadRequest(text=f"not a usable style model: {exc}\n") from exc
        self.styles[name] = style
        self.uploaded.add(name)
        return web.json_response({"name": name}, status=201)

    def _check_upload(self, name: str, data: bytes) -> StyleInfo:
        """Save an uploaded model to the temporary folder if it works as a style model."""
        import onnxruntime as ort

        try:  # from bytes: a model that points at files beside it (external data) fails
            ort.InferenceSession(data, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime's errors share no base but Exception
            raise ModelError(first_line(exc)) from exc
        if self._upload_dir is None:
            self._upload_dir = Path(tempfile.mkdtemp(prefix="stream-nst-uploads-"))
        path = self._upload_dir / f"{name}.onnx"
        path.write_bytes(data)
        try:
            style = load_style_info(path, name)
            model = StyleModel(style, EngineSettings(device="cpu", threads=1))
            model.run(np.zeros((64, 64, 3), np.uint8))
        except StreamNSTError:
            path.unlink(missing_ok=True)
            raise
        return style

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if origin is not None and urlsplit(origin).netloc != request.host:
            raise web.HTTPForbidden(text="WebSocket from another origin\n")
        if len(self.tabs) >= self.settings.max_sessions:
            raise web.HTTPServiceUnavailable(text="too many pages connected\n")
        # No permessage-deflate: the frames are JPEGs, which do not compress, and aiohttp's
        # deflating writer logged an unretrieved exception when a page closed mid-frame.
        ws = web.WebSocketResponse(
            max_msg_size=self.settings.max_frame_bytes, heartbeat=30, compress=False
        )
        await ws.prepare(request)
        tab = _Tab(self, ws)
        self.tabs.add(tab)
        try:
            await tab.run(request.query.get("style") or next(iter(self.styles)))
        finally:
            self.tabs.discard(tab)
            tab.finished.set()
        return ws


class _Tab:
    """One connected page: its session, its worker thread and its WebSocket."""

    def __init__(self, server: WebServer, ws: web.WebSocketResponse) -> None:
        self.server, self.ws = server, ws
        limits = server.settings
        self.session: StreamSession | None = None
        self.mode = "browser"
        self._pending = None
        self._wake = asyncio.Event()
        self._send_lock = asyncio.Lock()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stream-nst-tab")
        self._frames = RateLimit(limits.max_fps, max(1.0, limits.max_fps / 4))
        self._messages = RateLimit(4 * limits.max_fps, 2 * limits.max_fps)
        self.dropped = 0
        self.finished = asyncio.Event()  # set once its handler ended, its session closed

    async def run(self, style: str) -> None:
        server = self.server
        try:
            self.session = await self._call(
                StreamSession,
                server.styles,
                style,
                server.files,
                smooth=server.smooth,
                encode=server.encode,
            )
        except StreamNSTError as exc:
            await self._send_json({"type": "error", "message": str(exc)})
            await self.ws.close()
            self._worker.shutdown(wait=False)
            return
        await self._send_json({"type": "state", **self._state()})
        work = asyncio.create_task(self._work())
        try:
            async for message in self.ws:
                if not self._messages.allow():
                    await self.ws.close(code=1008, message=b"too many messages")
                    break
                if message.type == WSMsgType.BINARY:
                    await self._on_frame(message.data)
                elif message.type == WSMsgType.TEXT:
                    await self._on_control(message.data)
        finally:
            work.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await work
            # The worker finishes what it does, then the session (and its recording).
            await asyncio.get_running_loop().run_in_executor(self._worker, self.session.close)
            self._worker.shutdown(wait=False)

    def _state(self) -> dict[str, object]:
        assert self.session is not None
        has_input = self.server.input is not None
        return {**self.session.state(), "mode": self.mode, "server_input": has_input}

    async def _call(self, function: Callable, *args: object, **kwargs: object):
        """Run ``function`` in this tab's worker thread (one thing at a time per tab)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, lambda: function(*args, **kwargs))

    async def _send_json(self, data: dict) -> None:
        async with self._send_lock:
            if not self.ws.closed:
                await self.ws.send_str(json.dumps(data))

    async def _send_bytes(self, data: bytes) -> None:
        async with self._send_lock:
            if not self.ws.closed:
                await self.ws.send_bytes(data)

    async def _drop(self, frame_id: int, reason: str) -> None:
        self.dropped += 1
        await self._send_json({"type": "dropped", "id": frame_id, "reason": reason})

    async def _on_frame(self, data: bytes) -> None:
        try:
            frame = parse_frame(data)
        except InputError as exc:
            await self._send_json({"type": "error", "message": str(exc)})
            return
        if self.mode != "browser":
            await self._drop(frame.id, "this page shows the server's input")
        elif not self._frames.allow():
            await self._drop(frame.id, "rate")
        else:
            if self._pending is not None:  # the newest frame replaces one not yet started
                await self._drop(self._pending.id, "busy")
            self._pending = frame
            self._wake.set()

    async def _on_control(self, text: str) -> None:
        try:
            message = json.loads(text)
            if not isinstance(message, dict):
                raise ValueError("not an object")
            reply = await self._control(message)
        except (ValueError, TypeError) as exc:
            reply = {"type": "error", "message": f"bad control message: {first_line(exc)}"}
        except StreamNSTError as exc:
            reply = {"type": "error", "message": str(exc)}
        if reply is not None:
            await self._send_json(reply)
        await self._send_json({"type": "state", **self._state()})

    async def _control(self, message: dict) -> dict | None:
        session = self.session
        assert session is not None
        kind = message.get("type")
        if kind == "set":
            style, strength, smooth = (message.get(k) for k in ("style", "strength", "smooth"))
            if style is not None and not isinstance(style, str):
                raise TypeError("style must be a name")
            if strength is not None and not isinstance(strength, (int, float)):
                raise TypeError("strength must be a number")
            await self._call(session.configure, style, strength, smooth)
            return None
        if kind == "source":
            mode = message.get("mode")
            if mode not in ("browser", "server"):
                raise ValueError("source mode is 'browser' or 'server'")
            if mode == "server" and self.server.input is None:
                raise InputError("this server has no input of its own")
            self.mode = mode
            self._wake.set()
            return None
        if kind == "snapshot":
            path = await self._call(session.snapshot)
            return self._saved("snapshot", path)
        if kind == "record":
            if message.get("on"):
                await self._call(session.start_recording)
                return None
            path = await self._call(session.stop_recording)
            return self._saved("recording", path) if path else None
        raise ValueError(f"unknown message type {kind!r}")

    def _saved(self, kind: str, path: Path) -> dict:
        token = f"?token={self.server.token}" if self.server.token else ""
        url = f"files/{path.name}{token}"
        return {"type": "saved", "kind": kind, "name": path.name, "url": url}

    async def _work(self) -> None:
        """Stylize the newest frame, send it back; again (until the tab closes)."""
        last_input = 0
        while not self.ws.closed:
            if self.mode == "server" and self.server.input is not None:
                newest = await asyncio.to_thread(
                    self.server.input.newest_after, last_input, _INPUT_WAIT
                )
                if newest is None:
                    continue
                last_input = newest.number
                await self._stylize(newest.number, 0.0, newest.frame.image, newest.time_ms)
                continue
            await self._wake.wait()
            self._wake.clear()
            frame, self._pending = self._pending, None
            if frame is not None and self.mode == "browser":
                await self._stylize(frame.id, frame.client_ms, frame.jpeg, frame.client_ms)

    async def _stylize(
        self, frame_id: int, client_ms: float, picture: bytes | np.ndarray, time_ms: float
    ) -> None:
        limits, session = self.server.settings, self.session
        assert session is not None

        def work() -> bytes:
            image = (
                picture
                if isinstance(picture, np.ndarray)
                else decode_jpeg(picture, limits.max_frame_pixels)
            )
            return encode_jpeg(session.process(image, time_ms), limits.jpeg_quality)

        started = time.perf_counter()
        try:
            jpeg = await self._call(work)
        except StreamNSTError as exc:
            await self._send_json({"type": "error", "message": str(exc)})
            await self._drop(frame_id, "bad frame")
            return
        server_ms = (time.perf_counter() - started) * 1000
        await self._send_bytes(frame_message(frame_id, client_ms, server_ms, jpeg))


def _tls_context(settings: ServeSettings) -> ssl.SSLContext | None:
    """The HTTPS context of the certificate and key, if given."""
    if settings.tls_cert is None or settings.tls_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(settings.tls_cert, settings.tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise InputError(
            f"cannot use the certificate {settings.tls_cert} with key {settings.tls_key}: "
            f"{first_line(exc)}"
        ) from exc
    return context


def _hostname(host: str) -> str:
    """The name part of a Host header (``localhost:8765`` -> ``localhost``, ``[::1]:80``
    -> ``::1``)."""
    return urlsplit(f"//{host}").hostname or ""


def _static_text(name: str) -> str:
    return resources.files(__package__).joinpath("static", name).read_text(encoding="utf-8")


async def serve(
    settings: ServeSettings,
    on_ready: Callable[[WebServer], None],
    stop_signals: tuple[int, ...] = (),
    **options: object,
) -> int | None:
    """Serve until cancelled, or until one of ``stop_signals`` arrives (handled by the event
    loop, so the server stops in order: every tab's recording is finished); return that
    signal's number, or None. ``on_ready`` is told the server once it listens. ``options``
    go to :class:`WebServer`."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    received: list[int] = []

    def on_signal(signum: int) -> None:
        received.append(signum)
        stop.set()

    installed = []
    for signum in stop_signals:
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows
            loop.add_signal_handler(signum, on_signal, signum)
            installed.append(signum)
    server = WebServer(settings, **options)  # type: ignore[arg-type]
    try:
        await server.start()
        try:
            on_ready(server)
            await stop.wait()
        finally:
            await server.stop()
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)
    return received[0] if received else None
