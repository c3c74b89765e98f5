"""Fixtures for train_fast tests: a random-weight VGG-19 on disk, photos and a style image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def tiny_vgg_pth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """torchvision's VGG-19 conv trunk with random weights, saved as a state dict (no download)."""
    torch = pytest.importorskip("torch")
    from torchvision.models import vgg19

    path = tmp_path_factory.getbasetemp() / "vgg19_random.pth"
    if not path.exists():
        torch.manual_seed(0)
        features = vgg19(weights=None).features
        torch.save({f"features.{k}": v for k, v in features.state_dict().items()}, path)
    return path


@pytest.fixture
def photo_dir(tmp_path: Path) -> Path:
    """A folder of 24 small synthetic photos (smooth gradients plus shapes and noise)."""
    import cv2

    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:80, 0:96]
    for i in range(24):
        image = np.stack([(xx * (i + 1)) % 256, (yy * 3 + i * 10) % 256, (xx + yy) % 256], -1)
        image = image.astype(np.uint8)
        cv2.circle(
            image, (int(rng.integers(10, 80)), int(rng.integers(10, 70))), 12, (255, 255, 255), -1
        )
        image = np.clip(image + rng.normal(0, 8, image.shape), 0, 255).astype(np.uint8)
        cv2.imwrite(str(folder / f"photo_{i:02d}.jpg"), image)
    return folder


@pytest.fixture
def style_image(tmp_path: Path) -> Path:
    """A stripy synthetic 'painting'."""
    import cv2

    yy, xx = np.mgrid[0:96, 0:96]
    image = np.stack([(np.sin(xx / 3) + 1) * 120, (np.sin(yy / 5) + 1) * 120, (xx * 2) % 256], -1)
    path = tmp_path / "stripes.png"
    cv2.imwrite(str(path), image.astype(np.uint8))
    return path


@pytest.fixture
def tiny_train_args(photo_dir: Path, style_image: Path, tiny_vgg_pth: Path, tmp_path: Path):
    """``tiny_train_args(*extra, style=, photos=, vgg=)`` -> ``stream-nst train`` arguments
    (without the subcommand) for a 2-step 64 px run of style ``stripes`` into ``tmp_path``;
    ``extra`` flags are appended, the keywords replace the fixtures' inputs."""

    def args(
        *extra: object,
        style: Path = style_image,
        photos: Path = photo_dir,
        vgg: Path = tiny_vgg_pth,
    ) -> list[str]:
        base = [
            style,
            "--name",
            "stripes",
            "--content-dir",
            photos,
            "-o",
            tmp_path,
            "--vgg",
            vgg,
            "--steps",
            "2",
            "--size",
            "64",
            "--batch",
            "1",
            "--warmup-steps",
            "2",
            "--work-dir",
            tmp_path / "work",
            "-q",
            *extra,
        ]
        return [str(a) for a in base]

    return args
