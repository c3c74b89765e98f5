"""``stream-nst serve`` without a browser: frames, controls, files and the safety limits.

A real server on a free loopback port, real shipped style models, and aiohttp's client
speaking the page's protocol. The page itself, in Chromium, is tested in
``test_web_browser.py``.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

aiohttp = pytest.importorskip("aiohttp")

from web_client import (  # noqa: E402 - after the skip
    CITY,
    frame_message,
    jpeg,
    next_frame,
    next_json,
    picture,
    serving,
    shipped_styles,
)

from stream_nst.engine import Stylizer  # noqa: E402
from stream_nst.errors import InputError  # noqa: E402
from stream_nst.settings import ServeSettings  # noqa: E402
from stream_nst.web.protocol import decode_jpeg, jpeg_size  # noqa: E402


def run(coroutine):
    return asyncio.run(coroutine)


async def _connect(session, server, **query):
    url = f"http://127.0.0.1:{server.port}/ws"
    ws = await session.ws_connect(url, params={**query, **_auth(server)})
    await next_json(ws, "state")
    return ws


async def _sessions_become(session, server, count: int) -> int:
    """The server's session count once it is ``count`` (or after 5 s)."""
    for _ in range(100):
        async with session.get(f"http://127.0.0.1:{server.port}/api/status") as r:
            sessions = (await r.json())["sessions"]
        if sessions == count:
            break
        await asyncio.sleep(0.05)
    return sessions


def _auth(server) -> dict:
    return {"token": server.token} if server.token else {}


def _mean_difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def test_jpeg_size_is_read_from_the_header_without_decoding() -> None:
    data = jpeg(picture(320, 240))
    assert jpeg_size(data) == (320, 240)
    # A small file that claims 60000 x 60000 pixels is refused before decoding.
    sof = data.index(b"\xff\xc0")
    claimed = data[: sof + 5] + (60000).to_bytes(2, "big") * 2 + data[sof + 9 :]
    with pytest.raises(InputError, match="over the limit"):
        decode_jpeg(claimed, max_pixels=1920 * 1080)
    for bad in (b"", b"GIF89a", data[:20], b"\xff\xd8" + b"\x00" * 50):
        with pytest.raises(InputError):
            decode_jpeg(bad, max_pixels=1920 * 1080)


def test_frames_come_back_stylized_as_the_stylizer_paints_them(tmp_path: Path) -> None:
    image = picture(320, 240)
    sent = jpeg(image)

    async def scenario():
        async with serving(tmp_path) as server, aiohttp.ClientSession() as session:
            ws = await session.ws_connect(
                f"http://127.0.0.1:{server.port}/ws",
                params={"style": "mosaic", **_auth(server)},
                compress=15,  # asked for, as browsers do; JPEGs are not worth deflating
            )
            assert ws.compress == 0
            await next_json(ws, "state")
            await ws.send_str(json.dumps({"type": "set", "smooth": False}))
            state = await next_json(ws, "state")
            assert state["style"] == "mosaic" and state["smooth"] is False
            await ws.send_bytes(frame_message(7, 1234.5, sent))
            return await next_frame(ws)

    frame_id, client_ms, server_ms, out = run(scenario())
    assert (frame_id, client_ms) == (7, 1234.5) and server_ms > 0
    painted = Stylizer("mosaic").stylize(cv2.imdecode(np.frombuffer(sent, np.uint8), 1))
    quality = ServeSettings().jpeg_quality
    expected = cv2.imdecode(np.frombuffer(jpeg(painted, quality), np.uint8), 1)
    assert out.shape == image.shape
    assert _mean_difference(out, expected) < 0.5  # the Stylizer's output, JPEG-encoded
    assert _mean_difference(out, image) > 15  # and it is painted


