"""Reliability (issue 11): signals, races, odd codecs, odd inputs, big inputs.

Where a signal or the real console script is the point, the command runs in a subprocess
(``python -m stream_nst`` goes through the same entry point as the installed command).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import av
import cv2
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from rt_media import assert_one_line_error, probe, shared_video, write_clip

from stream_nst.cli import _Console
from stream_nst.pipeline import QUEUE_SIZE, _FrameQueue
from stream_nst.sources import Frame

COMMAND = [sys.executable, "-m", "stream_nst"]


def _no_leftovers(folder: Path) -> None:
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]


def _has_encoder(name: str) -> bool:
    try:
        av.codec.Codec(name, "w")
    except (av.codec.codec.UnknownCodecError, ValueError):
        return False
    return True


def _interrupt_at(monkeypatch, frame: int, action=None) -> None:
    """Make the progress callback run ``action`` (default: Ctrl-C) at frame ``frame``."""
    original = _Console.progress

    def hook(self, progress):
        original(self, progress)
        if progress.done == frame:
            if action is None:
                raise KeyboardInterrupt
            action()

    monkeypatch.setattr(_Console, "progress", hook)


# 1. a hang that Ctrl-C cannot stop


@pytest.mark.skipif(not _has_encoder("libsvtav1"), reason="no libsvtav1 encoder")
@pytest.mark.parametrize("size", [(16, 640), (640, 16)])
def test_av1_refuses_frame_shapes_it_would_hang_on(tmp_path, tiny_model, size):
    clip = write_clip(tmp_path / "thin.mp4", frames=4, size=size)
    done = subprocess.run(
        [*COMMAND, "--style", tiny_model, clip, "-o", tmp_path / "o.mp4", "--codec", "av1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (
        f"stream-nst: error: codec libsvtav1 cannot encode {size[0]}x{size[1]} frames (it never "
        "finishes when a side is under 32 pixels and the other over 64); use h264 or vp9"
    )
    assert not (tmp_path / "o.mp4").exists()
    _no_leftovers(tmp_path)


@pytest.mark.skipif(not _has_encoder("libsvtav1"), reason="no libsvtav1 encoder")
def test_av1_is_quiet_with_q(tmp_path, tiny_model):
    clip = write_clip(tmp_path / "c.mp4", frames=4, size=(64, 64))
    done = subprocess.run(
        [*COMMAND, "--style", tiny_model, clip, "-o", tmp_path / "o.mp4", "--codec", "av1", "-q"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert probe(tmp_path / "o.mp4").frames == 4


# 2. SIGTERM / SIGHUP behave as Ctrl-C


@pytest.mark.parametrize(
    ("signum", "code", "words"),
    [
        (signal.SIGTERM, 143, "stopped by SIGTERM"),
        (signal.SIGHUP, 129, "stopped by SIGHUP"),
        (signal.SIGINT, 130, "interrupted"),
    ],
)
def test_signals_keep_a_playable_file_of_the_frames_done(tmp_path, tiny_model, signum, code, words):
    clip = write_clip(tmp_path / "long.mp4", frames=3000, size=(128, 96), audio="aac")
    out = tmp_path / "o.mp4"
    run = subprocess.Popen(
        [*COMMAND, "--style", tiny_model, clip, "-o", out],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # signal once encoded frames reach the hidden file
        if any(p.stat().st_size > 20_000 for p in tmp_path.glob(".o.*.partial.mp4")):
            break
        time.sleep(0.01)
    run.send_signal(signum)
    _, err = run.communicate(timeout=60)
    assert run.returncode == code, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"stream-nst: error: {words}; {out} holds the")
    frames = int(lines[0].split(" holds the ")[1].split()[0])
    result = probe(out)
    assert 0 < result.frames == frames < 3000 and result.audio == ["aac"]
    _no_leftovers(tmp_path)


def _handles(pid: int, signum: int) -> bool:
    """Whether process ``pid`` has a handler installed for ``signum`` (Linux /proc)."""
    status = Path(f"/proc/{pid}/status").read_text()
    caught = int(next(line for line in status.splitlines() if line.startswith("SigCgt:"))[7:], 16)
    return bool(caught >> (signum - 1) & 1)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("delay", [0.0, 0.05, 0.1, 0.15, 0.3])
def test_ctrl_c_at_start_up_is_one_line(tmp_path, tiny_model, delay):
    # Signalled during the imports of numpy, OpenCV, onnxruntime and PyAV: the command's
    # handlers are in place (SIGTERM is caught) but nothing else is loaded yet.
    clip = write_clip(tmp_path / "c.mp4", frames=200)
    run = subprocess.Popen(
        [*COMMAND, "--style", tiny_model, clip, "-o", tmp_path / "o.mp4"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    while not _handles(run.pid, signal.SIGTERM):
        time.sleep(0.002)
    time.sleep(delay)
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=60)
    if run.returncode == 0:  # finished before the signal: nothing to check
        return
    assert run.returncode == 130, err
    assert len(err.strip().splitlines()) == 1 and err.startswith("stream-nst: error: interrupted")
    _no_leftovers(tmp_path)


# 3. tracebacks


@pytest.mark.parametrize(
    ("codec", "kind"), [("aac", "audio"), ("libmp3lame", "audio"), ("subrip", "subtitle")]
)
def test_a_codec_that_is_not_a_video_codec(tmp_path, tiny_model, make_clip, run_cli, codec, kind):
    if not _has_encoder(codec):
        pytest.skip(f"no {codec} encoder")
    result = run_cli("--style", tiny_model, make_clip(), "-o", tmp_path / "o.mp4", "--codec", codec)
    assert_one_line_error(result, f"encodes {kind}, not video")
    _no_leftovers(tmp_path)


def test_running_out_of_memory_is_one_line(tmp_path, tiny_model):
    big = tmp_path / "big.png"
    cv2.imwrite(str(big), np.zeros((8000, 8000, 3), np.uint8))
    out = tmp_path / "o.png"
    script = f"""
