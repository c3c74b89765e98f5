"""Bad input and faults: one line on stderr, exit 2 (130 for Ctrl-C), nothing lost."""

from __future__ import annotations

import os
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from rt_media import assert_one_line_error, probe

from stream_nst import stylize_video
from stream_nst.cli import _Console


def _no_leftovers(folder: Path) -> None:
    assert not [p.name for p in folder.iterdir() if ".partial" in p.name]


def test_zero_byte_file(tmp_path, tiny_model, run_cli):
    (tmp_path / "empty.mp4").touch()
    result = run_cli("--style", tiny_model, tmp_path / "empty.mp4", "-o", tmp_path / "o.mp4")
    assert_one_line_error(result, "empty")
    assert not (tmp_path / "o.mp4").exists()
    _no_leftovers(tmp_path)


def test_text_file_named_mp4(tmp_path, tiny_model, run_cli):
    (tmp_path / "notes.mp4").write_text("these are not moving pictures\n" * 20)
    result = run_cli("--style", tiny_model, tmp_path / "notes.mp4", "-o", tmp_path / "o.mp4")
    assert_one_line_error(result, "not a video file")


def test_truncated_video_keeps_what_decodes(tmp_path, tiny_model, make_clip, run_cli):
    clip = make_clip("whole.mkv", frames=40)
    data = clip.read_bytes()
    (tmp_path / "cut.mkv").write_bytes(data[: len(data) // 2])
    result = run_cli("--style", tiny_model, tmp_path / "cut.mkv", "-o", tmp_path / "o.mp4")
    assert_one_line_error(result, "cut.mkv", "o.mp4 holds the")
    out = probe(tmp_path / "o.mp4")
    assert 5 < out.frames < 40
    _no_leftovers(tmp_path)


def test_truncated_mp4_with_index_first(tmp_path, tiny_model, make_clip, run_cli):
    clip = make_clip("whole.mp4", frames=40, audio="aac")
    moved = tmp_path / "fast.mp4"
    with (
        av.open(str(clip)) as src,
        av.open(str(moved), "w", options={"movflags": "faststart"}) as dst,
    ):
        streams = {s.index: dst.add_stream_from_template(s) for s in src.streams}
        for packet in src.demux():
            if packet.dts is not None:
                packet.stream = streams[packet.stream.index]
                dst.mux(packet)
    data = moved.read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: int(len(data) * 0.6)])
    result = run_cli("--style", tiny_model, tmp_path / "cut.mp4", "-o", tmp_path / "o.mp4")
    assert_one_line_error(result, "truncated")
    assert 5 < probe(tmp_path / "o.mp4").frames < 40


def test_corrupt_frames_mid_stream_are_skipped(tmp_path, tiny_model, make_clip, run_cli):
    clip = make_clip(frames=24)
    with av.open(str(clip)) as container:
        packets = [(p.pos, p.size) for p in container.demux(video=0) if p.size]
    data = bytearray(clip.read_bytes())
    noise = np.random.default_rng(0)
    for position, size in packets[8:12]:
        data[position : position + size] = noise.integers(0, 256, size, np.uint8).tobytes()
    (tmp_path / "bad.mp4").write_bytes(bytes(data))
    result = run_cli("--style", tiny_model, tmp_path / "bad.mp4", "-o", tmp_path / "o.mp4")
    assert_one_line_error(result, "could not be decoded")
    assert 12 <= probe(tmp_path / "o.mp4").frames < 24


def test_file_without_a_video_stream(tmp_path, tiny_model, run_cli):
    sound = tmp_path / "sound.m4a"
    with av.open(str(sound), "w") as container:
        stream = container.add_stream("aac", rate=44100, layout="mono")
        silence = np.zeros((1, 44100), np.float32)
        tone = av.AudioFrame.from_ndarray(silence, format="flt", layout="mono")
        tone.sample_rate = 44100
        container.mux(stream.encode(tone))
        container.mux(stream.encode(None))
    result = run_cli("--style", tiny_model, sound, "-o", tmp_path / "o.mp4")
    assert_one_line_error(result, "no video stream")


def test_image_too_small(tmp_path, tiny_model, run_cli):
    cv2.imwrite(str(tmp_path / "tiny.png"), np.zeros((8, 8, 3), np.uint8))
    result = run_cli("--style", tiny_model, tmp_path / "tiny.png", "-o", tmp_path / "o.png")
    assert_one_line_error(result, "too small", "8x8")
    assert not (tmp_path / "o.png").exists()
    _no_leftovers(tmp_path)


def test_unreadable_image(tmp_path, tiny_model, run_cli):
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 definitely not a jpeg")
    result = run_cli("--style", tiny_model, tmp_path / "broken.jpg", "-o", tmp_path / "o.jpg")
    assert_one_line_error(result, "cannot read")


def test_unknown_style_lists_the_valid_ones(models_dir, make_clip, run_cli):
    result = run_cli("--style", "nope", make_clip())
    assert_one_line_error(result, "unknown style 'nope'", "tiny, tiny8")


@pytest.mark.parametrize("name", ["../tiny", "styles/tiny", "a\\b"])
def test_style_name_with_path_separators(models_dir, make_clip, run_cli, name):
    assert_one_line_error(run_cli("--style", name, make_clip()), "path separator")


def test_corrupt_onnx(tmp_path, make_clip, run_cli):
    (tmp_path / "bad.onnx").write_bytes(os.urandom(2000))
    assert_one_line_error(run_cli("--style", tmp_path / "bad.onnx", make_clip()), "bad.onnx")


