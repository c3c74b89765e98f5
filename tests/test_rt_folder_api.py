"""The library's folder run (stylize_folder) and the output rules it shares (outputs)."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest
from rt_media import gradient_frame

from stream_nst import stylize_folder
from stream_nst.errors import InputError, OutputError
from stream_nst.outputs import default_output, plan_folder


def test_stylize_folder_runs_every_input_and_records_failures(tmp_path, tiny_model, make_clip):
    folder = tmp_path / "in"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), gradient_frame(0, 64, 48))
    make_clip("in/b.mov", frames=4)
    (folder / "c.mp4").write_bytes(b"not a video")
    failed = []
    result = stylize_folder(
        folder, style=tiny_model, on_failure=lambda src, error: failed.append(src.name)
    )
    assert result.output_dir == tmp_path / "in-tiny"
    assert sorted(p.name for p in result.output_dir.iterdir()) == ["a.png", "b.mp4"]
    assert [s.frames for s in result.done] == [1, 4]
    assert failed == ["c.mp4"] and isinstance(result.failures[str(folder / "c.mp4")], InputError)


def test_a_folder_plan_is_refused_before_any_work(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.mp4").write_bytes(b"earlier")
    with pytest.raises(OutputError, match="several inputs"):
        plan_folder([tmp_path / "a.mov", tmp_path / "a.mkv"], out, overwrite=True)
    with pytest.raises(OutputError, match="already exists") as caught:
        plan_folder([tmp_path / "a.mov"], out, overwrite=False)
    assert caught.value.setting == "overwrite"
    assert plan_folder([tmp_path / "a.mov"], out, overwrite=True) == {
        tmp_path / "a.mov": out / "a.mp4"
    }


def test_default_output_names():
    assert default_output(Path("x/clip.mov"), "video", "mosaic") == Path("x/clip.mosaic.mp4")
    assert default_output(Path("x/photo.jpg"), "image", "mosaic") == Path("x/photo.mosaic.jpg")


def test_the_input_kind_is_decided_in_one_place(tmp_path):
    from stream_nst.sources import input_kind

    assert input_kind("0") == input_kind(2) == "camera"
    assert input_kind("rtsp://camera.local/live") == "stream"
    assert input_kind(tmp_path) == "folder"
    assert input_kind(tmp_path / "a.JPG") == "image"
    assert input_kind(tmp_path / "a.mov") == "video"
