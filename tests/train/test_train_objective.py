"""The objective's terms, the trunk's precision, and training continued from an exported model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")

from tiny_settings import tiny_settings  # noqa: E402

from train_fast.errors import UsageError  # noqa: E402
from train_fast.export import read_onnx_weights  # noqa: E402
from train_fast.losses import LossWeights, StyleLoss, sliced_wasserstein  # noqa: E402
from train_fast.precision import choose_autocast  # noqa: E402
from train_fast.train import Trainer, TrainSettings  # noqa: E402
from train_fast.vgg import load_vgg_weights  # noqa: E402


def _settings(style: Path, photos: Path, out: Path, vgg: Path, **kw) -> TrainSettings:
    return tiny_settings(style, photos, out, vgg, **({"steps": 2, "warmup_steps": 1} | kw))


def test_the_objective_prints_its_terms(tiny_vgg_pth: Path) -> None:
    style = torch.rand(1, 3, 32, 32) * 255
    loss = StyleLoss(load_vgg_weights(tiny_vgg_pth), [style], LossWeights(colour=3.0))
    text = repr(loss)
    for term in ("ContentTerm", "GramStyleTerm", "ColourTerm", "TotalVariationTerm"):
        assert term in text
    assert "weight=3" in text and "relu4_2" in text
    values = loss(style, loss.content_targets(style)).as_floats()
    assert set(values) == {"content", "style", "colour", "tv", "total"}
    assert "ColourTerm" not in repr(StyleLoss(load_vgg_weights(tiny_vgg_pth), [style]))


def test_sliced_wasserstein_measures_the_palette() -> None:
    gen = torch.Generator().manual_seed(0)
    image = torch.rand(1, 3, 16, 16, generator=gen)
    directions = torch.nn.functional.normalize(torch.randn(3, 8, generator=gen), dim=0)
    own = image[0].flatten(1).T
    assert float(sliced_wasserstein(image, own, directions)) < 1e-10
    shuffled = own[torch.randperm(len(own), generator=gen)]  # same colours, other places
    assert float(sliced_wasserstein(image, shuffled, directions)) < 1e-10
    assert float(sliced_wasserstein(image, own * 0.5, directions)) > 1e-3


def test_bf16_is_chosen_only_where_the_cpu_has_it() -> None:
    assert choose_autocast("auto", frozenset({"avx2", "avx512_bf16"})) == torch.bfloat16
    assert choose_autocast("auto", frozenset({"avx2", "amx_bf16"})) == torch.bfloat16
    assert choose_autocast("auto", frozenset({"avx2", "avx512f"})) is None
    assert choose_autocast("fp32", frozenset({"avx512_bf16"})) is None
    assert choose_autocast("bf16", frozenset()) == torch.bfloat16
    with pytest.raises(ValueError, match="precision"):
        choose_autocast("fp8")


def test_bf16_trunk_keeps_the_losses_close(tiny_vgg_pth: Path) -> None:
    gen = torch.Generator().manual_seed(0)
    style, photo = (torch.rand(1, 3, 48, 48, generator=gen) * 255 for _ in range(2))
    out = torch.rand(1, 3, 48, 48, generator=gen) * 255
    vgg = load_vgg_weights(tiny_vgg_pth)
    fp32 = StyleLoss(vgg, [style])
    bf16 = StyleLoss(vgg, [style], autocast=torch.bfloat16)
    a = fp32(out, fp32.content_targets(photo)).as_floats()
    b = bf16(out, bf16.content_targets(photo)).as_floats()
    for key in ("content", "style"):
        assert b[key] == pytest.approx(a[key], rel=0.1)


def test_a_shipped_model_is_a_resume_point(
    tmp_path: Path, photo_dir: Path, style_image: Path, tiny_vgg_pth: Path
) -> None:
    first = Trainer(_settings(style_image, photo_dir, tmp_path, tiny_vgg_pth)).run()
    model = first.export.path
    state, meta = read_onnx_weights(model)
    trainer = Trainer(
        _settings(style_image, photo_dir, tmp_path, tiny_vgg_pth, init=model, steps=4)
    )  # steps is the total: two more
    assert set(state) == set(trainer.net.state_dict())
    for key, value in trainer.net.state_dict().items():
        assert torch.equal(value, state[key])
    assert trainer.step == first.steps  # the same style: counts continue
    assert json.loads(meta["training"])["steps"] == first.steps
    assert meta["paint_size"] == "360"
    result = trainer.run()
    assert result.steps == first.steps + 2
    training = json.loads(
        {p.key: p.value for p in onnx.load(str(model)).metadata_props}["training"]
    )
    assert training["steps"] == first.steps + 2
    assert training["initialised_from"]["style_name"] == "stripes"


def test_another_style_is_fine_tuned_from_a_model(
    tmp_path: Path, photo_dir: Path, style_image: Path, tiny_vgg_pth: Path
) -> None:
    base = Trainer(_settings(style_image, photo_dir, tmp_path, tiny_vgg_pth)).run().export.path
    tuned = Trainer(
        _settings(style_image, photo_dir, tmp_path, tiny_vgg_pth, name="other", init=base)
    )
    assert tuned.step == 0 and tuned.initialised_from == {
        "model": "stripes.onnx",
        "style_name": "stripes",
        "steps": 2,
    }
    with pytest.raises(UsageError, match="rtnet"):
        Trainer(_settings(style_image, photo_dir, tmp_path, tiny_vgg_pth, arch="rtnet", init=base))
