"""The built-in style library's recipes and where each style's training starts."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")

from tiny_model import build_tiny_model

from train_fast.artworks import KNOWN_ARTWORKS
from train_fast.library import ARCH, LIBRARY, library_settings, main, starting_point


def _model(path: Path, architecture: str) -> Path:
    return build_tiny_model(path, metadata={"style_name": path.stem, "architecture": architecture})


def test_every_library_style_has_a_known_artwork() -> None:
    assert set(LIBRARY) <= set(KNOWN_ARTWORKS)
    assert len(LIBRARY) >= 9 and "mosaic" in LIBRARY


def test_a_style_continues_from_its_shipped_model(tmp_path: Path) -> None:
    assert starting_point("candy", tmp_path) is None  # nothing shipped: a new network
    _model(tmp_path / "mosaic.onnx", ARCH)
    assert starting_point("candy", tmp_path) == tmp_path / "mosaic.onnx"  # fine-tuned
    _model(tmp_path / "candy.onnx", "rtnet")  # an older architecture is not continued
    assert starting_point("candy", tmp_path) == tmp_path / "mosaic.onnx"
    _model(tmp_path / "candy.onnx", ARCH)
    assert starting_point("candy", tmp_path) == tmp_path / "candy.onnx"  # continued
    assert starting_point("mosaic", tmp_path) == tmp_path / "mosaic.onnx"


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
    assert settings.weights.style == recipe.style_weight
    assert settings.weights.colour == recipe.colour_weight
    assert settings.artwork.artist == KNOWN_ARTWORKS["udnie"].artist


def test_unknown_style_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["no_such_style", "--styles-dir", str(tmp_path), "--content-dir", str(tmp_path)])
