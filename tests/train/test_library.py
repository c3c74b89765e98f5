"""The built-in style library's recipes."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")

from train_fast.artworks import KNOWN_ARTWORKS
from train_fast.library import LIBRARY, main, train_arguments
from train_fast.train import CHECKPOINT_FILE


def test_every_library_style_has_a_known_artwork() -> None:
    assert set(LIBRARY) <= set(KNOWN_ARTWORKS)
    assert len(LIBRARY) >= 8 and "mosaic" in LIBRARY


def test_training_resumes_when_a_checkpoint_exists(tmp_path: Path) -> None:
    fresh = train_arguments("candy", Path("styles"), tmp_path, steps=100, minutes=5)
    assert fresh[0] == str(Path("styles") / "candy.jpg")
    assert "--resume" not in fresh
    assert fresh[fresh.index("--style-weight") + 1] == str(LIBRARY["candy"].style_weight)
    assert fresh[fresh.index("--minutes") + 1] == "5"
    (tmp_path / CHECKPOINT_FILE).write_bytes(b"")
    assert "--resume" in train_arguments("candy", Path("styles"), tmp_path, 100, None)


def test_unknown_style_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["no_such_style", "--styles-dir", str(tmp_path), "--content-dir", str(tmp_path)])