def test_controls_change_the_output_and_bad_ones_change_nothing(tmp_path: Path) -> None:
    image = picture(320, 240, seed=1)
    sent = jpeg(image)

    async def scenario():
        async with serving(tmp_path) as server, aiohttp.ClientSession() as session:
            ws = await _connect(session, server, style="mosaic")
            outputs = {}
            for name, change in [
                ("mosaic", {"smooth": False}),
                ("candy", {"style": "candy"}),
                ("weak", {"strength": 0.0}),
            ]:
                await ws.send_str(json.dumps({"type": "set", **change}))
                await next_json(ws, "state")
                await ws.send_bytes(frame_message(len(outputs), 0, sent))
                outputs[name] = (await next_frame(ws))[3]
            errors = []
            for bad in [
                {"type": "set", "style": "no_such_style"},
                {"type": "set", "strength": 3},
                {"type": "set", "strength": "lots"},
                {"type": "launch"},
                [1, 2],
            ]:
                await ws.send_str(json.dumps(bad))
                errors.append((await next_json(ws, "error"))["message"])
            await ws.send_str("{not json")
            errors.append((await next_json(ws, "error"))["message"])
            await ws.send_str(json.dumps({"type": "source", "mode": "server"}))
            errors.append((await next_json(ws, "error"))["message"])
            state = await next_json(ws, "state")
            return outputs, errors, state

    outputs, errors, state = run(scenario())
    assert _mean_difference(outputs["mosaic"], outputs["candy"]) > 10
    received = cv2.imdecode(np.frombuffer(sent, np.uint8), 1)
    assert _mean_difference(outputs["weak"], received) < 4  # strength 0: the frame (as JPEG)
    assert _mean_difference(outputs["mosaic"], received) > 15
    assert "unknown style 'no_such_style'" in errors[0]
    assert "strength must be between 0 and 1" in errors[1]
    assert "strength must be a number" in errors[2]
    assert "unknown message type 'launch'" in errors[3]
    assert all(errors[4:6]) and "no input of its own" in errors[6]
    assert state["style"] == "candy" and state["strength"] == 0.0  # the bad ones changed nothing


def test_snapshots_and_recordings_go_to_the_recordings_folder_only(tmp_path: Path) -> None:
    frames = [jpeg(picture(320, 240, seed=i)) for i in range(12)]

    async def scenario():
        async with serving(tmp_path) as server, aiohttp.ClientSession() as session:
            ws = await _connect(session, server)
            await ws.send_str(json.dumps({"type": "record", "on": True}))
            assert (await next_json(ws, "state"))["recording"]
            for i, data in enumerate(frames):
                await ws.send_bytes(frame_message(i, 1000 + 40 * i, data))
                await next_frame(ws)
            await ws.send_str(json.dumps({"type": "snapshot"}))
            snapshot = await next_json(ws, "saved")
            await ws.send_str(json.dumps({"type": "record", "on": False}))
            recording = await next_json(ws, "saved")
            base = f"http://127.0.0.1:{server.port}/"
            files = {}
            for saved in (snapshot, recording):
                async with session.get(base + saved["url"]) as response:
                    files[saved["kind"]] = (response.status, await response.read())
            refused = []
            for path in (
                "files/..%2Fpyproject.toml",
                "files/%2e%2e%2f%2e%2e%2fpyproject.toml",
                "files/../../pyproject.toml",
                "files/stream-nst-20260101-000000-001.mp4",  # no such recording
                "files/" + recording["name"].replace(".mp4", ".txt"),
                "static/../server.py",
                "static/index.html",
            ):
                async with session.get(base + path) as response:
                    refused.append(response.status)
            return snapshot, recording, files, refused

    snapshot, recording, files, refused = run(scenario())
    assert snapshot["kind"] == "snapshot" and snapshot["name"].endswith(".png")
    status, png = files["snapshot"]
    assert status == 200 and cv2.imdecode(np.frombuffer(png, np.uint8), 1).shape == (240, 320, 3)
    status, mp4 = files["recording"]
    assert status == 200
    path = tmp_path / "recordings" / recording["name"]
    assert path.read_bytes() == mp4
    with av.open(str(path)) as container:
        decoded = list(container.decode(video=0))
    assert len(decoded) == 12 and (decoded[0].width, decoded[0].height) == (320, 240)
    times = [round(float(f.pts * f.time_base), 3) for f in decoded]
    assert times[0] == 0.0 and times[-1] == pytest.approx(0.44, abs=0.002)  # the page's clock
    assert refused == [404] * 7
    assert sorted(p.name for p in (tmp_path / "recordings").iterdir()) == sorted(
        [snapshot["name"], recording["name"]]
    )


