"""The Ray cluster path against one local run, its overheads, and a model for N nodes.

On one clip, in one run:

1. **local**: ``stylize_video`` in one process (default settings, all cores);
2. **chunks, one by one**: each chunk of the plan ``--ray`` makes on this machine,
   stylized in this process pinned to one core with one onnxruntime thread (a 1-CPU Ray
   task's share of the machine when every core runs one):
   its time, and the time of its warm-up frames (stylized and dropped);
3. **join**: ``join_chunks`` on those chunk files (packet copy and audio remux);
4. **cluster**: ``ray.init(num_cpus=CORES)`` (start-up) and ``convert_on_cluster`` end to
   end on the same clip.

From these, the model of a cluster of N nodes with C cores each:
``T(N) = start-up + plan + (F + k*W) * t1 / (N*C) + join``, with F the frames, k the chunks
(``chunks_per_cpu`` per core), W the warm-up frames per chunk, t1 the seconds per frame of
a one-CPU task; it holds while the chunks outnumber the cores and storage keeps up.

    python benchmarks/cluster.py --clip ../shared/videos/vtest.avi
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import ray  # noqa: E402

from benchmarks.report import machine, markdown_table, publish  # noqa: E402
from stream_nst import stylize_video  # noqa: E402
from stream_nst.chunks import join_chunks, plan_chunks, stylize_chunk  # noqa: E402
from stream_nst.cluster import ClusterSettings, convert_on_cluster  # noqa: E402
from stream_nst.engine import Stylizer  # noqa: E402
from stream_nst.settings import EngineSettings  # noqa: E402
from stream_nst.sources import VideoFileSource  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--clip", type=Path, default=ROOT / "samples" / "city.mp4", help="the video to convert"
    )
    parser.add_argument("--style", default="mosaic", help="a shipped style's name")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    settings = ClusterSettings()
    with VideoFileSource(args.clip) as video:
        info = video.info
    seconds_long = (info.total_frames or 0) / float(info.rate or 1)
    parts = max(1, round(cores * settings.chunks_per_cpu))
    wanted = min(parts, int(seconds_long // settings.min_chunk_seconds))
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        started = time.perf_counter()
        local = stylize_video(args.clip, work / "local.mp4", style=args.style)
        t_local = time.perf_counter() - started

        started = time.perf_counter()
        chunks = plan_chunks(args.clip, wanted, settings.warm_frames)
        t_plan = time.perf_counter() - started
        one_cpu = Stylizer(args.style, engine=EngineSettings(threads=1))
        rows, files = [], []
        everything = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {min(everything)})  # decoder, smoother and encoder too
        for chunk in chunks:
            files.append(work / f"chunk-{chunk.index}.nut")
            started = time.perf_counter()
            frames = stylize_chunk(args.clip, chunk, files[-1], one_cpu)
            elapsed = time.perf_counter() - started
            warm = settings.warm_frames if chunk.warm_from is not None else 0
            rows.append((chunk.index, frames, warm, elapsed))
        os.sched_setaffinity(0, everything)
        per_frame = sum(r[3] for r in rows) / sum(r[1] + r[2] for r in rows)
        started = time.perf_counter()
        join_chunks(files, args.clip, work / "joined.mp4")
        t_join = time.perf_counter() - started

        started = time.perf_counter()
        ray.init(num_cpus=cores, include_dashboard=False, log_to_driver=False)
        t_start = time.perf_counter() - started
        started = time.perf_counter()
        result = convert_on_cluster({args.clip: work / "ray.mp4"}, Stylizer(args.style))
        t_cluster = time.perf_counter() - started
        ray.shutdown()
    (done,) = result.done
    frames = local.frames

    # In-order scheduling of the measured chunks on the cores (as Ray hands them out): the
    # makespan of the painting alone; what the cluster run took beyond it, per round of
    # tasks, is a task's own start-up (worker, onnxruntime session, decoder seek).
    slots = [0.0] * cores
    for row in rows:
        slots[slots.index(min(slots))] += row[3]
    rounds = math.ceil(len(rows) / cores)
    t_task = max(0.0, (t_cluster - max(slots)) / rounds)

    def model(nodes: int) -> float:
        """Predicted seconds on ``nodes`` machines like this one (enough keyframes assumed)."""
        k = max(1, round(settings.chunks_per_cpu * nodes * cores))
        chunk = t_task + (frames / k + settings.warm_frames) * per_frame
        return t_start + t_plan + math.ceil(k / (nodes * cores)) * chunk + t_join

    warm_total = sum(r[2] for r in rows)
    lines = [
        "## Cluster (`--ray`): speed-up and overheads on this machine",
        "",
        f"Machine: {machine()}. Command: `python benchmarks/cluster.py --clip "
        f"{args.clip.name}` ({frames} frames, {local.width}×{local.height}, "
        f"{seconds_long:.0f} s), style `{args.style}`, default settings; a local Ray cluster "
        f"of {cores} CPUs on this machine, {len(chunks)} chunks.",
        "",
        markdown_table(
            ["run", "seconds", "fps", "vs local"],
            [
                [
                    "local (`stylize_video`, one process)",
                    f"{t_local:.1f}",
                    f"{frames / t_local:.1f}",
                    "1.00×",
                ],
                [
                    f"cluster (`convert_on_cluster`, {done.provider})",
                    f"{t_cluster:.1f}",
                    f"{frames / t_cluster:.1f}",
                    f"**{t_local / t_cluster:.2f}×**",
                ],
                [
                    "cluster + Ray start-up",
                    f"{t_cluster + t_start:.1f}",
                    f"{frames / (t_cluster + t_start):.1f}",
                    f"{t_local / (t_cluster + t_start):.2f}×",
                ],
            ],
        ),
        "",
        "Overheads, measured in the same run:",
        "",
        markdown_table(
            ["overhead", "seconds", "what"],
            [
                ["Ray start-up", f"{t_start:.1f}", f"`ray.init(num_cpus={cores})`, once per run"],
                ["plan", f"{t_plan:.2f}", "packet scan for keyframes (no decoding)"],
                [
                    "seam warm-up",
                    f"{warm_total * per_frame:.1f}",
                    f"{warm_total} frames stylized and dropped ({settings.warm_frames} per chunk "
                    f"after the first): {warm_total / frames:.1%} of the frames",
                ],
                ["join", f"{t_join:.2f}", "packet copy of the chunks and the audio remux"],
            ],
        ),
        "",
        markdown_table(
            ["chunk", "frames kept", "warm-up frames", "seconds (1 CPU)"],
            [[i, f, w, f"{s:.1f}"] for i, f, w, s in rows],
        ),
        "",
        f"A one-CPU task paints {1 / per_frame:.1f} frames a second here (t1 = "
        f"{per_frame * 1000:.1f} ms, warm-up frames included). The chunks alone, handed to "
        f"{cores} CPUs in order, take {max(slots):.1f} s; the cluster run took "
        f"{t_cluster:.1f} s, so a task's own start-up (Ray worker, onnxruntime session, "
        f"decoder seek) costs about {t_task:.1f} s per round of tasks. "
        "Model for N nodes of C cores, a clip of F frames cut into k = "
        f"{settings.chunks_per_cpu:g}·N·C chunks (it needs a keyframe at least every F/k "
        f"frames and chunks of at least {settings.min_chunk_seconds:g} s): "
        "`T(N) = Ray start-up + plan + ⌈k / (N·C)⌉ · (task start-up + (F/k + W)·t1) + join`, "
        f"W = {settings.warm_frames}. For this clip: "
        + ", ".join(f"N = {n}: {model(n):.0f} s" for n in (1, 2, 4, 8))
        + f" (measured N = 1: {t_cluster + t_start:.0f} s, with {len(rows)} chunks as its "
        "keyframes allow). The fixed costs (Ray start-up, task start-up, join) bound the "
        "speed-up of a short clip; a long film or a folder of many files amortises them. "
        "On one 2-core machine the cluster path cannot beat a local run (the local run "
        "already uses both cores, without the start-ups); it pays from two machines on.",
    ]
    publish("cluster", lines)


if __name__ == "__main__":
    main()
