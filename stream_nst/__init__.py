"""stream-nst: real-time neural style transfer for videos, images and live streams.

The Python API::

    from stream_nst import Stylizer, stylize_video
    frame_out = Stylizer("mosaic").stylize(frame_bgr)       # BGR uint8 HxWx3 in and out
    stylize_video("clip.mp4", "clip.mosaic.mp4", style="mosaic")
"""

from .convert import RunSummary, stylize_image, stylize_video
from .engine import Stylizer
from .errors import StreamNSTError
from .settings import EncodeSettings, EngineSettings, StylizeSettings

__all__ = [
    "EncodeSettings",
    "EngineSettings",
    "RunSummary",
    "StreamNSTError",
    "StylizeSettings",
    "Stylizer",
    "stylize_image",
    "stylize_video",
]
