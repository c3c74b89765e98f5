"""Output files: their names, the checks before a run, and how they come into place.

Every output is written to a hidden temporary file beside its destination
(:func:`reserve_temp`) and moved into place when finished (:func:`publish`), so an
existing file is never half-overwritten. The sinks (:mod:`stream_nst.sinks`) and folder
runs share these rules.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from .errors import InputError, OutputError, UsageError
from .sources import IMAGE_SUFFIXES, folder_inputs, input_kind


def default_output(path: Path, kind: str, style: str) -> Path:
    """``clip.mp4`` -> ``clip.<style>.mp4`` beside the input (videos always get ``.mp4``)."""
    suffix = path.suffix if kind == "image" else ".mp4"
    return path.with_name(f"{path.stem}.{style}{suffix}")


def folder_output_name(path: Path) -> str:
    return path.name if path.suffix.lower() in IMAGE_SUFFIXES else f"{path.stem}.mp4"


def plan_outputs(
    inputs: list[str | Path], output: Path | None, style: str, overwrite: bool
) -> dict[Path, Path]:
    """Where each file of a batch goes: one file to ``output`` (default beside it), a
    folder's files or several files into the folder ``output`` (a folder's default:
    ``FOLDER-STYLE`` beside it). Cameras and streams are refused: they are not batches."""
    kinds = {str(spec): input_kind(spec) for spec in inputs}
    live = [spec for spec, kind in kinds.items() if kind in ("camera", "stream")]
    if live:
        raise UsageError(f"{live[0]} is a camera or stream: only files can be batched")
    if len(inputs) == 1 and kinds[str(inputs[0])] != "folder":
        src = Path(inputs[0])
        if not src.is_file():
            raise InputError(f"no such file: {src}")
        kind = "image" if src.suffix.lower() in IMAGE_SUFFIXES else "video"
        dst = output or default_output(src, kind, style)
        check_output(dst, overwrite)
        return {src: dst}
    if len(inputs) == 1:
        folder = Path(inputs[0])
        files = folder_inputs(folder)
        if not files:
            raise InputError(f"no images or videos in folder {folder}")
        return plan_folder(files, output or folder.with_name(f"{folder.name}-{style}"), overwrite)
    if output is None:
        raise UsageError("several inputs need an output folder", setting="output")
    folders = [spec for spec, kind in kinds.items() if kind == "folder"]
    if folders:
        raise UsageError(f"{folders[0]} is a folder: give it alone, or give its files")
    missing = [Path(spec) for spec in inputs if not Path(spec).is_file()]
    if missing:
        raise InputError(f"no such file: {missing[0]}")
    return plan_folder([Path(spec) for spec in inputs], output, overwrite)


def plan_folder(inputs: list[Path], out_dir: Path, overwrite: bool) -> dict[Path, Path]:
    """Where each input of a folder run goes (in ``out_dir``, made if missing); refuses
    before any work if the outputs clash or exist."""
    plan = {src: out_dir / folder_output_name(src) for src in inputs}
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"output {out_dir} is not a folder")
    if not out_dir.parent.is_dir():
        raise OutputError(f"output folder {out_dir.parent} does not exist")
    outputs = list(plan.values())
    clashes = {dst for dst in outputs if outputs.count(dst) > 1}
    if clashes:
        raise OutputError(f"several inputs would be written to {sorted(clashes)[0]}")
    if out_dir.is_dir():  # a new folder holds nothing to check
        for dst in outputs:
            check_output(dst, overwrite)
    try:
        out_dir.mkdir(exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output folder {out_dir}: {exc.strerror}") from exc
    return plan


def same_file(a: Path, b: Path) -> bool:
    """Whether ``b`` exists and is the file ``a`` (the same inode, whatever the path)."""
    try:
        return b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_output(path: Path, overwrite: bool) -> None:
    """Raise :class:`OutputError` if ``path`` cannot or may not be written."""
    folder = path.parent
    if not folder.is_dir():
        raise OutputError(f"output folder {folder} does not exist")
    if path.is_dir():
        raise OutputError(f"output {path} is a folder")
    if path.exists() and not overwrite:
        raise OutputError(f"{path} already exists", setting="overwrite")


def reserve_temp(path: Path) -> Path:
    """Create an empty hidden file beside ``path`` to write into; proves the folder writable."""
    temp = path.with_name(f".{path.stem}.{secrets.token_hex(4)}.partial{path.suffix}")
    try:
        with open(temp, "xb"):
            pass
    except OSError as exc:
        raise OutputError(f"cannot write to folder {path.parent}: {exc.strerror}") from exc
    return temp


def publish(temp: Path, path: Path, *, overwrite: bool, complete: bool = True) -> Path:
    """Move the finished ``temp`` into place; return where it went.

    A complete output replaces an existing ``path`` only with ``overwrite``: without it, a
    file that appeared at ``path`` during the run is left alone and OutputError names where
    the result went instead (``NAME.new.EXT``). A partial output (after Ctrl-C or a signal)
    never replaces a file: it goes beside it, as ``NAME.partial.EXT``.
    """
    if complete and overwrite:
        os.replace(temp, path)
        return path
    if _rename_if_free(temp, path):
        return path
    beside = _rename_beside(temp, path, "partial" if not complete else "new")
    if complete:
        raise OutputError(
            f"{path} appeared during the run and was not replaced; the result is in {beside}",
            setting="overwrite",
        )
    return beside


def _rename_beside(temp: Path, path: Path, tag: str) -> Path:
    """Rename ``temp`` to the first free ``NAME.TAG.EXT``, ``NAME.TAG-2.EXT``, ..."""
    number = 1
    while True:
        beside = path.with_name(
            f"{path.stem}.{tag}{'' if number == 1 else f'-{number}'}{path.suffix}"
        )
        if _rename_if_free(temp, beside):
            return beside
        number += 1


def _rename_if_free(temp: Path, path: Path) -> bool:
    """Rename ``temp`` to ``path`` unless ``path`` exists, atomically (a hard link where
    the file system has them): two runs racing for one name cannot both take it."""
    try:
        os.link(temp, path)
    except FileExistsError:
        return False
    except OSError:  # no hard links here (FAT, some network shares): check, then rename
        if path.exists():
            return False
        os.replace(temp, path)
        return True
    temp.unlink()
    return True
