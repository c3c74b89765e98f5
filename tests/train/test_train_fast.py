"""train_fast mechanics at tiny sizes: Gatys, training, checkpoints, export round trip, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from tiny_settings import tiny_settings  # noqa: E402

from train_fast.artworks import artwork_for  # noqa: E402
from train_fast.cli import gatys_main, train_main  # noqa: E402
from train_fast.errors import InputError, ModelError, UsageError  # noqa: E402
from train_fast.gatys import GatysSettings, gatys_optimise  # noqa: E402
from train_fast.nets import ARCHITECTURES, build_net  # noqa: E402
from train_fast.train import LR_FINAL_FRACTION, Trainer, run_lr  # noqa: E402
from train_fast.vgg import load_vgg_weights  # noqa: E402

_settings = tiny_settings


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_gatys_lowers_the_loss(tiny_vgg_pth: Path, optimizer: str) -> None:
    vgg = load_vgg_weights(tiny_vgg_pth)
    gen = torch.Generator().manual_seed(0)
    content = torch.rand(1, 3, 48, 48, generator=gen) * 255
    style = torch.rand(1, 3, 48, 48, generator=gen) * 255
    seen: list[float] = []
    out, _losses = gatys_optimise(
        content,
        [style],
        vgg,
        GatysSettings(steps=6, optimizer=optimizer),
        on_progress=lambda p: seen.append(p.losses["total"]),
    )
    assert out.shape == content.shape and float(out.min()) >= 0 and float(out.max()) <= 255
    assert len(seen) == 6 and seen[-1] < seen[0]


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_train_exports_a_model_onnxruntime_reproduces(
    tmp_path: Path, photo_dir: Path, style_image: Path, tiny_vgg_pth: Path, arch: str
) -> None:
    trainer = Trainer(_settings(style_image, photo_dir, tmp_path, tiny_vgg_pth, arch=arch))
    result = trainer.run()
    assert result.steps == 3 and result.export.max_abs_diff <= 2
    model = onnx.load(str(tmp_path / "stripes.onnx"))
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["style_name"] == "stripes" and meta["architecture"] == arch
    assert meta["input_convention"] == "bgr_uint8_nhwc"
    assert int(meta["pad_multiple"]) == ARCHITECTURES[arch].PAD_MULTIPLE
    training = json.loads(meta["training"])
    assert training["steps"] == 3 and set(training["final_losses"]) >= {"style", "content", "tv"}
    assert meta["vgg_source"].startswith("torch:")
    session = ort.InferenceSession(
        str(tmp_path / "stripes.onnx"), providers=["CPUExecutionProvider"]
    )
    frame = np.random.default_rng(0).integers(0, 256, (1, 48, 72, 3), dtype=np.uint8)
    (out,) = session.run(None, {"frame": frame})
    assert out.shape == frame.shape and out.dtype == np.uint8
    assert (trainer.work_dir / "preview.png").exists()


def test_resume_continues_from_the_checkpoint(
    tmp_path: Path, photo_dir: Path, style_image: Path, tiny_vgg_pth: Path
) -> None:
    Trainer(_settings(style_image, photo_dir, tmp_path, tiny_vgg_pth, steps=2)).run()
    resumed = Trainer(
        _settings(style_image, photo_dir, tmp_path, tiny_vgg_pth, steps=4, resume=True)
    )
    assert resumed.step == 2
    assert resumed.run().steps == 4


def test_ctrl_c_saves_a_checkpoint(
    tmp_path: Path, photo_dir: Path, style_image: Path, tiny_vgg_pth: Path
) -> None:
    trainer = Trainer(_settings(style_image, photo_dir, tmp_path, tiny_vgg_pth, steps=50))

    def interrupt(ev) -> None:
        if ev.step == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        trainer.run(interrupt)
    state = torch.load(trainer.checkpoint_path, weights_only=True)
    assert state["step"] == 2


def test_time_budget_stops_and_exports(
    tmp_path: Path, photo_dir: Path, style_image: Path, tiny_vgg_pth: Path
) -> None:
    result = Trainer(
        _settings(style_image, photo_dir, tmp_path, tiny_vgg_pth, steps=10_000, minutes=0.0)
    ).run()
    assert result.stopped_early and result.steps == 0 and result.export.path.exists()


def test_bad_training_inputs(
    tmp_path: Path, photo_dir: Path, style_image: Path, tiny_vgg_pth: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no training photos"):
        Trainer(_settings(style_image, empty, tmp_path, tiny_vgg_pth))
    with pytest.raises(InputError, match="not found"):
        Trainer(_settings(tmp_path / "missing.jpg", photo_dir, tmp_path, tiny_vgg_pth))
    # The library names the setting at fault; the command line turns it into its flag.
    with pytest.raises(UsageError, match="style name") as caught:
        Trainer(_settings(style_image, photo_dir, tmp_path, tiny_vgg_pth, name="../evil"))
    assert caught.value.setting == "name"
    with pytest.raises(UsageError, match="crop size") as caught:
        Trainer(_settings(style_image, photo_dir, tmp_path, tiny_vgg_pth, size=60, arch="rtnet"))
    assert caught.value.setting == "size"
    with pytest.raises(InputError, match="no checkpoint to resume") as caught:
        Trainer(_settings(style_image, photo_dir, tmp_path, tiny_vgg_pth, resume=True))
    assert caught.value.setting == "resume"


def test_cli_train_and_gatys_end_to_end(
    tmp_path: Path, photo_dir: Path, style_image: Path, tiny_vgg_pth: Path, capsys, tiny_train_args
) -> None:
    code = train_main(tiny_train_args("--json"))
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["steps"] == 2 and Path(summary["model"]).exists()
    out = tmp_path / "g.png"
    content = next(photo_dir.iterdir())
    args = [
        str(content),
        f"{style_image}:1",
        "-o",
        str(out),
        "--size",
        "48",
        "--steps",
        "3",
        "--vgg",
        str(tiny_vgg_pth),
        "-q",
    ]
    assert gatys_main(args) == 0 and out.exists()
    with pytest.raises(UsageError, match="exists"):
        gatys_main(args)
    with pytest.raises(InputError):
        gatys_main(
            [
                str(tmp_path / "nope.jpg"),
                str(style_image),
                "-o",
                str(tmp_path / "x.png"),
                "--vgg",
                str(tiny_vgg_pth),
                "-q",
            ]
        )


def test_networks_are_fully_convolutional() -> None:
    for arch in ARCHITECTURES:
        net = build_net(arch).eval()
        m = net.PAD_MULTIPLE
        with torch.no_grad():
            y = net(torch.rand(1, 3, 5 * m, 7 * m) * 255)
        assert y.shape == (1, 3, 5 * m, 7 * m)


def test_the_exported_frame_graph_computes_the_trained_function() -> None:
    # paintnet's frame graph computes its last stage at half resolution (phase kernels):
    # the same pixels as the network it trains, with trained-looking norms and borders.
    gen = torch.Generator().manual_seed(0)
    for arch in ARCHITECTURES:
        net = build_net(arch).eval()
        for norm in (m for m in net.modules() if isinstance(m, torch.nn.InstanceNorm2d)):
            norm.weight.data.uniform_(0.5, 1.5, generator=gen)
            norm.bias.data.uniform_(-0.3, 0.3, generator=gen)
        m = net.PAD_MULTIPLE
        frame = torch.randint(0, 256, (1, 5 * m, 7 * m, 3), dtype=torch.uint8, generator=gen)
        with torch.no_grad():
            direct = net(frame.permute(0, 3, 1, 2).float())
            graph = net.forward_frame(frame).permute(0, 3, 1, 2).float()
        assert direct.std() > 0.1  # a picture, not a constant
        assert (graph - (direct + 0.5).clamp(0, 255).floor()).abs().max() <= 1, arch


def _export(net, path: Path, arch: str = "paintnet", **options):
    """Export ``net`` (of architecture ``arch``) as style ``x`` with placeholder metadata."""
    from train_fast.export import export_onnx

    return export_onnx(
        net,
        path,
        style_name="x",
        artwork=artwork_for("x"),
        architecture=arch,
        training={},
        vgg_source="none",
        **options,
    )


def test_reexport_rewrites_a_model_with_its_weights_and_metadata(tmp_path: Path) -> None:
    from train_fast.export import read_onnx_weights, reexport

    net = build_net("paintnet")
    with torch.no_grad():  # as after training: no two parameters alike (the exporter
        for param in net.parameters():  # merges equal initializers into one)
            param.add_(torch.randn_like(param) * 0.01)
    path = _export(net, tmp_path / "x.onnx").path
    before = read_onnx_weights(path)
    frame = np.random.default_rng(0).integers(0, 256, (1, 48, 64, 3), dtype=np.uint8)
    first = ort.InferenceSession(str(path)).run(None, {"frame": frame})[0]
    report = reexport(path)
    after = read_onnx_weights(path)
    assert report.path == path and report.max_abs_diff <= 2
    assert after[1] == before[1]  # metadata
    assert set(after[0]) == set(before[0])
    assert all(torch.equal(after[0][k], v) for k, v in before[0].items())
    again = ort.InferenceSession(str(path)).run(None, {"frame": frame})[0]
    assert np.abs(again.astype(int) - first.astype(int)).max() <= 1
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="not an ONNX model"):
        reexport(junk)
    assert junk.read_bytes() == b"not a model"


def test_fp16_copy_for_gpus(tmp_path: Path) -> None:
    report = _export(build_net("rtnet"), tmp_path / "x.fp16.onnx", "rtnet", fp16=True)
    meta = {p.key: p.value for p in onnx.load(str(report.path)).metadata_props}
    assert meta["precision"] == "fp16" and report.max_abs_diff <= 12


def test_an_export_that_fails_verification_keeps_the_model_it_would_replace(
    tmp_path: Path, monkeypatch
) -> None:
    from train_fast import export

    path = tmp_path / "x.onnx"
    path.write_bytes(b"the good model")

    def differs(*args, **kwargs) -> int:
        raise ModelError("the exported model differs from the torch network by 40 levels")

    monkeypatch.setattr(export, "verify_against_torch", differs)
    with pytest.raises(ModelError, match="differs"):
        _export(build_net("paintnet"), path)
    assert path.read_bytes() == b"the good model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.onnx"]


def test_verification_failures_are_model_errors(tmp_path: Path) -> None:
    from train_fast.export import verify_against_torch

    net = build_net("paintnet")
    report = _export(net, tmp_path / "x.onnx")
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.add_(1.0)
    with pytest.raises(ModelError, match="differs from the torch network"):
        verify_against_torch(net, report.path, atol_levels=0)


def test_warm_up_teaches_a_new_network_to_copy_its_input(
    photo_dir, style_image, tiny_vgg_pth, tmp_path
):
    trainer = Trainer(_settings(style_image, photo_dir, tmp_path, tiny_vgg_pth, warmup_steps=60))
    batch = trainer.sampler.batch(4)

    def copy_error() -> float:
        with torch.no_grad():
            return float(((trainer.net(batch) - batch) / 255.0).pow(2).mean())

    before = copy_error()
    trainer.warm_up()
    assert copy_error() < 0.5 * before


def test_each_run_ramps_the_learning_rate_up_then_settles_it() -> None:
    peak = 3e-3
    ramp = [run_lr(peak, step, 50, 0.0) for step in (1, 25, 50, 80)]
    assert ramp == pytest.approx([peak / 50, peak / 2, peak, peak])  # a fresh Adam eases in
    decay = [run_lr(peak, 1000, 50, done) for done in (0.0, 0.5, 1.0, 2.0)]
    assert decay == pytest.approx([peak, peak * (1 + LR_FINAL_FRACTION) / 2] + [peak * 0.1] * 2)
    assert run_lr(peak, 1, 0, 0.0) == peak  # no ramp asked for


def test_the_trainer_follows_the_schedule(
    tmp_path: Path, photo_dir: Path, style_image: Path, tiny_vgg_pth: Path
) -> None:
    trainer = Trainer(_settings(style_image, photo_dir, tmp_path, tiny_vgg_pth, steps=4))
    rates = []
    trainer.run(lambda p: rates.append(trainer.opt.param_groups[0]["lr"]))
    peak, ramp = trainer.s.learning_rate, trainer.s.lr_ramp_steps
    expected = [run_lr(peak, i + 1, ramp, i / 4) for i in range(4)]
    assert rates[-4:] == pytest.approx(expected)
