"""The built-in style library as installed: every style present, small, and described."""

from __future__ import annotations

import json

import numpy as np
import pytest

from stream_nst import Stylizer
from stream_nst.styles import installed_styles

LIBRARY = {
    "mosaic",
    "candy",
    "udnie",
    "starry_night",
    "great_wave",
    "the_scream",
    "composition_vii",
    "feathers",
    "monet_houses_of_parliament",
}
MAX_BYTES = 2_000_000


@pytest.fixture(scope="module")
def shipped() -> dict:
    return {s.name: s for s in installed_styles({})}


def test_every_library_style_is_installed(shipped: dict) -> None:
    assert set(shipped) >= LIBRARY


@pytest.mark.parametrize("name", sorted(LIBRARY))
def test_a_shipped_style_is_small_credited_and_documents_its_training(
    shipped: dict, name: str
) -> None:
    style = shipped[name]
    assert style.error is None
    assert style.path.stat().st_size <= MAX_BYTES
    assert style.title and style.artist and style.licence
    meta = style.metadata
    assert meta["architecture"] == "paintnet"
    assert int(meta["paint_size"]) >= 256  # painted at its own size, not the frame's
    assert meta["input_convention"] == "bgr_uint8_nhwc"
    assert meta["vgg_source"]
    training = json.loads(meta["training"])
    assert training["steps"] > 0 and training["seconds"] > 0
    assert {"content", "style", "colour", "tv"} <= set(training["loss_weights"])
    assert {"content", "style"} <= set(training["final_losses"])


@pytest.mark.parametrize("name", sorted(LIBRARY))
def test_a_shipped_style_paints_a_frame(shipped: dict, name: str) -> None:
    frame = np.random.default_rng(0).integers(0, 256, (90, 120, 3), dtype=np.uint8)
    out = Stylizer(shipped[name]).stylize(frame)
    assert out.shape == frame.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - frame.astype(int)).mean() > 5  # it changes the picture
