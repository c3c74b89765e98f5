"""Video and image files end to end: frames, sizes, timestamps, rotation, audio, outputs."""

from __future__ import annotations

import json
from fractions import Fraction

import av
import cv2
import numpy as np
import pytest
from rt_media import gradient_frame, probe
from tiny_model import expected_output

from stream_nst import RunSummary, Stylizer, stylize_image, stylize_video
from stream_nst.progress import Progress, render_bar
from stream_nst.settings import EncodeSettings
from stream_nst.smooth import SmoothSettings

VFR_MS = [0, 40, 80, 200, 240, 400, 433, 466, 600, 1000]


def test_vfr_clip_keeps_frames_size_timestamps_and_audio(tmp_path, tiny_model, make_clip):
    src = make_clip("vfr.mp4", pts_ms=VFR_MS, size=(66, 38), audio="aac")
    dst = tmp_path / "out.mp4"
    summary = stylize_video(src, dst, style=tiny_model)
    source, out = probe(src), probe(dst)
    assert summary.frames == out.frames == source.frames == len(VFR_MS)
    assert (out.width, out.height) == (66, 38) == (summary.width, summary.height)
    assert out.seconds == pytest.approx([ms / 1000 for ms in VFR_MS], abs=1e-3)
    assert out.audio == ["aac"] and summary.audio == "copied"
    assert out.audio_packets == source.audio_packets
    assert summary.damage is None


def test_the_video_is_stylized(tmp_path, tiny_model, make_clip):
    src = make_clip(size=(64, 48))
    dst = tmp_path / "out.mp4"
    stylize_video(src, dst, style=tiny_model)
    original = probe(src).first_frame
    diff = np.abs(probe(dst).first_frame.astype(int) - expected_output(original).astype(int))
    assert diff.mean() < 6  # only the lossy codec between them


def test_rotation_is_applied_to_the_frames(tmp_path, tiny_model, make_clip):
    src = make_clip(size=(64, 48), rotation=90)
    assert probe(src).rotation == 90
    dst = tmp_path / "out.mp4"
    stylize_video(src, dst, style=tiny_model)
    out = probe(dst)
    assert (out.width, out.height, out.rotation) == (48, 64, 0)
    upright = cv2.rotate(gradient_frame(0, 64, 48), cv2.ROTATE_90_COUNTERCLOCKWISE)
    diff = np.abs(out.first_frame.astype(int) - expected_output(upright).astype(int))
    assert diff.mean() < 6