def test_bad_frames_get_errors_and_the_session_goes_on(tmp_path: Path) -> None:
    good = jpeg(picture(320, 240))

    async def scenario():
        async with serving(tmp_path, max_frame_pixels=640 * 480) as server:
            async with aiohttp.ClientSession() as session:
                ws = await _connect(session, server)
                errors = []
                for bad in [
                    b"hello",  # not a frame message
                    frame_message(1, 0, b"\xff\xd8\xff\xe0garbage"),  # a broken JPEG
                    frame_message(2, 0, good[: len(good) // 3]),  # a truncated one
                    frame_message(3, 0, jpeg(picture(1280, 720))),  # over the pixel limit
                    frame_message(4, 0, jpeg(picture(12, 12))),  # too small to paint
                ]:
                    await ws.send_bytes(bad)
                    errors.append((await next_json(ws, "error"))["message"])
                await ws.send_bytes(frame_message(5, 0, good))
                frame_id = (await next_frame(ws))[0]
            return errors, frame_id

    errors, frame_id = run(scenario())
    assert "not a frame message" in errors[0]
    assert "JPEG" in errors[1] and errors[2]
    assert "over the limit" in errors[3] and "too small" in errors[4]
    assert frame_id == 5


def test_huge_messages_and_floods_close_that_connection_only(tmp_path: Path) -> None:
    small = jpeg(picture(64, 48))

    async def scenario():
        async with serving(tmp_path, max_frame_bytes=256 * 1024, max_fps=30) as server:
            async with aiohttp.ClientSession() as session:
                huge = await _connect(session, server)
                await huge.send_bytes(frame_message(1, 0, b"\xff\xd8" + bytes(300 * 1024)))
                huge_close = await huge.receive()
                flood = await _connect(session, server)
                replies = {"dropped": 0, "frames": 0}
                closed = None
                for i in range(400):
                    if flood.closed:
                        break
                    await flood.send_bytes(frame_message(i, 0, small))
                while closed is None:
                    message = await asyncio.wait_for(flood.receive(), 20)
                    if message.type.name == "BINARY":
                        replies["frames"] += 1
                    elif message.type.name == "TEXT" and '"dropped"' in message.data:
                        replies["dropped"] += 1
                    elif message.type.name in ("CLOSE", "CLOSED", "CLOSING"):
                        closed = flood.close_code
                # Another page is served as before.
                calm = await _connect(session, server)
                await calm.send_bytes(frame_message(9, 0, jpeg(picture())))
                calm_id = (await next_frame(calm))[0]
                sessions = await _sessions_become(session, server, 1)
            return huge_close, replies, closed, calm_id, sessions

    huge_close, replies, closed, calm_id, sessions = run(scenario())
    assert huge_close.type.name == "CLOSE" and huge_close.data == 1009  # message too big
    assert closed == 1008  # policy: too many messages
    assert replies["dropped"] > replies["frames"]  # most of the flood was never painted
    assert calm_id == 9 and sessions == 1


def test_only_loopback_host_names_and_same_origin_websockets(tmp_path: Path) -> None:
    async def scenario():
        async with serving(tmp_path, max_sessions=2) as server:
            base = f"http://127.0.0.1:{server.port}"
            async with aiohttp.ClientSession() as session:
                statuses = {}
                async with session.get(base + "/") as r:
                    statuses["page"] = r.status
                    headers = r.headers
                async with session.get(base + "/", headers={"Host": "evil.example:80"}) as r:
                    statuses["rebinding"] = r.status
                for name, origin in [("foreign", "http://evil.example"), ("own", base)]:
                    try:
                        ws = await session.ws_connect(base + "/ws", headers={"Origin": origin})
                        statuses[name] = 101
                        await ws.close()
                    except aiohttp.WSServerHandshakeError as exc:
                        statuses[name] = exc.status
                first = await _connect(session, server)
                second = await _connect(session, server)
                try:
                    await session.ws_connect(base + "/ws")
                except aiohttp.WSServerHandshakeError as exc:
                    statuses["third"] = exc.status
                await first.close()
                statuses["freed"] = await _sessions_become(session, server, 1)
                third = await _connect(session, server)
                statuses["after_close"] = 101
                await second.close()
                await third.close()
                async with session.post(base + "/api/styles?name=x", data=b"x") as r:
                    statuses["upload"] = r.status
            return statuses, headers, server.token

    statuses, headers, token = run(scenario())
    assert token is None  # no token on 127.0.0.1
    assert statuses == {
        "page": 200,
        "rebinding": 403,
        "foreign": 403,
        "own": 101,
        "third": 503,
        "freed": 1,
        "after_close": 101,
        "upload": 403,
    }
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["Referrer-Policy"] == "no-referrer"


def test_another_address_needs_the_random_token(tmp_path: Path) -> None:
    async def scenario():
        async with serving(tmp_path, host="0.0.0.0") as server:
            base = f"http://127.0.0.1:{server.port}"
            statuses = []
            async with aiohttp.ClientSession() as session:
                for query in ("", "?token=wrong", f"?token={server.token}"):
                    async with session.get(f"{base}/api/styles{query}") as r:
                        statuses.append(r.status)
                try:
                    await session.ws_connect(base + "/ws")
                except aiohttp.WSServerHandshakeError as exc:
                    statuses.append(exc.status)
                ws = await _connect(session, server)
                await ws.close()
            return statuses, server.token, server.url

    statuses, token, url = run(scenario())
    assert len(token) >= 20 and url.endswith(f"?token={token}")
    assert statuses == [403, 403, 200, 403]


def test_uploaded_styles_are_checked_and_served(tmp_path: Path) -> None:
    model = next(s.path for s in shipped_styles("candy"))

    async def scenario():
        async with serving(
            tmp_path, styles=shipped_styles("mosaic"), allow_upload=True, max_upload_bytes=2**20
        ) as server:
            base = f"http://127.0.0.1:{server.port}/api/styles"
            statuses = {}
            async with aiohttp.ClientSession() as session:
                for name, query, body in [
                    ("garbage", "?name=mine", b"not a model"),
                    ("bad_name", "?name=../mine", model.read_bytes()),
                    ("taken", "?name=mosaic", model.read_bytes()),
                    ("too_big", "?name=big", bytes(2**20 + 10)),
                    ("good", "?name=mine", model.read_bytes()),
                ]:
                    async with session.post(base + query, data=body) as r:
                        statuses[name] = r.status
                async with session.get(base) as r:
                    listed = {s["name"]: s for s in await r.json()}
                ws = await _connect(session, server)
                await ws.send_str(json.dumps({"type": "set", "style": "mine"}))
                state = await next_json(ws, "state")
                await ws.send_bytes(frame_message(1, 0, jpeg(picture())))
                await next_frame(ws)
                await ws.close()
            folder = server.styles["mine"].path.parent
        return statuses, listed, state, folder

    statuses, listed, state, folder = run(scenario())
    assert statuses == {"garbage": 400, "bad_name": 400, "taken": 409, "too_big": 413, "good": 201}
    assert listed["mine"]["uploaded"] and not listed["mosaic"]["uploaded"]
    assert "path" not in listed["mine"]  # the page is not told server paths
    assert state["style"] == "mine"
    assert not folder.exists()  # the temporary folder went with the server


def test_pages_can_watch_the_input_on_the_server(tmp_path: Path) -> None:
    async def scenario():
        async with serving(tmp_path, input=str(CITY)) as server:
            async with aiohttp.ClientSession() as session:
                ws = await _connect(session, server)
                await ws.send_str(json.dumps({"type": "source", "mode": "server"}))
                assert (await next_json(ws, "state"))["mode"] == "server"
                ids = [(await next_frame(ws))[0] for _ in range(5)]
                shape = (await next_frame(ws))[3].shape
            return ids, shape

    ids, shape = run(scenario())
    assert ids == sorted(ids) and len(set(ids)) == 5
    with av.open(str(CITY)) as container:
        stream = container.streams.video[0]
        assert shape == (stream.height, stream.width, 3)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make a certificate")
def test_https_with_a_certificate(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    make = [
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
    ]
    subprocess.run(
        [*make, "-keyout", key, "-out", cert],
        check=True,
        capture_output=True,
    )

    async def scenario():
        async with serving(tmp_path, tls_cert=cert, tls_key=key) as server:
            async with aiohttp.ClientSession() as session:
                base = f"https://127.0.0.1:{server.port}"
                async with session.get(base + "/api/styles", ssl=False) as r:
                    status = r.status
                ws = await session.ws_connect(base + "/ws", ssl=False)
                state = await next_json(ws, "state")
                await ws.close()
            return server.url, status, state

    url, status, state = run(scenario())
    assert url.startswith("https://") and status == 200 and state["style"]
    with pytest.raises(InputError, match="cannot use the certificate"):
        run(serving(tmp_path, tls_cert=key, tls_key=key).__aenter__())
