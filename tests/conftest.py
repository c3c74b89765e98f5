"""Fixtures of the runtime tests: the tiny style model, style folders, clips, the CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from rt_media import CliResult, write_clip
from tiny_model import build_tiny_model

from stream_nst.cli import main
from stream_nst.styles import MODELS_ENV


@pytest.fixture(autouse=True)
def _no_user_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see only the style folders they set up themselves."""
    monkeypatch.delenv(MODELS_ENV, raising=False)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A uint8 BGR NHWC style model with pad_multiple 4 (colours inverted, mixed a little)."""
    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny.onnx")


@pytest.fixture
def models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A STREAM_NST_MODELS folder holding the styles ``tiny`` and ``tiny8`` (pad 8)."""
    folder = tmp_path / "styles"
    build_tiny_model(folder / "tiny.onnx")
    build_tiny_model(folder / "tiny8.onnx", name="tiny8", pad_multiple=8)
    monkeypatch.setenv(MODELS_ENV, str(folder))
    return folder


@pytest.fixture
def make_clip(tmp_path: Path) -> Callable[..., Path]:
    """``make_clip("name.mp4", **write_clip options)`` -> a clip in the test's tmp dir."""

    def make(name: str = "clip.mp4", **options) -> Path:
        return write_clip(tmp_path / name, **options)

    return make


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run ``main([...])`` (paths may be Path objects) and capture what it printed."""

    def run(*args: object) -> CliResult:
        code = main([str(arg) for arg in args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run
