"""Convert many or long videos on a Ray cluster (``--ray``; needs ``stream-nst[cluster]``).

The driver (this process) plans and joins; Ray's workers paint. Inputs and outputs must be
on storage every node reaches at the same path (a shared or network file system): a task
reads its input from there and writes what it made next to the output, so frames never
travel through Ray's object store (only the style model, once, and small summaries do).

- A folder or several inputs: one task per file.
- A long video: one task per chunk, cut at keyframes (:mod:`stream_nst.chunks`); each chunk
  warms the smoother on a few frames before its start; the driver joins the chunks without
  re-encoding and remuxes the source's audio once.
- Everything a local run promises holds: frame count, exact size, timestamps, rotation,
  audio, an atomic output, one clear error per failed input. Work files live in a hidden
  folder beside each output (``.NAME.ray-XXXX``), removed at the end, on failure and on
  Ctrl-C, which also cancels the cluster's tasks.
- A worker that dies is replaced and its task retried (``max_retries``); an input that
  fails (unreadable, or not visible from a worker) fails alone.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import av
import ray
from ray.exceptions import RayError, RayTaskError

from .chunks import CHUNK_SUFFIX, WARM_FRAMES, Chunk, ChunkMismatch, join_chunks, plan_chunks
from .chunks import stylize_chunk as _stylize_chunk
from .convert import FolderSummary, RunSummary, stylize_image, stylize_video
from .engine import Stylizer
from .errors import InputError, OutputError, Stopped, StreamNSTError, UsageError
from .outputs import check_output, publish
from .progress import Progress
from .settings import EncodeSettings, EngineSettings, StylizeSettings
from .smooth import SmoothSettings
from .sources import IMAGE_SUFFIXES, VideoFileSource
from .styles import load_style_info

_SHARED = "inputs and outputs must be on storage every node reaches at the same path"


@dataclass(frozen=True)
class ClusterSettings:
    """Where and how the work is spread."""

    address: str | None = None
    """``None``: a Ray cluster running on this machine, else a new local one; ``auto``: the
    running cluster Ray finds (``RAY_ADDRESS``, ``ray start``); or ``HOST:PORT`` /
    ``ray://HOST:PORT``."""
    cpus_per_task: int = 1
    """CPUs each task reserves (and onnxruntime threads it uses)."""
    min_chunk_seconds: float = 10.0
    """A video is cut only into chunks at least this long (shorter: one task)."""
    chunks_per_cpu: float = 2.0
    """Chunks per cluster CPU for a long video (more balance the load, each costs a
    warm-up and a start)."""
    warm_frames: int = WARM_FRAMES
    max_retries: int = 3
    """Times a task is retried after its worker died (not after an error of its input)."""

    def __post_init__(self) -> None:
        if self.cpus_per_task < 1 or self.min_chunk_seconds <= 0 or self.chunks_per_cpu <= 0:
            raise UsageError("cluster tasks need at least one CPU and chunks a positive length")


@dataclass
class _Job:
    """One input: its planned chunks (or one whole-file task) and what came back."""

    src: Path
    dst: Path
    work: Path
    chunks: list[Chunk]
    image: bool = False
    refs: dict = field(default_factory=dict)
    """Task reference -> chunk index (-1: the whole file)."""
    frames: dict[int, int] = field(default_factory=dict)
    nodes: set[str] = field(default_factory=set)
    """The cluster nodes its tasks ran on."""
    started: float = field(default_factory=time.monotonic)
    failed: Exception | None = None

    @property
    def whole(self) -> bool:
        return len(self.chunks) == 1 and self.chunks[0].start is None

    def part(self, index: int) -> Path:
        return self.work / f"chunk-{index:05d}{CHUNK_SUFFIX}"

    def whole_output(self) -> Path:
        return self.work / f"whole{self.dst.suffix}"


def connect(settings: ClusterSettings) -> dict[str, float]:
    """Join (or start) the Ray cluster; returns its resources. Keeps this process's signal
    handlers (Ray installs its own)."""
    if ray.is_initialized():
        return ray.cluster_resources()
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        ray.init(
            address=settings.address,
            ignore_reinit_error=True,
            include_dashboard=False,
            log_to_driver=False,
            logging_level="ERROR",
        )
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = settings.address or "this machine"
        raise InputError(f"cannot reach a Ray cluster at {where}: {exc}") from exc
    finally:
        for signum, handler in handlers.items():
            if handler is not None:
                signal.signal(signum, handler)
    return ray.cluster_resources()


