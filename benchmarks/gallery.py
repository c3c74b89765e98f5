"""The style gallery: every shipped style on one frame of the CC0 sample clip.

Writes ``samples/gallery.png`` (the frame, then each style, 5 to a row, labelled) and
prints the README's table of shipped styles from each model's own metadata.

    python benchmarks/gallery.py [--frame 40]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from stream_nst.engine import Stylizer  # noqa: E402
from stream_nst.flicker import read_frames  # noqa: E402
from stream_nst.styles import installed_styles  # noqa: E402

TILE_HEIGHT = 160
PER_ROW = 5


def labelled(image: np.ndarray, text: str) -> np.ndarray:
    scale = TILE_HEIGHT / image.shape[0]
    tile = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    cv2.rectangle(tile, (0, 0), (8 + 9 * len(text), 20), (0, 0, 0), cv2.FILLED)
    cv2.putText(tile, text, (4, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1)
    return tile


def table_row(style) -> str:
    meta = style.metadata
    training = json.loads(meta.get("training", "{}"))
    weights = training.get("loss_weights", {})
    minutes = training.get("seconds", 0) / 60
    base = (training.get("initialised_from") or {}).get("style_name", style.name)
    origin = "from a new network" if base == style.name else f"fine-tuned from `{base}`"
    return (
        f"| `{style.name}` | {meta.get('artwork_title', '?')} — {meta.get('artwork_artist', '?')}"
        f" | {meta.get('artwork_licence', '?')} | {training.get('steps')} steps, "
        f"{minutes:.1f} min, {origin}; style {weights.get('style'):g} / colour "
        f"{weights.get('colour'):g} / content {weights.get('content'):g} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, default=ROOT / "samples" / "city.mp4")
    parser.add_argument("--frame", type=int, default=40)
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "samples" / "gallery.png")
    args = parser.parse_args(argv)
    frame = list(read_frames(args.clip, max_frames=args.frame + 1))[-1]
    styles = sorted((s for s in installed_styles() if not s.error), key=lambda s: s.name)
    tiles = [labelled(frame, "photo")]
    tiles += [labelled(Stylizer(s).stylize(frame), s.name) for s in styles]
    width = tiles[0].shape[1]
    blank = np.full_like(tiles[0], 255)
    tiles += [blank] * (-len(tiles) % PER_ROW)
    rows = [np.hstack(tiles[i : i + PER_ROW]) for i in range(0, len(tiles), PER_ROW)]
    cv2.imwrite(str(args.output), np.vstack(rows), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"wrote {args.output} ({PER_ROW * width}x{len(rows) * TILE_HEIGHT})")
    for style in styles:
        print(table_row(style))
    return 0


if __name__ == "__main__":
    sys.exit(main())
