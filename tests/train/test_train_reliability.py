"""Issue 11 for the training commands: no model replaced unasked, new model folders made,
output problems found before the work, clear messages for bad VGG files."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")


def test_train_refuses_to_replace_a_model_without_y(run_cli, tmp_path: Path, tiny_train_args):
    (tmp_path / "stripes.onnx").write_bytes(b"an earlier model")
    result = run_cli("train", *tiny_train_args())
    assert result.code == 2 and "Traceback" not in result.err
    assert result.err.strip().splitlines() == [
        f"stream-nst: error: {tmp_path / 'stripes.onnx'} already exists "
        "(use -y to overwrite it, or --resume)"
    ]
    assert (tmp_path / "stripes.onnx").read_bytes() == b"an earlier model"


def test_train_creates_a_new_models_folder(run_cli, tmp_path: Path, tiny_train_args):
    args = tiny_train_args(photos=tmp_path / "no-photos")
    new = tmp_path / "my-styles" / "new"
    args[args.index("-o") + 1] = str(new)
    result = run_cli("train", *args)
    assert new.is_dir()
    assert result.code == 2 and "does not exist" not in result.err  # fails on the photos


@pytest.mark.parametrize(("name", "message"), [("o.xyz", "cannot write .xyz"), ("no/o.png", "")])
def test_gatys_output_problems_are_found_before_the_work(
    run_cli, tmp_path: Path, style_image: Path, name: str, message: str
) -> None:
    out = tmp_path / name
    result = run_cli("gatys", style_image, style_image, "-o", out, "--vgg", tmp_path / "none.pth")
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1
    assert (message or f"output folder {out.parent} does not exist") in result.err


def test_a_fake_vgg_file_says_what_is_wrong(tmp_path: Path) -> None:
    from train_fast.errors import VGGLoadError
    from train_fast.vgg import load_vgg_weights

    fake = tmp_path / "fake.pth"
    fake.write_bytes(b"e" * 200)
    with pytest.raises(VGGLoadError, match=r"fake\.pth: not a torch state dict holding VGG-19"):
        load_vgg_weights(fake)


def test_ctrl_c_in_train_says_where_the_checkpoint_is(
    run_cli, tmp_path: Path, tiny_train_args, monkeypatch: pytest.MonkeyPatch
) -> None:
    from train_fast.train import Trainer

    train_step = Trainer.train_step
    calls = []

    def stopping_step(self: Trainer) -> dict[str, float]:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return train_step(self)

    monkeypatch.setattr(Trainer, "train_step", stopping_step)
    result = run_cli("train", *tiny_train_args())
    checkpoint = tmp_path / "work" / "checkpoint.pt"
    assert result.code == 130 and "Traceback" not in result.err
    assert result.err.strip().splitlines() == [
        f"train stripes: stopped at step 1; its checkpoint is {checkpoint} "
        "(--resume continues from it)",
        "stream-nst: error: interrupted",
    ]
    monkeypatch.setattr(Trainer, "train_step", train_step)
    loud = [a for a in tiny_train_args("--resume", "--json") if a != "-q"]
    resumed = run_cli("train", *loud)
    assert resumed.code == 0, resumed.err
    assert f"resuming {checkpoint} at step 1," in resumed.err
    assert '"steps": 2' in resumed.out
