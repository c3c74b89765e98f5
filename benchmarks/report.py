"""Shared by the benchmark scripts: the machine description and BENCHMARKS.md sections.

Each script owns one section of BENCHMARKS.md between ``<!-- NAME:start -->`` and
``<!-- NAME:end -->`` and rewrites only that, so scripts can be rerun independently.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
from pathlib import Path

import cv2
import numpy as np

BENCHMARKS_MD = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"


def machine() -> str:
    """One line: CPU model (with its family and model numbers, which tell CPU generations of
    one name apart, and whether it has native bf16), cores usable, memory, OS, Python."""
    model = platform.processor() or platform.machine()
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        found = re.search(r"Model name:\s*(.+)", out)
        family = re.search(r"CPU family:\s*(\d+)", out)
        number = re.search(r"^Model:\s*(\d+)", out, re.MULTILINE)
        bf16 = "avx512_bf16" if re.search(r"\bavx512_bf16\b", out) else "no avx512_bf16"
        model = found.group(1).strip() if found else model
        model += (
            f" (family {family.group(1) if family else '?'}"
            f" model {number.group(1) if number else '?'}, {bf16})"
        )
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{model}, {cores} cores, {mem_gib:.0f} GiB, no GPU; {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )


def markdown_table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def write_section(name: str, body: str, path: Path = BENCHMARKS_MD) -> None:
    """Replace (or append) the section ``name`` of BENCHMARKS.md with ``body``."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{body.strip()}\n{end}"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if start in text and end in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)


def labelled_strip(panels: list[tuple[str, np.ndarray]], height: int = 200) -> np.ndarray:
    """BGR images side by side at one height, each with its label in a band above it."""
    tiles = []
    for label, image in panels:
        width = round(image.shape[1] * height / image.shape[0])
        tile = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
        band = np.full((24, width, 3), 255, np.uint8)
        cv2.putText(band, label, (4, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
        tiles.append(np.vstack([band, tile]))
        tiles.append(np.full((height + 24, 4, 3), 255, np.uint8))
    return np.hstack(tiles[:-1])


def publish(name: str, lines: list[str], *, write: bool = True) -> None:
    """Print a benchmark's report and (unless ``write`` is false: a trial run) write it as
    section ``name`` of BENCHMARKS.md."""
    report = "\n".join(lines)
    print(report)
    if write:
        write_section(name, report)
