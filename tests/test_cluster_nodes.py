"""``stream-nst ... --ray ADDRESS`` against a two-node Ray cluster on this machine.

Ray's own ``ray.cluster_utils.Cluster`` starts a head node and a second node (each its own
raylet and workers, 1 CPU each); the command joins it by address, as it would a real one.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from rt_media import probe, write_clip

pytest.importorskip("ray", reason="needs Ray: pip install 'stream-nst[cluster]'")
from ray.cluster_utils import Cluster

from stream_nst import stylize_video

COMMAND = [sys.executable, "-c", "import sys; from stream_nst.entry import run; sys.exit(run())"]


@pytest.fixture
def two_nodes():
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    yield cluster.address
    cluster.shutdown()


def test_a_long_video_is_shared_by_both_nodes(two_nodes: str, tmp_path: Path, tiny_model):
    clip = write_clip(tmp_path / "long.mp4", frames=1000, size=(64, 48), gop=25, audio="aac")
    out = tmp_path / "out.mp4"
    run = subprocess.run(
        [*COMMAND, "--style", tiny_model, clip, "-o", out, "--ray", two_nodes, "--json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    (item,) = json.loads(run.stdout)["items"]
    assert item["provider"] == "ray (4 tasks on 2 nodes)"  # 40 s: 2 CPUs x 2 chunks
    local = stylize_video(clip, tmp_path / "local.mp4", style=tiny_model)
    one, many = probe(Path(local.output)), probe(out)
    assert many.frames == one.frames == 1000 and many.seconds == one.seconds
    assert many.audio == ["aac"] and many.audio_packets == one.audio_packets
