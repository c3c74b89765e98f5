"""``stream-nst serve`` as a command: its address line, its errors, and stopping it."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import av
import pytest
from rt_media import assert_one_line_error

aiohttp = pytest.importorskip("aiohttp")

from web_client import frame_message, jpeg, next_frame, next_json, picture  # noqa: E402

COMMAND = [sys.executable, "-c", "import sys; from stream_nst.entry import run; sys.exit(run())"]


def test_bad_ports_and_inputs_are_one_line_errors(run_cli, tmp_path: Path) -> None:
    assert_one_line_error(run_cli("serve", "--port", "70000"), "port must be between 0 and 65535")
    assert_one_line_error(run_cli("serve", "--port", "0", tmp_path / "missing.mp4"), "no such file")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--port", port, "--recordings", tmp_path)
    assert_one_line_error(result, f"cannot listen on 127.0.0.1:{port}", "choose another --port")


def test_help_explains_the_safety_defaults(run_cli) -> None:
    result = run_cli("serve", "--help")
    assert result.code == 0
    for words in ("127.0.0.1", "random token", "--allow-upload", "OBS", "view=bare"):
        assert words in " ".join(result.out.split())


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_server_and_keeps_the_recording(tmp_path: Path, signum) -> None:
    server = subprocess.Popen(
        [*COMMAND, "serve", "--port", "0", "--recordings", tmp_path / "rec"],
        stderr=subprocess.PIPE,
        text=True,
    )
    line = server.stderr.readline()
    url = re.search(r"http://\S+", line).group(0)

    async def record() -> None:
        async with aiohttp.ClientSession() as session:
            ws = await session.ws_connect(url.replace("http", "ws") + "ws")
            await next_json(ws, "state")
            await ws.send_str(json.dumps({"type": "record", "on": True}))
            await next_json(ws, "state")
            for i in range(8):
                await ws.send_bytes(frame_message(i, 40.0 * i, jpeg(picture(seed=i))))
                await next_frame(ws)
            server.send_signal(signum)  # while recording
            await ws.receive()  # the server closes the page's connection

    asyncio.run(record())
    _, err = server.communicate(timeout=30)
    assert server.returncode == 0, err
    assert "stopped; recordings in progress were finished" in err
    (recording,) = (tmp_path / "rec").iterdir()
    with av.open(str(recording)) as container:
        assert len(list(container.decode(video=0))) == 8
