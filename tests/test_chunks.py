"""A video cut at keyframes, painted chunk by chunk and joined: as one local run, seams unseen."""

from __future__ import annotations

import itertools
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from rt_media import probe, write_clip

from stream_nst import stylize_video
from stream_nst.chunks import ChunkMismatch, join_chunks, plan_chunks, stylize_chunk
from stream_nst.engine import Stylizer
from stream_nst.flicker import MotionEstimator, warping_error
from stream_nst.settings import EncodeSettings
from stream_nst.sources import open_source

REPO = Path(__file__).resolve().parents[1]


def _chunked(
    src: Path, dst: Path, stylizer: Stylizer, parts: int, encode: EncodeSettings | None = None
) -> list:
    chunks = plan_chunks(src, parts)
    files = []
    for chunk in chunks:
        files.append(dst.with_name(f"{dst.stem}-{chunk.index}.nut"))
        assert stylize_chunk(src, chunk, files[-1], stylizer, encode=encode) == chunk.frames
    join_chunks(files, src, dst)
    return chunks


def test_chunks_are_cut_at_keyframes_and_cover_every_frame(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "c.mp4", frames=60, gop=6)
    chunks = plan_chunks(clip, 4)
    assert len(chunks) == 4 and sum(c.frames for c in chunks) == 60
    assert chunks[0].warm_from is None and chunks[-1].end is None
    with av.open(str(clip)) as container:
        keys = {p.pts for p in container.demux(video=0) if p.is_keyframe}
    for before, after in itertools.pairwise(chunks):
        assert before.end == after.start and after.start in keys
        assert after.warm_from < after.start
    assert plan_chunks(clip, 1) == [chunks[0].__class__(0, None, None, 60)]


@pytest.mark.parametrize(
    "options",
    [
        {"audio": "aac"},
        {"rotation": 90},
        {"pts_ms": [0, 40, 80, 200, 240, 250, 260, 400, 440, 480, 520, 560]},  # VFR
    ],
    ids=["audio", "rotated", "variable-rate"],
)
def test_a_chunked_run_equals_a_local_one(tmp_path: Path, tiny_model: Path, options) -> None:
    frames = len(options.get("pts_ms", ())) or 48
    clip = write_clip(tmp_path / "c.mp4", frames=frames, size=(96, 64), gop=4, **options)
    stylizer = Stylizer(tiny_model)
    local = stylize_video(clip, tmp_path / "local.mp4", style=stylizer)
    chunks = _chunked(clip, tmp_path / "joined.mp4", stylizer, 3)
    assert len(chunks) == 3
    one, joined = probe(Path(local.output)), probe(tmp_path / "joined.mp4")
    assert (joined.frames, joined.width, joined.height) == (one.frames, one.width, one.height)
    assert joined.seconds == one.seconds  # every timestamp, exactly
    assert joined.audio == one.audio and joined.audio_packets == one.audio_packets
    assert joined.rotation == one.rotation == 0  # upright, as a local run writes it


def test_a_chunk_that_decodes_otherwise_than_planned_says_so(tmp_path: Path, tiny_model) -> None:
    clip = write_clip(tmp_path / "c.mp4", frames=24, gop=4)
    chunk = plan_chunks(clip, 3)[1]
    wrong = chunk.__class__(chunk.index, chunk.start, chunk.end, chunk.frames + 5, chunk.warm_from)
    with pytest.raises(ChunkMismatch, match="not the"):
        stylize_chunk(clip, wrong, tmp_path / "x.nut", Stylizer(tiny_model))
    assert not list(tmp_path.glob("*x*.nut"))  # nothing half-written


def _reencode(src: Path, dst: Path, gop: int, frames: int) -> Path:
    """``src``'s first frames with a keyframe every ``gop`` frames (the shipped sample has
    one keyframe only)."""
    with open_source(str(src)) as source, av.open(str(dst), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height = 640, 360  # samples/city.mp4's size
        stream.pix_fmt = "yuv420p"
        stream.codec_context.options = {"g": str(gop), "crf": "12", "preset": "veryfast"}
        for index, frame in enumerate(source):
            if index == frames:
                break
            picture = av.VideoFrame.from_ndarray(frame.image, format="bgr24")
            picture.pts, picture.time_base = index, Fraction(1, 25)
            out.mux(stream.encode(picture))
        out.mux(stream.encode(None))
    return dst


def test_seams_flicker_no_more_than_the_rest(tmp_path: Path) -> None:
    # Lossless encoding, so that what is measured is the chunking and the smoother's
    # warm-up: at crf 20 each chunk also starts with a keyframe, whose change of coding
    # quality shows as it does at any keyframe of a local run (BENCHMARKS.md, "Cluster").
    clip = _reencode(REPO / "samples" / "city.mp4", tmp_path / "city.mp4", gop=12, frames=72)
    stylizer, lossless = Stylizer("mosaic"), EncodeSettings(crf=0)
    chunks = _chunked(clip, tmp_path / "joined.mp4", stylizer, 4, lossless)
    local = stylize_video(clip, tmp_path / "local.mp4", style=stylizer, encode=lossless)
    starts = list(itertools.accumulate(c.frames for c in chunks[:-1]))
    assert len(starts) == 3

    def frames(path: Path) -> list[np.ndarray]:
        with open_source(str(path)) as source:
            return [f.image for f in source]

    source = frames(clip)
    estimate = MotionEstimator()
    motions = [estimate(source[i - 1], source[i]) for i in range(1, len(source))]

    def errors(path: Path) -> list[float]:
        out = frames(path)
        return [warping_error(out[i - 1], out[i], motions[i - 1]) for i in range(1, len(out))]

    joined, one_run = errors(tmp_path / "joined.mp4"), errors(Path(local.output))
    at_seams = [joined[s - 1] for s in starts]  # the pair (last of one chunk, first of next)
    elsewhere = [e for i, e in enumerate(joined) if i + 1 not in starts]
    assert max(at_seams) <= max(elsewhere)
    for seam, error in zip(starts, at_seams, strict=True):
        assert error <= 1.05 * one_run[seam - 1]  # as one long run has it there
