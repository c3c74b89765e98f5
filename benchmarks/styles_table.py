"""The README's table of shipped styles, from each model's own metadata.

    python benchmarks/styles_table.py

(The gallery picture of every style, ``samples/gallery.png``, is made by
``samples/make_samples.py``.)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from stream_nst.styles import installed_styles  # noqa: E402


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
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    for style in sorted((s for s in installed_styles() if not s.error), key=lambda s: s.name):
        print(table_row(style))
    return 0


if __name__ == "__main__":
    sys.exit(main())
