"""Find style models: the installed ones, an extra folder, or a path to an ``.onnx`` file.

A style's name is its file name without ``.onnx``. Styles are searched in the folders of
the ``STREAM_NST_MODELS`` environment variable (``os.pathsep``-separated) first, then in
the models installed with the package (``stream_nst.models``).
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ModelError, UsageError
from .onnxmeta import read_metadata

MODELS_ENV = "STREAM_NST_MODELS"
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class StyleInfo:
    """A style model file and what its metadata says about it."""

    name: str
    path: Path
    metadata: Mapping[str, str] = field(default_factory=dict, compare=False)
    error: str | None = None
    """Why the file could not be read (listed styles only)."""

    @property
    def title(self) -> str:
        return self.metadata.get("artwork_title", "")

    @property
    def artist(self) -> str:
        return self.metadata.get("artwork_artist", "")

    @property
    def licence(self) -> str:
        return self.metadata.get("artwork_licence", "")

    def as_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "title": self.title,
            "artist": self.artist,
            "licence": self.licence,
            "path": str(self.path),
            **({"error": self.error} if self.error else {}),
        }


def style_files(environ: Mapping[str, str] = os.environ) -> dict[str, Path]:
    """Every style model file found, by name; an earlier folder hides a later same name."""
    found: dict[str, Path] = {}
    extra = [Path(p) for p in environ.get(MODELS_ENV, "").split(os.pathsep) if p]
    for folder in extra:
        for path in sorted(folder.glob("*.onnx")) if folder.is_dir() else ():
            found.setdefault(path.stem, path)
    for path in _installed_files():
        found.setdefault(path.stem, path)
    return dict(sorted(found.items()))


def installed_styles(environ: Mapping[str, str] = os.environ) -> list[StyleInfo]:
    """Every style found, sorted by name; an unreadable file has its reason in ``error``."""
    styles = []
    for name, path in style_files(environ).items():
        try:
            styles.append(load_style_info(path, name))
        except ModelError as exc:
            styles.append(StyleInfo(name, path, error=str(exc)))
    return styles


def resolve_style(spec: str | Path, environ: Mapping[str, str] = os.environ) -> StyleInfo:
    """Turn ``--style NAME|PATH.onnx`` into a :class:`StyleInfo`, checking the file."""
    text = str(spec)
    if isinstance(spec, Path) or text.lower().endswith(".onnx"):
        path = Path(text).expanduser()
        if not path.is_file():
            raise ModelError(f"style model not found: {path}")
        return load_style_info(path, path.stem)
    if "/" in text or "\\" in text or os.sep in text:
        raise UsageError(
            f"style name {text!r} contains a path separator; "
            "give a style name, or a path ending in .onnx"
        )
    if not _NAME.fullmatch(text):
        raise UsageError(f"invalid style name {text!r}")
    files = style_files(environ)
    if text not in files:
        names = ", ".join(files) or f"none installed (see {MODELS_ENV})"
        raise ModelError(f"unknown style {text!r}; available styles: {names}")
    return load_style_info(files[text], text)


def load_style_info(path: Path, name: str) -> StyleInfo:
    return StyleInfo(name=name, path=path, metadata=read_metadata(path))


def _installed_files() -> list[Path]:
    """The models shipped inside the package: ``stream_nst/models`` once installed (a data
    folder without ``__init__.py``, so a namespace package), the repository's ``models/``
    when running from a source checkout."""
    spec = importlib.util.find_spec("stream_nst.models")
    if spec is not None and spec.submodule_search_locations:
        roots = [Path(p) for p in spec.submodule_search_locations]
    else:
        roots = [Path(__file__).resolve().parents[1] / "models"]
    return sorted(
        entry
        for root in roots
        if root.is_dir()
        for entry in root.iterdir()
        if entry.name.endswith(".onnx")
    )
