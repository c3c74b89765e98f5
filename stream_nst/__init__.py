"""stream-nst: real-time neural style transfer for videos, images and live streams.

The Python API::

    from stream_nst import Stylizer, stylize_video
    frame_out = Stylizer("mosaic").stylize(frame_bgr)       # BGR uint8 HxWx3 in and out
    stylize_video("clip.mp4", "clip.mosaic.mp4", style="mosaic")

The names below are imported on first use, so importing the package (as the command does
before it installs its signal handlers) loads neither numpy nor onnxruntime.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "EncodeSettings": "settings",
    "EngineSettings": "settings",
    "FolderSummary": "convert",
    "RunSummary": "convert",
    "StreamNSTError": "errors",
    "StylizeSettings": "settings",
    "Stylizer": "engine",
    "stylize_folder": "convert",
    "stylize_image": "convert",
    "stylize_many": "convert",
    "stylize_video": "convert",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> object:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'stream_nst' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
