"""Real clips from ../shared/videos (skipped where absent): frame count, size, audio, time."""

from __future__ import annotations

import pytest
from rt_media import probe, shared_video

from stream_nst import Stylizer, stylize_video
from stream_nst.settings import EncodeSettings, StylizeSettings

pytestmark = pytest.mark.shared
FAST = EncodeSettings(preset="ultrafast")  # the encoder's speed is not under test


def test_cup_aac_audio_and_odd_frame_rate(tmp_path, tiny_model):
    src = shared_video("cup.mp4")
    summary = stylize_video(src, tmp_path / "cup.mp4", style=tiny_model, encode=FAST)
    before, after = probe(src), probe(tmp_path / "cup.mp4")
    assert summary.frames == after.frames == before.frames == 217
    assert (after.width, after.height) == (640, 480)
    assert after.seconds == pytest.approx(before.seconds, abs=1e-3)  # 26.78 fps kept
    assert after.audio == ["aac"] and after.audio_packets == before.audio_packets
    assert summary.audio == "copied" and summary.damage is None


def test_box_mp3_audio_and_repaired_timestamps(tmp_path, tiny_model):
    src = shared_video("box.mp4")
    summary = stylize_video(src, tmp_path / "box.mp4", style=tiny_model, encode=FAST)
    before, after = probe(src), probe(tmp_path / "box.mp4")
    assert summary.frames == after.frames == before.frames
    assert (after.width, after.height) == (640, 480)
    # box.mp4 stores decode-order timestamps; the output has the same ones, in display order
    assert after.seconds == pytest.approx(sorted(before.seconds), abs=1e-3)
    assert after.audio == ["mp3"] and after.audio_packets == before.audio_packets


def test_vtest_avi_without_audio(tmp_path, tiny_model):
    src = shared_video("vtest.avi")
    stylizer = Stylizer(tiny_model, settings=StylizeSettings(max_size=320))  # output stays full
    summary = stylize_video(src, tmp_path / "vtest.mp4", style=stylizer, encode=FAST)
    after = probe(tmp_path / "vtest.mp4")
    assert summary.frames == after.frames == 795
    assert (after.width, after.height) == (768, 576)
    assert after.audio == [] and summary.audio == "none"
    assert after.seconds[-1] == pytest.approx(79.4, abs=1e-3)


@pytest.mark.parametrize(("name", "frames"), [("tree.avi", 68), ("cityCC0.mpg", 190)])
def test_other_real_clips_are_read_whole(tmp_path, tiny_model, name, frames):
    summary = stylize_video(shared_video(name), tmp_path / "o.mp4", style=tiny_model, encode=FAST)
    assert summary.frames == probe(tmp_path / "o.mp4").frames == frames
    assert summary.damage is None
