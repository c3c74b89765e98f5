"""The built-in style library's recipes and where each style's training starts."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest

pytest.importorskip("torch")

from tiny_model import build_tiny_model

from train_fast.artworks import KNOWN_ARTWORKS
from train_fast.cli import library_main as main
from train_fast.library import ARCH, LIBRARY, library_settings, starting_point
from train_fast.train import TRAIN_WEIGHTS, TrainSettings


def _model(path: Path, architecture: str, weights: dict, style_size: int = 384) -> Path:
    training = {"loss_weights": weights, "style_size": style_size}
    metadata = {"style_name": path.stem, "architecture": architecture}
    return build_tiny_model(path, metadata=metadata | {"training": json.dumps(training)})


def test_every_library_style_has_a_known_artwork() -> None:
    assert set(LIBRARY) <= set(KNOWN_ARTWORKS)
    assert len(LIBRARY) >= 9 and "mosaic" in LIBRARY


def test_a_style_continues_only_a_model_of_its_recipe(tmp_path: Path) -> None:
    style, other = sorted(LIBRARY)[:2]
    recipe = asdict(LIBRARY[style].weights)
    assert starting_point(style, tmp_path) is None  # nothing shipped: a new network
    _model(tmp_path / f"{other}.onnx", ARCH, recipe)  # another style's, this recipe
    assert starting_point(style, tmp_path) is None  # never fine-tuned from another style
    own = tmp_path / f"{style}.onnx"
    _model(own, "rtnet", recipe)  # an older architecture starts anew
    assert starting_point(style, tmp_path) is None
    _model(own, ARCH, recipe | {"content": 0.5})  # an older objective
    assert starting_point(style, tmp_path) is None
    _model(own, ARCH, recipe, style_size=512)  # another stroke scale
    assert starting_point(style, tmp_path) is None
    _model(own, ARCH, recipe)
    assert starting_point(style, tmp_path) == own  # continued
    _model(tmp_path / f"{other}.onnx", ARCH, asdict(LIBRARY[other].weights))
    assert starting_point(other, tmp_path) == tmp_path / f"{other}.onnx"  # its own recipe


def test_a_refined_recipe_continues_the_networks_of_the_weights_it_refines(
    tmp_path: Path,
) -> None:
    refined = LIBRARY["great_wave"]
    assert refined.refines == (TRAIN_WEIGHTS,) and refined.weights.style > TRAIN_WEIGHTS.style
    _model(tmp_path / "great_wave.onnx", ARCH, asdict(TRAIN_WEIGHTS))  # trained before the change
    assert starting_point("great_wave", tmp_path) == tmp_path / "great_wave.onnx"
    # A refinement of refinements continues every earlier lineage.
    again = LIBRARY["candy"]
    assert len(again.refines) > 2 and again.refines[0] == TRAIN_WEIGHTS
    for earlier in again.refines:
        _model(tmp_path / "candy.onnx", ARCH, asdict(earlier))
        assert starting_point("candy", tmp_path) == tmp_path / "candy.onnx"
    plain = next(name for name, recipe in LIBRARY.items() if not recipe.refines)
    _model(tmp_path / f"{plain}.onnx", ARCH, asdict(refined.weights))  # not its lineage
    assert starting_point(plain, tmp_path) is None


def test_library_settings_follow_the_recipe(tmp_path: Path) -> None:
    settings = library_settings(
        "udnie",
        styles_dir=tmp_path / "styles",
        content_dir=tmp_path / "photos",
        models_dir=tmp_path,
        vgg=None,
        steps=100,
        minutes=5,
        work_dir=tmp_path / "work",
    )
    recipe = LIBRARY["udnie"]
    assert settings.style_image == tmp_path / "styles" / "udnie.jpg"
    assert settings.arch == ARCH and settings.minutes == 5 and settings.init is None
    assert settings.weights == recipe.weights
    assert settings.stability_weight == recipe.stability
    assert settings.learning_rate == recipe.learning_rate < TrainSettings.learning_rate
    assert settings.artwork.artist == KNOWN_ARTWORKS["udnie"].artist


def test_unknown_style_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["no_such_style", "--styles-dir", str(tmp_path), "--content-dir", str(tmp_path)])
