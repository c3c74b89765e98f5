"""`stream-nst train` / `stream-nst gatys` through the real command: exit codes, messages,
and the trained model stylising video in the runtime."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")


def test_trained_model_stylises_video_in_the_runtime(
    run_cli, tmp_path: Path, tiny_train_args, make_clip
) -> None:
    assert run_cli("train", *tiny_train_args()).code == 0
    model = tmp_path / "stripes.onnx"
    clip = make_clip("clip.mp4", frames=6, size=(90, 70))
    result = run_cli("--style", model, clip, "-o", tmp_path / "out.mp4", "-q")
    assert result.code == 0, result.err
    import av

    with av.open(str(tmp_path / "out.mp4")) as c:
        frames = [f.to_ndarray(format="bgr24") for f in c.decode(video=0)]
    assert len(frames) == 6 and frames[0].shape == (70, 90, 3)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing_style", "style image not found"),
        ("empty_content", "no training photos"),
        ("corrupt_vgg", "cannot read VGG weights"),
        ("bad_name", "--name"),
    ],
)
def test_train_bad_inputs_exit_2_with_one_line(
    run_cli,
    tmp_path: Path,
    photo_dir: Path,
    style_image: Path,
    tiny_vgg_pth: Path,
    tiny_train_args,
    case: str,
    message: str,
) -> None:
    style, photos, vgg, extra = style_image, photo_dir, tiny_vgg_pth, []
    if case == "missing_style":
        style = tmp_path / "nope.jpg"
    elif case == "empty_content":
        photos = tmp_path / "empty"
        photos.mkdir()
    elif case == "corrupt_vgg":
        vgg = tmp_path / "vgg.pth"
        vgg.write_bytes(b"\x00garbage")
    args = ["train", *tiny_train_args(*extra, style=style, photos=photos, vgg=vgg)]
    if case == "bad_name":
        args[args.index("stripes")] = "Bad/Name"
    result = run_cli(*args)
    assert result.code == 2
    assert message in result.err and len(result.err.strip().splitlines()) == 1
    assert "Traceback" not in result.err


def test_gatys_bad_inputs_exit_2(run_cli, tmp_path: Path, style_image: Path) -> None:
    result = run_cli("gatys", tmp_path / "missing.jpg", style_image, "-o", tmp_path / "o.png")
    assert result.code == 2 and "not found" in result.err
    result = run_cli("gatys", style_image, style_image)  # no -o
    assert result.code == 2 and "-o" in result.err


def test_gatys_preserve_color_keeps_the_photos_colours(
    run_cli, tmp_path: Path, photo_dir: Path, style_image: Path, tiny_vgg_pth: Path
) -> None:
    import cv2
    import numpy as np

    content = next(photo_dir.iterdir())
    out = tmp_path / "kept.png"
    result = run_cli(
        "gatys",
        content,
        style_image,
        "-o",
        out,
        "--size",
        "48",
        "--steps",
        "2",
        "--vgg",
        tiny_vgg_pth,
        "--preserve-color",
        "-q",
    )
    assert result.code == 0, result.err
    photo = cv2.cvtColor(cv2.resize(cv2.imread(str(content)), (48, 40)), cv2.COLOR_BGR2YCrCb)
    kept = cv2.cvtColor(cv2.imread(str(out)), cv2.COLOR_BGR2YCrCb)
    assert kept.shape == photo.shape
    assert np.abs(kept[..., 1:].astype(int) - photo[..., 1:].astype(int)).mean() < 8


def test_training_progress_is_the_tools_progress_line(monkeypatch) -> None:
    import io

    from train_fast.cli import Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for stream, expected in ((Terminal(), "steps/s"), (io.StringIO(), "train x: step 10/20")):
        monkeypatch.setattr("sys.stderr", stream)
        bar = Progress(20, False, "train x")
        bar.update(10, {"style": "0.2"})
        bar.close()
        assert expected in stream.getvalue() and "style=0.2" in stream.getvalue()
