"""Make the committed sample pictures and clip from the CC0 sample clip ``samples/city.mp4``.

* ``samples/gallery.png``: the clip's middle frame through every installed style, labelled.
* ``samples/city_mosaic.mp4``: the first 2 seconds of the clip through ``stream-nst`` (mosaic,
  default smoothing), as the README's main command makes it.

    python samples/make_samples.py [--seconds 3]

Uses only the public runtime API (``stream_nst``), as an embedding application would.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import av
import cv2
import numpy as np

from stream_nst import EncodeSettings, Stylizer, stylize_video
from stream_nst.styles import installed_styles

SAMPLES = Path(__file__).resolve().parent
CLIP = SAMPLES / "city.mp4"
TILE_WIDTH = 256
COLUMNS = 5


def middle_frame(path: Path) -> np.ndarray:
    capture = cv2.VideoCapture(str(path))
    capture.set(cv2.CAP_PROP_POS_FRAMES, capture.get(cv2.CAP_PROP_FRAME_COUNT) // 2)
    ok, frame = capture.read()
    capture.release()
    if not ok:
        raise SystemExit(f"cannot read a frame of {path}")
    return frame


def tile(label: str, image: np.ndarray) -> np.ndarray:
    """``image`` scaled to the tile width under a white label band."""
    height = round(image.shape[0] * TILE_WIDTH / image.shape[1])
    picture = cv2.resize(image, (TILE_WIDTH, height), interpolation=cv2.INTER_AREA)
    band = np.full((26, TILE_WIDTH, 3), 255, np.uint8)
    cv2.putText(band, label, (5, 19), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
    return cv2.copyMakeBorder(
        np.vstack([band, picture]), 3, 3, 3, 3, cv2.BORDER_CONSTANT, value=(255, 255, 255)
    )


def gallery(frame: np.ndarray) -> np.ndarray:
    """The frame and every installed style's output of it, in rows of ``COLUMNS`` tiles."""
    tiles = [tile("input (CC0 street clip)", frame)]
    for style in installed_styles():
        tiles.append(tile(style.name, Stylizer(style).stylize(frame)))
    blank = np.full_like(tiles[0], 255)
    tiles += [blank] * (-len(tiles) % COLUMNS)
    rows = [np.hstack(tiles[i : i + COLUMNS]) for i in range(0, len(tiles), COLUMNS)]
    return np.vstack(rows)


def sample_clip(seconds: float, out: Path) -> None:
    """The first ``seconds`` of the clip (its packets copied, no re-encode) through the
    default pipeline, encoded small."""
    trimmed = SAMPLES / ".city_head.mp4"
    with av.open(str(CLIP)) as src, av.open(str(trimmed), "w") as dst:
        video = src.streams.video[0]
        copy = dst.add_stream_from_template(video)
        for packet in src.demux(video):
            if packet.pts is None or packet.pts * video.time_base >= seconds:
                continue  # the flush packet, or past the end (B-frames can come out of order)
            packet.stream = copy
            dst.mux(packet)
    try:
        encode = EncodeSettings(crf=30, preset="slow")
        stylize_video(trimmed, out, style="mosaic", encode=encode, overwrite=True)
    finally:
        trimmed.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--seconds", type=float, default=2.0, help="length of the sample clip")
    args = p.parse_args(argv)
    picture = gallery(middle_frame(CLIP))
    cv2.imwrite(str(SAMPLES / "gallery.png"), picture, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    sample_clip(args.seconds, SAMPLES / "city_mosaic.mp4")
    for name in ("gallery.png", "city_mosaic.mp4"):
        print(f"wrote samples/{name} ({(SAMPLES / name).stat().st_size / 1e3:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
