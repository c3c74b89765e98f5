"""A long video in pieces: plan chunks at keyframes, stylize each alone, join them losslessly.

Used by :mod:`stream_nst.cluster` to spread one video over many workers; nothing here needs
Ray, so every step is tested on its own.

- :func:`plan_chunks` reads the video's packets (no decoding) and cuts it at keyframes into
  parts of about equal frame counts. Each chunk starts ``warm_frames`` frames early: those
  are stylized and smoothed but not kept, so the smoother's state at the chunk's first frame
  is what it would be in one long run, and the seam does not show.
- :func:`stylize_chunk` paints one chunk into a video-only file of its own, with the same
  encoder settings as a local run and the source's own timestamps.
- :func:`join_chunks` copies the chunks' packets into the output in order (no re-encoding),
  remuxes the source's audio once alongside, and publishes the file atomically.

A file whose timestamps are not presentation times (some store decode-order timestamps,
or none) is planned as one chunk: only the whole-file path numbers its frames as a local
run does.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from .audio import AudioTracks
from .engine import Stylizer
from .errors import InputError, OutputError
from .outputs import check_output, publish, reserve_temp
from .sequence import SequenceStylizer, stylize_frames
from .settings import EncodeSettings
from .sinks import VideoFileSink
from .smooth import SmoothSettings
from .sources import Frame, VideoFileSource

WARM_FRAMES = 16
"""Frames stylized before a chunk's start to warm the smoother (dropped): at the default
smoothing strength 0.8 the first kept frame then differs from one long run's by under
0.8**16 = 3 % of the smoother's memory."""

CHUNK_SUFFIX = ".nut"
"""Chunk files are NUT: it keeps any codec's packets with their exact presentation
timestamps (the decode timestamps of the first few packets it leaves out, and the join
restores them), so the join gives the output's muxer what a local run's encoder would."""
_CHUNK_OPTIONS = {"avoid_negative_ts": "disabled"}  # keep pts as the encoder made them
_WHOLE_FORMATS = frozenset({"mpeg", "mpegts", "mpegvideo", "h264", "hevc", "m4v", "rawvideo"})
"""Containers cut only as a whole: their frames need not each carry a presentation time."""


class ChunkMismatch(InputError):
    """A chunk decoded to another number of frames than its plan said (the file's
    timestamps are not what planning assumed); the video must be done as one piece."""


@dataclass(frozen=True)
class Chunk:
    """Frames ``start <= pts < end`` of a video (``end`` None: to its end; ``start`` None:
    the whole video, read as a local run reads it)."""

    index: int
    start: int | None
    end: int | None
    frames: int
    """Frames kept (the warm-up frames not counted)."""
    warm_from: int | None = None
    """pts of the first warm-up frame (None: no warm-up, the chunk starts the video)."""