def test_odd_sizes_are_kept_exactly(tmp_path, tiny_model):
    frames = [gradient_frame(i, 35, 21) for i in range(3)]
    odd = tmp_path / "odd.mkv"
    with av.open(str(odd), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 35, 21, "yuv444p"
        for i, image in enumerate(frames):
            picture = av.VideoFrame.from_ndarray(image, format="bgr24")
            picture.pts = i
            container.mux(stream.encode(picture))
        container.mux(stream.encode(None))
    stylize_video(odd, tmp_path / "odd-out.mp4", style=Stylizer(tiny_model))
    out = probe(tmp_path / "odd-out.mp4")
    assert (out.frames, out.width, out.height) == (3, 35, 21)


def test_mp3_audio_is_re_encoded_for_webm(tmp_path, tiny_model, make_clip):
    if "libvpx-vp9" not in av.codecs_available:
        pytest.skip("no VP9 encoder in this PyAV build")
    src = make_clip(audio="libmp3lame")
    dst = tmp_path / "out.webm"
    summary = stylize_video(src, dst, style=tiny_model, encode=EncodeSettings(codec="vp9"))
    out = probe(dst)
    assert out.frames == 12 and out.audio and out.audio[0] != "mp3"
    assert summary.audio.startswith("re-encoded")


def test_mp3_audio_is_copied_into_mkv(tmp_path, tiny_model, make_clip):
    src = make_clip(audio="libmp3lame")
    summary = stylize_video(src, tmp_path / "out.mkv", style=tiny_model)
    assert probe(tmp_path / "out.mkv").audio == ["mp3"] and summary.audio == "copied"


def test_progress_events_count_every_frame(tmp_path, tiny_model, make_clip):
    events: list[Progress] = []
    stylize_video(make_clip(), tmp_path / "o.mp4", style=tiny_model, on_progress=events.append)
    assert [e.done for e in events] == list(range(1, 13))
    assert all(e.total == 12 for e in events)
    assert "12/12 frames" in render_bar(events[-1])


def test_no_smooth_and_smoothing_both_keep_every_frame(tmp_path, tiny_model, make_clip):
    src = make_clip()
    for enabled in (True, False):
        dst = tmp_path / f"smooth-{enabled}.mp4"
        stylize_video(src, dst, style=tiny_model, smooth=SmoothSettings(enabled=enabled))
        assert probe(dst).frames == 12


def test_image_in_image_out(tmp_path, tiny_model):
    src = tmp_path / "photo.png"
    frame = gradient_frame(0, 50, 30)
    cv2.imwrite(str(src), frame)
    summary = stylize_image(src, tmp_path / "photo.out.png", style=tiny_model)
    assert isinstance(summary, RunSummary) and summary.frames == 1
    written = cv2.imread(str(tmp_path / "photo.out.png"))
    np.testing.assert_array_equal(written, expected_output(frame))


def test_cli_video_with_json_summary(tmp_path, tiny_model, make_clip, run_cli):
    src = make_clip(audio="aac")
    result = run_cli("--style", tiny_model, src, "-o", tmp_path / "o.mp4", "--json", "-q")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["status"] == "ok"
    (item,) = report["items"]
    assert item["frames"] == 12 and item["audio"] == "copied" and item["width"] == 64
    assert result.err == ""  # --quiet, and no progress bar when stderr is not a terminal


def test_cli_default_output_name_is_beside_the_input(tmp_path, models_dir, make_clip, run_cli):
    src = make_clip("walk.avi")
    result = run_cli("--style", "tiny", src)
    assert result.code == 0, result.err
    assert probe(tmp_path / "walk.tiny.mp4").frames == 12
    assert "wrote" in result.err


def test_cli_options_reach_the_engine(tmp_path, tiny_model, make_clip, run_cli):
    src = make_clip()
    args = ["--strength", "0.5", "--preserve-color", "--max-size", "32", "--threads", "1"]
    args += ["--no-smooth", "--codec", "h264", "--crf", "30", "--preset", "ultrafast"]
    result = run_cli("--style", tiny_model, src, "-o", tmp_path / "o.mp4", "--device", "cpu", *args)
    assert result.code == 0, result.err
    assert probe(tmp_path / "o.mp4").frames == 12


def test_cli_folder_of_images_and_videos(tmp_path, tiny_model, make_clip, run_cli):
    folder = tmp_path / "in"
    folder.mkdir()
    make_clip("in/a.mp4")
    cv2.imwrite(str(folder / "b.jpg"), gradient_frame(1, 40, 40))
    (folder / "notes.txt").write_text("not media")
    result = run_cli("--style", tiny_model, folder, "-o", tmp_path / "out", "--json")
    assert result.code == 0, result.err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.mp4", "b.jpg"]
    assert len(json.loads(result.out)["items"]) == 2
    again = run_cli("--style", tiny_model, folder, "-o", tmp_path / "out")
    assert again.code == 2 and "already exists" in again.err
    assert run_cli("--style", tiny_model, folder, "-o", tmp_path / "out", "-y").code == 0


def test_overwrite_replaces_the_file_only_on_success(tmp_path, tiny_model, make_clip, run_cli):
    src = make_clip()
    dst = tmp_path / "o.mp4"
    dst.write_bytes(b"precious")
    assert run_cli("--style", tiny_model, src, "-o", dst).code == 2
    assert dst.read_bytes() == b"precious"
    assert run_cli("--style", tiny_model, src, "-o", dst, "-y").code == 0
    assert probe(dst).frames == 12
    assert not [p for p in tmp_path.iterdir() if ".partial" in p.name]


def test_sources_and_sinks_are_context_managers(tmp_path, make_clip):
    from stream_nst.sinks import VideoFileSink
    from stream_nst.sources import open_source

    with open_source(make_clip()) as source:
        first = next(iter(source))
    assert source.info.kind == "video"
    out = tmp_path / "left.mp4"
    with pytest.raises(RuntimeError), VideoFileSink(out) as sink:
        sink.write(first)
        raise RuntimeError("the run failed")
    assert list(tmp_path.iterdir()) == [tmp_path / "clip.mp4"]  # nothing left behind
    with VideoFileSink(out) as sink:
        sink.write(first)
        sink.finish()
    assert probe(out).frames == 1


def test_the_encoded_colours_are_the_frames(tmp_path):
    from stream_nst.sinks import VideoFileSink
    from stream_nst.sources import Frame, open_source

    # Flat patches of the primaries, grey and near-black/white, 32 px each: no detail for
    # the codec to lose, so what comes back is the colour conversion's doing.
    colours = [(0, 0, 255), (0, 255, 0), (255, 0, 0), (128, 128, 128), (16, 16, 16), (240,) * 3]
    image = np.concatenate([np.full((64, 32, 3), c, np.uint8) for c in colours], axis=1)
    out = tmp_path / "colours.mp4"
    with VideoFileSink(out, settings=EncodeSettings(crf=0)) as sink:
        sink.write(Frame(image, 0, Fraction(1, 30), 0))
        sink.finish()
    with open_source(out) as source:
        back = next(iter(source)).image
    for i, colour in enumerate(colours):
        patch = back[16:48, 32 * i + 8 : 32 * i + 24].reshape(-1, 3).mean(axis=0)
        assert np.abs(patch - colour).max() <= 4, (colour, patch)
