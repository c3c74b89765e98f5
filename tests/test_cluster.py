"""``--ray``: files and chunks of long videos on a real local Ray cluster (2 CPUs).

The cluster is started once for the module (``ray.init(num_cpus=2)``); the command-line
tests start their own, as a user's run would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from rt_media import probe, write_clip

ray = pytest.importorskip("ray", reason="needs Ray: pip install 'stream-nst[cluster]'")

from stream_nst import stylize_video  # noqa: E402
from stream_nst.cluster import ClusterSettings, _paint, convert_on_cluster  # noqa: E402
from stream_nst.engine import Stylizer  # noqa: E402
from stream_nst.errors import InputError  # noqa: E402
from stream_nst.settings import EncodeSettings, StylizeSettings  # noqa: E402
from stream_nst.smooth import SmoothSettings  # noqa: E402

COMMAND = [sys.executable, "-c", "import sys; from stream_nst.entry import run; sys.exit(run())"]
CHUNKED = ClusterSettings(min_chunk_seconds=0.5)  # short test clips still come in chunks


@pytest.fixture(scope="module", autouse=True)
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield
    ray.shutdown()


def _leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(".")]


def test_a_video_in_chunks_equals_a_local_run(tmp_path: Path, tiny_model: Path) -> None:
    clip = write_clip(tmp_path / "c.mp4", frames=100, size=(96, 64), gop=10, audio="aac")
    stylizer = Stylizer(tiny_model)
    local = stylize_video(clip, tmp_path / "local.mp4", style=stylizer)
    out = tmp_path / "out" / "c.mp4"
    out.parent.mkdir()
    result = convert_on_cluster({clip: out}, stylizer, settings=CHUNKED)
    assert not result.failures
    (done,) = result.done
    assert done.provider == "ray (4 tasks on 1 node)" and done.frames == 100  # 2 CPUs x 2 chunks
    one, many = probe(Path(local.output)), probe(out)
    assert (many.frames, many.width, many.height) == (one.frames, one.width, one.height)
    assert many.seconds == one.seconds and many.audio == one.audio == ["aac"]
    assert not _leftovers(out.parent)


def test_one_task_per_file_and_one_error_per_failed_input(tmp_path: Path, tiny_model) -> None:
    inputs = [write_clip(tmp_path / f"{n}.mp4", frames=20, size=(64, 48)) for n in "ab"]
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all")
    out = tmp_path / "out"
    out.mkdir()
    plan = {src: out / src.name for src in [*inputs, broken]}
    result = convert_on_cluster(plan, Stylizer(tiny_model))
    assert sorted(Path(s.output).name for s in result.done) == ["a.mp4", "b.mp4"]
    assert all(s.provider == "ray (1 task on 1 node)" and s.frames == 20 for s in result.done)
    assert list(result.failures) == [str(broken)]
    assert "not a video file" in str(result.failures[str(broken)])
    assert sorted(p.name for p in out.iterdir()) == ["a.mp4", "b.mp4"]  # nothing else


def test_a_worker_that_cannot_see_the_input_says_what_is_needed(tmp_path: Path, tiny_model):
    settings = (StylizeSettings(), SmoothSettings(), EncodeSettings(), 1)
    model = tiny_model.read_bytes()
    with pytest.raises(InputError, match="storage every node reaches"):
        _paint._function(
            "/no/such/shared/clip.mp4",
            None,
            str(tmp_path / "x.mp4"),
            False,
            model,
            "tiny",
            *settings,
        )
    with pytest.raises(Exception, match="cannot see the output folder"):
        _paint._function(
            str(write_clip(tmp_path / "c.mp4")),
            None,
            "/no/such/dir/x.mp4",
            False,
            model,
            "tiny",
            *settings,
        )


def _paint_workers() -> list[int]:
    """Processes of workers running a stream-nst task (Ray names them ``ray::_paint``)."""
    out = subprocess.run(["pgrep", "-f", "ray::_paint"], capture_output=True, text=True)
    return [int(pid) for pid in out.stdout.split()]


@pytest.mark.skipif(not Path("/proc").exists(), reason="finds the worker process in /proc")
def test_a_killed_worker_is_retried_and_the_output_is_complete(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "c.mp4", frames=240, size=(320, 240), gop=12, audio="aac")
    out = tmp_path / "out.mp4"
    results: list = []
    run = threading.Thread(
        target=lambda: results.append(
            convert_on_cluster({clip: out}, Stylizer("mosaic"), settings=CHUNKED)
        )
    )
    run.start()
    killed = None
    deadline = time.monotonic() + 120
    while killed is None and time.monotonic() < deadline and run.is_alive():
        workers = _paint_workers()
        if workers and list(tmp_path.glob(".out.mp4.ray-*/*partial*")):
            killed = workers[0]
            os.kill(killed, signal.SIGKILL)  # a node's worker dies mid-chunk
        time.sleep(0.05)
    run.join(300)
    assert killed is not None, "no worker was seen painting"
    (result,) = results
    assert not result.failures and result.done[0].frames == 240
    made = probe(out)
    assert made.frames == 240 and made.audio == ["aac"]
    assert not _leftovers(tmp_path)


def test_ctrl_c_cancels_the_tasks_and_keeps_nothing(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "c.mp4", frames=600, size=(320, 240), gop=12)
    out = tmp_path / "out.mp4"
    env = {**os.environ, "RAY_ADDRESS": ""}
    command = subprocess.Popen(
        [*COMMAND, "--style", "mosaic", clip, "-o", out, "--ray"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and command.poll() is None:
        if list(tmp_path.glob(".out.mp4.ray-*/*partial*")):  # the cluster is painting
            break
        time.sleep(0.05)
    command.send_signal(signal.SIGINT)
    _, err = command.communicate(timeout=120)
    assert command.returncode == 130, err
    assert err.strip().splitlines()[-1].startswith("stream-nst: error: interrupted")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.mp4"]  # no output, no work files
