"""The command line: subcommands, styles listing, help, progress bar, no torch at run time."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import types
from pathlib import Path

import pytest
from rt_media import assert_one_line_error, probe
from tiny_model import build_tiny_model

import stream_nst
from stream_nst.cli import _Console, main
from stream_nst.progress import Progress
from stream_nst.styles import installed_styles, resolve_style


def _shipped() -> set[str]:
    """Names of the styles installed with the package (the test folders come on top)."""
    return {s.name for s in installed_styles(environ={})}


def test_styles_lists_name_artwork_and_file(models_dir, run_cli):
    result = run_cli("styles")
    assert result.code == 0
    lines = [line for line in result.out.splitlines() if line.split()[0] not in _shipped()]
    assert len(lines) == 2
    assert lines[0].startswith("tiny ") and "Tiny Test Pattern - Test Suite" in lines[0]
    assert str(models_dir / "tiny.onnx") in lines[0]


def test_styles_json(models_dir, run_cli):
    result = run_cli("styles", "--json")
    listed = json.loads(result.out)
    listed = [s for s in listed if s["name"] not in _shipped()]
    assert [s["name"] for s in listed] == ["tiny", "tiny8"]
    assert listed[0]["artist"] == "Test Suite" and listed[0]["path"].endswith("tiny.onnx")


def test_styles_lists_an_unreadable_model_without_failing(models_dir, run_cli):
    (models_dir / "broken.onnx").write_bytes(b"\x00" * 10)
    result = run_cli("styles", "--json")
    broken = next(s for s in json.loads(result.out) if s["name"] == "broken")
    assert "not an ONNX model" in broken["error"]


def test_styles_with_none_installed(run_cli):
    result = run_cli("styles", "--json")
    assert result.code == 0
    names = [s["name"] for s in json.loads(result.out)]
    assert names == [s.name for s in installed_styles()]


def test_earlier_folders_hide_later_styles_of_the_same_name(tmp_path, monkeypatch):
    first, second = tmp_path / "a", tmp_path / "b"
    build_tiny_model(first / "same.onnx", name="first")
    build_tiny_model(second / "same.onnx", name="second")
    build_tiny_model(second / "other.onnx")
    monkeypatch.setenv("STREAM_NST_MODELS", f"{first}{':'}{second}")
    assert resolve_style("same").metadata["style_name"] == "first"
    assert [s.name for s in installed_styles() if s.name not in _shipped()] == ["other", "same"]


def test_installed_models_are_found_in_the_package(tmp_path, monkeypatch):
    # As installed from the wheel: site-packages/stream_nst/models/*.onnx, a data folder
    # without __init__.py (a namespace package).
    models = tmp_path / "stream_nst" / "models"
    models.mkdir(parents=True)
    build_tiny_model(models / "shipped.onnx", name="shipped")
    monkeypatch.setattr(stream_nst, "__path__", [*stream_nst.__path__, str(models.parent)])
    assert resolve_style("shipped").path == models / "shipped.onnx"


def test_a_file_named_like_a_subcommand_is_given_with_a_path(
    tmp_path, tiny_model, make_clip, run_cli, monkeypatch
):
    make_clip("styles.mp4").rename(tmp_path / "styles")
    monkeypatch.chdir(tmp_path)
    result = run_cli("--style", tiny_model, "./styles", "-o", "out.mp4")
    assert result.code == 0, result.err
    assert probe(tmp_path / "out.mp4").frames == 12


def test_help_and_version(run_cli):
    result = run_cli("--help")
    assert result.code == 0 and "--style NAME|PATH.onnx" in result.out
    for flag in ("--overwrite", "--json", "--quiet", "--strength", "--preserve-color"):
        assert flag in result.out
    for flag in ("--max-size", "--device", "--threads", "--no-smooth", "--codec", "--crf"):
        assert flag in result.out
    assert run_cli("--version").code == 0


def test_train_without_torch_says_how_to_install_it(run_cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    result = run_cli("train", "style.jpg")
    assert_one_line_error(result, 'pip install "stream-nst[train]"')


@pytest.mark.parametrize("command", ["train", "gatys", "interpolate"])
def test_training_commands_go_to_train_fast(run_cli, monkeypatch, command):
    calls = []
    fake = types.ModuleType("train_fast.cli")
    fake.COMMANDS = {
        name: (lambda argv, name=name, code=code: calls.append((name, argv)) or code)
        for name, code in (("train", 0), ("gatys", 3), ("interpolate", 4))
    }
    package = types.ModuleType("train_fast")
    package.cli = fake
    monkeypatch.setitem(sys.modules, "torch", types.ModuleType("torch"))
    monkeypatch.setitem(sys.modules, "train_fast", package)
    monkeypatch.setitem(sys.modules, "train_fast.cli", fake)
    code = main([command, "x.jpg", "--steps", "2"])
    assert calls == [(command, ["x.jpg", "--steps", "2"])]
    assert code == {"train": 0, "gatys": 3, "interpolate": 4}[command]


def test_measure_flicker_is_dispatched_lazily(run_cli, monkeypatch):
    fake = types.ModuleType("stream_nst.flicker_cli")
    fake.main = lambda argv: 0 if argv == ["a.mp4", "b.mp4"] else 1
    monkeypatch.setitem(sys.modules, "stream_nst.flicker_cli", fake)
    assert main(["measure-flicker", "a.mp4", "b.mp4"]) == 0
    monkeypatch.setitem(sys.modules, "stream_nst.flicker_cli", None)  # as if not installed
    assert_one_line_error(run_cli("measure-flicker", "a.mp4"), "not available")


def test_progress_bar_only_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for stream, quiet, drawn in ((Terminal(), False, True), (Terminal(), True, False)):
        console = _Console(io.StringIO(), stream)
        console.quiet = quiet
        console.progress(Progress(done=10, total=20, elapsed=2.0, name="clip.mp4"))
        console.end_bar()
        text = stream.getvalue()
        assert ("10/20 frames" in text and "5.0 fps" in text and "ETA 0:02" in text) == drawn
    plain = io.StringIO()
    _Console(io.StringIO(), plain).progress(Progress(done=1, total=2, elapsed=1.0))
    assert plain.getvalue() == ""


def test_a_runtime_run_never_imports_torch(tmp_path, tiny_model, make_clip):
    clip, out = make_clip(audio="aac"), tmp_path / "o.mp4"
    script = (
        "import sys\n"
        "from stream_nst.cli import main\n"
        f"code = main(['--style', {str(tiny_model)!r}, {str(clip)!r}, '-o', {str(out)!r}, '-q'])\n"
        "code = code or main(['styles', '--json'])\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "sys.exit(code)\n"
    )
    package_root = Path(stream_nst.__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env={"PYTHONPATH": str(package_root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert probe(out).frames == 12


def test_smooth_strength_flag(run_cli, tiny_model, make_clip, tmp_path) -> None:
    clip = make_clip("clip.mp4", frames=4)
    ok = run_cli(
        "--style", tiny_model, clip, "-o", tmp_path / "a.mp4", "--smooth-strength", "0.3", "-q"
    )
    assert ok.code == 0, ok.err
    bad = run_cli("--style", tiny_model, clip, "-o", tmp_path / "b.mp4", "--smooth-strength", "1.5")
    assert bad.code == 2 and "strength" in bad.err
