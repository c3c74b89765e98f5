"""The quality benchmark's metrics (benchmarks/quality_metrics.py) on the real VGG-19."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch")

REPO = Path(__file__).resolve().parents[2]
SHARED_VGG = REPO.parent / "shared" / "vgg19"
pytestmark = pytest.mark.skipif(not SHARED_VGG.is_dir(), reason="../shared/vgg19 absent")
sys.path.insert(0, str(REPO))

from benchmarks.quality_metrics import (  # noqa: E402
    QualityMeter,
    colour_distance,
    gram_ratios,
    resize_short_side,
)
from train_fast.vgg import load_vgg_weights  # noqa: E402

SIDE = 96  # small, so the test is fast; the benchmark uses 384


@pytest.fixture(scope="module")
def meter() -> QualityMeter:
    return QualityMeter(load_vgg_weights(SHARED_VGG), side=SIDE)


@pytest.fixture
def photo(photo_dir: Path) -> np.ndarray:
    return cv2.imread(str(photo_dir / "photo_03.jpg"))


@pytest.fixture
def painting(style_image: Path) -> np.ndarray:
    return cv2.imread(str(style_image))


def test_colour_distance_is_zero_to_itself_and_grows_with_a_colour_shift(
    photo: np.ndarray,
) -> None:
    image = resize_short_side(photo, SIDE)
    shifted = np.clip(image.astype(np.int16) + np.array([40, 0, -40]), 0, 255).astype(np.uint8)
    assert colour_distance(image, image) == pytest.approx(0.0, abs=1e-9)
    assert colour_distance(image, shifted) > 5.0
    assert colour_distance(image, shifted) == colour_distance(image, shifted)  # seeded


def test_gram_ratio_is_one_for_the_photo_and_zero_for_the_painting(
    meter: QualityMeter, photo: np.ndarray, painting: np.ndarray
) -> None:
    photo_stats, painting_stats = meter.stats(photo), meter.stats(painting)
    scores = meter.score(photo, photo_stats, painting_stats)
    assert set(scores.gram) == {"relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"}
    assert scores.gram == pytest.approx(dict.fromkeys(scores.gram, 1.0), abs=1e-5)
    assert scores.gram_mean == pytest.approx(1.0, abs=1e-5)
    to_painting = gram_ratios(painting_stats, photo_stats, painting_stats)
    assert to_painting == pytest.approx(dict.fromkeys(to_painting, 0.0), abs=1e-6)


def test_content_change_is_zero_for_the_photo_and_positive_for_the_painting(
    meter: QualityMeter, photo: np.ndarray, painting: np.ndarray
) -> None:
    photo_stats, painting_stats = meter.stats(photo), meter.stats(painting)
    assert meter.score(photo, photo_stats, painting_stats).content == pytest.approx(0, abs=1e-6)
    painted = cv2.resize(painting, photo.shape[1::-1])
    assert meter.score(painted, photo_stats, painting_stats).content > 0.3