def convert_on_cluster(
    jobs: dict[Path, Path],
    stylizer: Stylizer,
    *,
    smooth: SmoothSettings | None = None,
    encode: EncodeSettings | None = None,
    overwrite: bool = False,
    settings: ClusterSettings | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> FolderSummary:
    """Stylize every ``input -> output`` of ``jobs`` on the cluster; see the module doc.

    Raises :class:`~stream_nst.errors.Stopped` on Ctrl-C (or a signal the caller turned
    into a KeyboardInterrupt) after cancelling the tasks; nothing is left half-written.
    """
    settings = settings or ClusterSettings()
    smooth, encode = smooth or SmoothSettings(), encode or EncodeSettings()
    for dst in jobs.values():
        check_output(dst, overwrite)
    ours = not ray.is_initialized()
    resources = connect(settings)
    parts = max(
        1, round(resources.get("CPU", 1) / settings.cpus_per_task * settings.chunks_per_cpu)
    )
    model = ray.put(stylizer.style.path.read_bytes())
    task = _paint.options(num_cpus=settings.cpus_per_task, max_retries=settings.max_retries)
    common = (model, stylizer.style.name, stylizer.settings, smooth, encode, settings.cpus_per_task)
    summary = FolderSummary(next(iter(jobs.values())).parent if jobs else Path("."))
    planned: list[_Job] = []
    started = time.monotonic()
    try:
        for src, dst in jobs.items():
            job = _plan(src, dst, parts, settings)
            planned.append(job)
            if job.failed is None:
                _submit(job, task, common)
        _wait(planned, task, common, on_progress, started)
        for job in planned:
            if job.failed is None:
                try:
                    summary.done.append(_finish(job, stylizer, overwrite, encode))
                except StreamNSTError as exc:
                    job.failed = exc
            if job.failed is not None:
                summary.failures[str(job.src)] = job.failed
    except KeyboardInterrupt as exc:
        for job in planned:
            for ref in job.refs:
                with contextlib.suppress(RayError, ValueError):
                    ray.cancel(ref, force=True)
        raise Stopped(getattr(exc, "signum", signal.SIGINT)) from exc
    finally:
        for job in planned:
            shutil.rmtree(job.work, ignore_errors=True)
        if ours:
            ray.shutdown()  # the cluster this call joined or started; a caller's own stays
    return summary


def _plan(src: Path, dst: Path, parts: int, settings: ClusterSettings) -> _Job:
    work = dst.parent / f".{dst.name}.ray-{secrets.token_hex(4)}"
    job = _Job(src, dst, work, [Chunk(0, None, None, 1)])
    try:
        work.mkdir(parents=True)
    except OSError as exc:
        job.failed = OutputError(f"cannot write in {dst.parent}: {exc.strerror}")
        return job
    if src.suffix.lower() in IMAGE_SUFFIXES:
        job.image = True
        return job
    try:
        with VideoFileSource(src) as video:
            info = video.info
        seconds = (info.total_frames or 0) / float(info.rate or 1)
        wanted = min(parts, int(seconds // settings.min_chunk_seconds))
        job.chunks = plan_chunks(src, wanted, settings.warm_frames)
    except StreamNSTError as exc:
        job.failed = exc
    return job


def _submit(job: _Job, task, common: tuple) -> None:
    if job.whole:
        ref = task.remote(str(job.src), None, str(job.whole_output()), job.image, *common)
        job.refs[ref] = -1
        return
    for chunk in job.chunks:
        job.refs[task.remote(str(job.src), chunk, str(job.part(chunk.index)), False, *common)] = (
            chunk.index
        )


def _wait(jobs: list[_Job], task, common: tuple, on_progress, started: float) -> None:
    """Collect every task's result; a failed input cancels its other tasks."""
    owner = {ref: job for job in jobs for ref in job.refs}
    total = sum(c.frames for job in jobs for c in job.chunks)
    done = 0
    while owner:
        ready, _ = ray.wait(list(owner), num_returns=1, timeout=0.5)
        for ref in ready:
            job = owner.pop(ref)
            index = job.refs[ref]
            try:
                frames, node = ray.get(ref)
            except (RayTaskError, RayError) as exc:
                cause = exc.cause if isinstance(exc, RayTaskError) else exc
                if isinstance(cause, ChunkMismatch) and not job.whole:
                    _restart_whole(job, task, common, owner)  # planning was wrong: one piece
                    continue
                if job.failed is None:
                    job.failed = _as_input_error(job.src, cause)
                    for other in list(job.refs):
                        if other in owner:
                            owner.pop(other)
                            with contextlib.suppress(RayError, ValueError):
                                ray.cancel(other, force=True)
                continue
            job.frames[index] = frames
            job.nodes.add(node)
            done += frames
            if on_progress is not None:
                on_progress(Progress(done, total, time.monotonic() - started, str(job.src)))


def _restart_whole(job: _Job, task, common: tuple, owner: dict) -> None:
    for ref in list(job.refs):
        if ref in owner:
            owner.pop(ref)
            with contextlib.suppress(RayError, ValueError):
                ray.cancel(ref, force=True)
    job.refs, job.frames, job.nodes = {}, {}, set()
    job.chunks = [Chunk(0, None, None, sum(c.frames for c in job.chunks))]
    _submit(job, task, common)
    owner.update({ref: job for ref in job.refs})


def _as_input_error(src: Path, cause: BaseException) -> Exception:
    if isinstance(cause, StreamNSTError):
        return cause
    return InputError(f"{src}: the cluster could not finish it: {cause}")


def _finish(job: _Job, stylizer: Stylizer, overwrite: bool, encode: EncodeSettings) -> RunSummary:
    """Publish a whole-file task's output, or join a video's chunks."""
    if job.whole:
        output = publish(job.whole_output(), job.dst, overwrite=overwrite)
    else:
        parts = [job.part(c.index) for c in job.chunks]
        output = join_chunks(parts, job.src, job.dst, overwrite=overwrite)
    width, height, audio = _describe(output)
    return RunSummary(
        input=str(job.src),
        output=str(output),
        kind="image" if job.image else "video",
        frames=sum(job.frames.values()),
        width=width,
        height=height,
        seconds=time.monotonic() - job.started,
        style=stylizer.style.name,
        provider=f"ray ({_count(len(job.frames), 'task')} on {_count(len(job.nodes), 'node')})",
        audio=audio,
    )


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _describe(path: Path) -> tuple[int, int, str]:
    """Width, height and audio of a finished output, from its header."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            return stream.width, stream.height, "copied" if container.streams.audio else "none"
    except (av.FFmpegError, IndexError) as exc:
        raise OutputError(f"cannot read back {path}: {exc}") from exc


@ray.remote
def _paint(
    src: str,
    chunk: Chunk | None,
    out: str,
    image: bool,
    model: bytes,
    style_name: str,
    stylize: StylizeSettings,
    smooth: SmoothSettings,
    encode: EncodeSettings,
    threads: int,
) -> tuple[int, str]:
    """One task, on a worker: a chunk of a video (``chunk``), or a whole file; returns the
    frames written to ``out`` and the node it ran on."""
    node = socket.gethostname()
    source, target = Path(src), Path(out)
    if not source.is_file():
        raise InputError(f"a worker on {node} cannot read {src} ({_SHARED})")
    if not target.parent.is_dir():
        raise OutputError(
            f"a worker on {node} cannot see the output folder {target.parent} ({_SHARED})"
        )
    with tempfile.TemporaryDirectory(prefix="stream-nst-model-") as folder:
        path = Path(folder) / f"{style_name}.onnx"
        path.write_bytes(model)
        stylizer = Stylizer(
            load_style_info(path, style_name),
            settings=stylize,
            engine=EngineSettings(device="auto", threads=threads),
        )
        target.unlink(missing_ok=True)  # a retried task starts its file again
        if image:
            frames = stylize_image(source, target, style=stylizer).frames
        elif chunk is None:
            done = stylize_video(source, target, style=stylizer, smooth=smooth, encode=encode)
            frames = done.frames
        else:
            frames = _stylize_chunk(source, chunk, target, stylizer, smooth, encode)
    return frames, ray.get_runtime_context().get_node_id()