def test_incompatible_onnx(tmp_path, make_clip, run_cli):
    from tiny_model import build_tiny_model

    model = build_tiny_model(tmp_path / "wrong.onnx", metadata={"input_convention": "yuv420"})
    assert_one_line_error(run_cli("--style", model, make_clip()), "input_convention")


def test_missing_style_file(tmp_path, make_clip, run_cli):
    assert_one_line_error(run_cli("--style", tmp_path / "gone.onnx", make_clip()), "not found")


def test_missing_input(tmp_path, tiny_model, run_cli):
    result = run_cli("--style", tiny_model, tmp_path / "gone.mp4")
    assert_one_line_error(result, "no such file")


def test_output_folder_missing(tmp_path, tiny_model, make_clip, run_cli):
    result = run_cli("--style", tiny_model, make_clip(), "-o", tmp_path / "nowhere" / "o.mp4")
    assert_one_line_error(result, "does not exist")


def test_output_folder_unwritable(tmp_path, tiny_model, make_clip, run_cli):
    if os.geteuid() == 0:
        target = Path("/proc/o.mp4")  # root may write anywhere else
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        target = locked / "o.mp4"
    result = run_cli("--style", tiny_model, make_clip(), "-o", target)
    assert_one_line_error(result, "cannot write")


def test_output_exists_without_overwrite(tmp_path, tiny_model, make_clip, run_cli):
    (tmp_path / "o.mp4").write_bytes(b"keep me")
    result = run_cli("--style", tiny_model, make_clip(), "-o", tmp_path / "o.mp4")
    assert_one_line_error(result, "already exists", "-y")
    assert (tmp_path / "o.mp4").read_bytes() == b"keep me"


def test_output_is_the_input(tmp_path, tiny_model, make_clip, run_cli):
    src = make_clip()
    assert_one_line_error(run_cli("--style", tiny_model, src, "-o", src, "-y"), "input itself")


def test_bad_usage(tiny_model, run_cli):
    assert_one_line_error(run_cli("--bogus"), "unrecognized")
    assert_one_line_error(run_cli("--style", tiny_model, "--strength", "2", "x.mp4"), "strength")
    assert_one_line_error(run_cli("--style", tiny_model, "--device", "tpu"), "device")
    assert_one_line_error(run_cli("--style", tiny_model, "--codec", "nonesuch", "x"), "no such")


def test_camera_index_without_a_camera(tmp_path, tiny_model, run_cli):
    if Path("/dev/video7").exists():
        pytest.skip("this machine has a /dev/video7")
    result = run_cli("--style", tiny_model, "7", "-o", tmp_path / "o.mp4")
    assert_one_line_error(result, "no camera at index 7")


def test_live_window_without_a_display(tiny_model, run_cli, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("stream_nst.sources.CaptureSource._open", lambda self: cv2.VideoCapture())
    result = run_cli("--style", tiny_model)
    assert_one_line_error(result)


def test_ctrl_c_keeps_a_playable_file_of_the_frames_done(
    tmp_path, tiny_model, make_clip, run_cli, monkeypatch
):
    original = _Console.progress

    def interrupt_after_five(self, progress):
        original(self, progress)
        if progress.done == 5:
            raise KeyboardInterrupt

    monkeypatch.setattr(_Console, "progress", interrupt_after_five)
    src = make_clip(frames=30, audio="aac")
    result = run_cli("--style", tiny_model, src, "-o", tmp_path / "o.mp4")
    assert result.code == 130
    assert (
        result.err.strip()
        == f"stream-nst: error: interrupted; {tmp_path / 'o.mp4'} holds the 5 frames done"
    )
    out = probe(tmp_path / "o.mp4")
    assert out.frames == 5 and out.audio == ["aac"]
    _no_leftovers(tmp_path)


def test_ctrl_c_in_the_api_propagates_after_saving(tmp_path, tiny_model, make_clip):
    def stop(progress):
        if progress.done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        stylize_video(make_clip(), tmp_path / "o.mp4", style=tiny_model, on_progress=stop)
    assert probe(tmp_path / "o.mp4").frames == 3


def test_a_failing_model_leaves_no_output(tmp_path, make_clip, monkeypatch, tiny_model):
    from stream_nst.errors import ModelError

    def fail(self, image):
        raise ModelError("boom")

    monkeypatch.setattr("stream_nst.engine.StyleModel.run", fail)
    with pytest.raises(ModelError):
        stylize_video(make_clip(), tmp_path / "o.mp4", style=tiny_model)
    assert not (tmp_path / "o.mp4").exists()
    _no_leftovers(tmp_path)


@pytest.mark.parametrize(("name", "message"), [("o.png", "cannot hold h264"), ("o.xyz", "unknown")])
def test_output_format_that_cannot_hold_the_video(
    tmp_path, tiny_model, make_clip, run_cli, name, message
):
    result = run_cli("--style", tiny_model, make_clip(), "-o", tmp_path / name)
    assert_one_line_error(result, message)
    _no_leftovers(tmp_path)


def test_a_bad_file_in_a_folder_does_not_stop_the_others(tmp_path, tiny_model, make_clip, run_cli):
    (tmp_path / "in").mkdir()
    make_clip("in/good.mp4")
    (tmp_path / "in" / "empty.mp4").touch()
    result = run_cli("--style", tiny_model, tmp_path / "in", "-o", tmp_path / "out")
    assert result.code == 2
    errors = [line for line in result.err.splitlines() if line.startswith("stream-nst: error:")]
    assert len(errors) == 1 and "empty" in errors[0] and "Traceback" not in result.err
    assert probe(tmp_path / "out" / "good.mp4").frames == 12