import resource, sys
from stream_nst.cli import main
import stream_nst.convert, stream_nst.flow, stream_nst.smooth  # everything, before the limit
size = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmSize"))
limit = size * 1024 + 150 * 2**20  # enough to start, not for an 8000x8000 picture
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
sys.exit(main(["--style", {str(tiny_model)!r}, {str(big)!r}, "-o", {str(out)!r}]))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stream-nst: error: out of memory"), lines
    assert not out.exists()
    _no_leftovers(tmp_path)


def test_queues_hold_fewer_big_frames():
    def frame(width: int, height: int) -> Frame:
        return Frame(np.zeros((height, width, 3), np.uint8), 0, 1, 0)

    small, big = _FrameQueue(QUEUE_SIZE), _FrameQueue(QUEUE_SIZE)
    for _ in range(QUEUE_SIZE):
        small.put_nowait(frame(1920, 1080))
    assert small.full()
    big.put_nowait(frame(3840, 2160))  # one 4K frame always fits ...
    assert big.full()  # ... but fills the queue
    big.get_nowait()
    assert big.empty()


# 4. files replaced that should not be


def test_a_file_that_appears_during_the_run_is_not_replaced(
    tmp_path, tiny_model, make_clip, run_cli, monkeypatch
):
    out = tmp_path / "o.mp4"
    _interrupt_at(monkeypatch, 5, lambda: out.write_bytes(b"another run's"))
    result = run_cli("--style", tiny_model, make_clip(), "-o", out)
    assert_one_line_error(result, f"{out} appeared during the run", str(tmp_path / "o.new.mp4"))
    assert out.read_bytes() == b"another run's"
    assert probe(tmp_path / "o.new.mp4").frames == 12
    _no_leftovers(tmp_path)


def test_ctrl_c_with_y_keeps_the_old_file_and_puts_the_partial_beside_it(
    tmp_path, tiny_model, make_clip, run_cli, monkeypatch
):
    out, partial = tmp_path / "o.mp4", tmp_path / "o.partial.mp4"
    out.write_bytes(b"a complete earlier result")
    _interrupt_at(monkeypatch, 5)
    result = run_cli("--style", tiny_model, make_clip(frames=30), "-o", out, "-y", "--json")
    assert result.code == 130
    assert result.err.strip() == (
        f"stream-nst: error: interrupted; {partial} holds the 5 frames done "
        f"({out} was kept as it was)"
    )
    assert out.read_bytes() == b"a complete earlier result"
    assert probe(partial).frames == 5
    summary = json.loads(result.out)
    assert summary["status"] == "interrupted" and summary["output"] == str(partial)
    assert summary["frames"] == 5 and summary["exit_code"] == 130
    _no_leftovers(tmp_path)


# 5. silent loss


def test_an_avi_cut_short_says_so(tmp_path, tiny_model, run_cli):
    # A cut AVI keeps the frame count of its header; FFmpeg's duration is what is left.
    clip = write_clip(tmp_path / "whole.avi", frames=60)
    assert run_cli("--style", tiny_model, clip, "-o", tmp_path / "whole.mp4").code == 0
    data = clip.read_bytes()
    (tmp_path / "cut.avi").write_bytes(data[: int(len(data) * 0.4)])
    result = run_cli("--style", tiny_model, tmp_path / "cut.avi", "-o", tmp_path / "o.mp4")
    assert_one_line_error(result, "truncated: its video ends at 1.6 s of the 2.4 s it states")
    assert probe(tmp_path / "o.mp4").frames == 40


def test_the_real_avi_cut_to_40_percent(tmp_path, tiny_model, run_cli):
    data = shared_video("vtest.avi").read_bytes()
    (tmp_path / "cut.avi").write_bytes(data[: int(len(data) * 0.4)])
    result = run_cli("--style", tiny_model, tmp_path / "cut.avi", "-o", tmp_path / "o.mp4")
    assert_one_line_error(result, "truncated", "of the 79.5 s it states", "holds the 314 frames")