def plan_chunks(path: Path, parts: int, warm_frames: int = WARM_FRAMES) -> list[Chunk]:
    """Cut ``path`` at keyframes into at most ``parts`` chunks of about equal frame counts."""
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.FFmpegError as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    with container:
        if not container.streams.video:
            raise InputError(f"{path} has no video stream")
        stream = container.streams.video[0]
        if _WHOLE_FORMATS & set(container.format.name.split(",")):
            return [_whole(stream.frames or 1)]
        reorders = bool(stream.codec_context.has_b_frames)
        pts: list[int] = []
        keys: list[int] = []
        decode_order_stamps = True
        try:
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue
                if packet.pts is None:
                    return [_whole(len(pts) or 1)]
                pts.append(packet.pts)
                decode_order_stamps &= packet.dts == packet.pts
                if packet.is_keyframe:
                    keys.append(packet.pts)
        except av.FFmpegError:
            return [_whole(len(pts) or 1)]
    ordered = sorted(pts)
    if (reorders and decode_order_stamps) or len(set(ordered)) != len(ordered) or parts < 2:
        return [_whole(len(ordered))]
    # Each cut: the keyframe nearest to an equal share of the frames.
    cuts: list[int] = []
    for part in range(1, parts):
        target = ordered[len(ordered) * part // parts]
        key = min(keys, key=lambda k: abs(k - target))
        if key > (cuts[-1] if cuts else ordered[0]):
            cuts.append(key)
    if not cuts:
        return [_whole(len(ordered))]
    bounds = [ordered[0], *cuts, None]
    chunks = []
    for index, (start, end) in enumerate(itertools.pairwise(bounds)):
        first = bisect.bisect_left(ordered, start)
        last = len(ordered) if end is None else bisect.bisect_left(ordered, end)
        warm = ordered[max(0, first - warm_frames)] if index else None
        chunks.append(Chunk(index, start, end, last - first, warm))
    return chunks


def _with_dts(packets: Iterable[av.Packet], previous: int | None, step: int) -> Iterator[av.Packet]:
    """A chunk's packets with decode timestamps: NUT leaves them out for the first packets
    of a stream with B-frames, which are restored here (``step``: one frame's duration)."""
    early: list[av.Packet] = []
    started = False
    for packet in packets:
        if packet.dts is None and not started:
            early.append(packet)
            continue
        if early:
            yield from _restore_dts(early, packet.dts, previous, step)
            early = []
        started = True
        yield packet
    yield from _restore_dts(early, None, previous, step)


def _restore_dts(early: list[av.Packet], known: int | None, previous: int | None, step: int):
    """The encoder's decode timestamps of the packets before the first ``known`` one: one
    frame step apart, ending one step before it (in presentation order if none is known),
    and always after the previous chunk's last packet and at most their own pts."""
    times = sorted(p.pts for p in early)
    for back, packet in zip(range(len(early), 0, -1), early, strict=True):
        dts = known - back * step if known is not None else times[len(early) - back]
        if previous is not None:
            dts = max(dts, previous + 1)
        packet.dts = previous = min(dts, packet.pts)
        yield packet


def _rebased(packets: Iterable[av.Packet], time_base: Fraction) -> Iterator[av.Packet]:
    """The packets (the empty end marker dropped) with their timestamps in ``time_base``
    (the source's, as a local run writes; NUT's is a finer one)."""
    for packet in packets:
        if packet.size == 0:
            continue
        scale = packet.time_base / time_base
        packet.pts = round(packet.pts * scale)
        if packet.dts is not None:
            packet.dts = round(packet.dts * scale)
        if packet.duration:
            packet.duration = round(packet.duration * scale)
        packet.time_base = time_base
        yield packet


def _whole(frames: int) -> Chunk:
    return Chunk(0, None, None, frames)


def stylize_chunk(
    src: Path,
    chunk: Chunk,
    dst: Path,
    stylizer: Stylizer,
    smooth: SmoothSettings | None = None,
    encode: EncodeSettings | None = None,
) -> int:
    """Paint ``chunk`` of ``src`` into the video-only file ``dst``; returns the frames kept."""
    sequence = SequenceStylizer(stylizer, smooth)
    with (
        VideoFileSource(src) as video,
        VideoFileSink(
            dst, settings=encode, rate=video.info.rate, container_options=_CHUNK_OPTIONS
        ) as sink,
    ):
        first = chunk.warm_from if chunk.warm_from is not None else chunk.start
        frames = iter(video) if first is None else video.window(first, chunk.end)

        def keep(frame: Frame) -> None:
            if chunk.start is None or frame.pts >= chunk.start:
                sink.write(frame)

        stylize_frames(frames, sequence, keep)
        if chunk.start is not None and sink.frames != chunk.frames:
            raise ChunkMismatch(
                f"chunk {chunk.index} of {src} decoded to {sink.frames} frames, "
                f"not the {chunk.frames} its packets promised"
            )
        if not sink.frames:
            raise InputError(f"no frame could be decoded from {src}")
        sink.finish()
        return sink.frames


def join_chunks(parts: list[Path], src: Path, dst: Path, *, overwrite: bool = False) -> Path:
    """Copy the chunk files' video packets, in order, and ``src``'s audio into ``dst``."""
    check_output(dst, overwrite)
    temp = reserve_temp(dst)
    try:
        with av.open(str(temp), "w") as out:
            with av.open(str(parts[0])) as first:
                template = first.streams.video[0]
                video = out.add_stream_from_template(template)
                extradata = template.codec_context.extradata
            with av.open(str(src), metadata_errors="ignore") as source:
                has_audio = bool(source.streams.audio)
                time_base = source.streams.video[0].time_base  # as a local run's
            video.time_base = time_base
            audio = AudioTracks(src, out) if has_audio else None
            last_dts = None
            for part in parts:
                with av.open(str(part)) as chunk:
                    stream = chunk.streams.video[0]
                    if stream.codec_context.extradata != extradata:
                        raise OutputError(
                            f"chunk {part.name} was encoded differently from the first one"
                        )
                    rate = stream.average_rate or stream.guessed_rate
                    step = max(1, round(1 / (rate * time_base))) if rate else 1
                    packets = _rebased(chunk.demux(stream), time_base)
                    for packet in _with_dts(packets, last_dts, step):
                        if audio is not None:
                            audio.mux_until(float(packet.pts * packet.time_base))
                        last_dts = packet.dts
                        packet.stream = video
                        out.mux(packet)
            if audio is not None:
                audio.mux_until(None)
                audio.close()
    except (av.FFmpegError, OSError) as exc:
        temp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {dst}: {exc}") from exc
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return publish(temp, dst, overwrite=overwrite)