@pytest.fixture
def file_server(tmp_path):
    """An http server for the files of ``tmp_path / "www"`` (Python's, in a thread)."""
    root = tmp_path / "www"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            return None

    handler = functools.partial(Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_url_to_a_file_keeps_its_timestamps_and_audio(tmp_path, tiny_model, run_cli, file_server):
    root, base = file_server
    stamps = [0, 40, 80, 200, 240, 280, 500, 540, 580, 620, 1000, 1040]  # variable rate
    clip = write_clip(root / "clip.mp4", pts_ms=stamps, audio="aac")
    expected = probe(clip)
    for url in (f"{base}/clip.mp4", clip.as_uri()):
        out = tmp_path / f"o{len(url)}.mp4"
        result = run_cli("--style", tiny_model, url, "-o", out, "-q")
        assert result.code == 0, result.err
        got = probe(out)
        assert got.frames == 12 and got.audio == ["aac"]
        assert np.allclose(got.seconds, expected.seconds, atol=0.002)


def _nan_model(path: Path) -> Path:
    """A float RGB NCHW model whose every output value is NaN."""
    graph = helper.make_graph(
        [helper.make_node("Mul", ["frame", "nan"], ["stylized"])],
        "nan",
        [helper.make_tensor_value_info("frame", TensorProto.FLOAT, [1, 3, "h", "w"])],
        [helper.make_tensor_value_info("stylized", TensorProto.FLOAT, [1, 3, "h", "w"])],
        [numpy_helper.from_array(np.array(np.nan, np.float32), "nan")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    helper.set_model_props(model, {"input_convention": "rgb_float255_nchw", "pad_multiple": "1"})
    onnx.save(model, path)
    return path


def test_a_model_that_outputs_nan_fails_instead_of_writing_black(tmp_path, make_clip, run_cli):
    model = _nan_model(tmp_path / "nan.onnx")
    result = run_cli("--style", model, make_clip(), "-o", tmp_path / "o.mp4")
    assert_one_line_error(result, "NaN or infinite")
    assert not (tmp_path / "o.mp4").exists()
    _no_leftovers(tmp_path)


# 7. smaller


def test_a_broken_png_prints_only_our_line(tmp_path, tiny_model):
    good = cv2.imencode(".png", np.full((64, 64, 3), 99, np.uint8))[1].tobytes()
    (tmp_path / "cut.png").write_bytes(good[: len(good) // 2])
    done = subprocess.run(
        [*COMMAND, "--style", tiny_model, tmp_path / "cut.png", "-o", tmp_path / "o.png"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"stream-nst: error: cannot read {tmp_path / 'cut.png'}: not an image OpenCV can decode"
    ]


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_pipe_or_device_is_not_called_empty(tmp_path, tiny_model, run_cli, kind):
    if kind == "fifo":
        path = tmp_path / "pipe.mp4"
        os.mkfifo(path)
    else:
        path = Path("/dev/zero")
    result = run_cli("--style", tiny_model, path, "-o", tmp_path / "o.mp4")
    assert_one_line_error(result, f"{path} is not a regular file")


def test_folder_errors_name_the_file_and_json_lists_them(tmp_path, tiny_model, make_clip, run_cli):
    (tmp_path / "in").mkdir()
    make_clip("in/good.mp4")
    cv2.imwrite(str(tmp_path / "in" / "tiny.png"), np.zeros((8, 8, 3), np.uint8))
    result = run_cli("--style", tiny_model, tmp_path / "in", "-o", tmp_path / "out", "--json")
    assert result.code == 2
    errors = [line for line in result.err.splitlines() if line.startswith("stream-nst: error:")]
    assert errors == [
        f"stream-nst: error: {tmp_path / 'in' / 'tiny.png'}: image too small: 8x8 pixels "
        "(at least 16x16)"
    ]
    summary = json.loads(result.out)
    assert summary["status"] == "error"
    failed = [item for item in summary["items"] if item.get("status") == "error"]
    assert [item["input"] for item in failed] == [str(tmp_path / "in" / "tiny.png")]
    assert sum(1 for item in summary["items"] if item.get("frames") == 12) == 1


def test_json_on_an_input_error(tmp_path, tiny_model, run_cli):
    result = run_cli("--style", tiny_model, tmp_path / "gone.mp4", "--json")
    assert_one_line_error(result, "no such file")
    assert json.loads(result.out) == {
        "status": "error",
        "error": f"no such file: {tmp_path / 'gone.mp4'}",
        "exit_code": 2,
    }


@pytest.mark.parametrize("command", ["train", "gatys", "interpolate"])
def test_training_help_works_without_torch(run_cli, monkeypatch, command):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    result = run_cli(command, "--help")
    assert result.code == 0
    assert result.out.startswith(f"usage: stream-nst {command} ")
    assert 'pip install "stream-nst[train]"' in result.out
