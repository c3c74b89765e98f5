"""One page's live session: its style, strength, smoothing, recording and snapshots.

A :class:`StreamSession` is what one browser tab steers; it holds no network code, so the
same data path as the live window (stylize -> smooth -> record) is tested without a
server. Frames come in with a timestamp in milliseconds (the page's camera, or the input on
the server); recordings keep those timestamps, from zero.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..engine import Stylizer
from ..errors import ModelError, OutputError, UsageError
from ..recording import Recorder, SaveFolder, save_snapshot
from ..sequence import SequenceStylizer
from ..settings import EncodeSettings, StylizeSettings
from ..smooth import SmoothSettings
from ..sources import Frame
from ..styles import StyleInfo

MILLISECONDS = Fraction(1, 1000)


class StreamSession:
    """Stylize one stream of frames with settings the page changes as it goes."""

    def __init__(
        self,
        styles: Mapping[str, StyleInfo],
        style: str,
        files: SaveFolder,
        *,
        smooth: SmoothSettings | None = None,
        encode: EncodeSettings | None = None,
    ) -> None:
        if style not in styles:
            raise ModelError(f"unknown style {style!r}")
        self._styles = styles
        self.stylizer = Stylizer(styles[style], settings=StylizeSettings())
        self.stylizer.load()
        self._sequence = SequenceStylizer(self.stylizer, smooth)
        self._encode = encode or EncodeSettings()
        self._files = files
        self.recorder: Recorder | None = None
        self.last_output: np.ndarray | None = None
        self.frames = 0

    def state(self) -> dict[str, object]:
        """The settings as the page shows them."""
        return {
            "style": self.stylizer.style.name,
            "strength": self.stylizer.settings.strength,
            "smooth": self._sequence.smooth.enabled,
            "recording": self.recorder.path.name if self.recorder else None,
            "frames": self.frames,
        }

    def configure(
        self, style: str | None = None, strength: float | None = None, smooth: bool | None = None
    ) -> None:
        """Change any of the settings; raises :class:`UsageError` or :class:`ModelError`
        (and changes nothing) if one is invalid."""
        if style is not None and style not in self._styles:
            raise ModelError(f"unknown style {style!r}")
        if strength is not None:
            settings = dataclasses.replace(self.stylizer.settings, strength=float(strength))
        else:
            settings = self.stylizer.settings
        if style is not None and style != self.stylizer.style.name:
            previous = self.stylizer.style
            self.stylizer.set_style(self._styles[style])
            try:
                self.stylizer.load()
            except ModelError:
                self.stylizer.set_style(previous)
                raise
            self._sequence.reset()
        self.stylizer.settings = settings
        if smooth is not None and smooth != self._sequence.smooth.enabled:
            self._sequence.set_smoothing(
                dataclasses.replace(self._sequence.smooth, enabled=bool(smooth))
            )

    def process(self, image: np.ndarray, time_ms: float) -> np.ndarray:
        """Stylize and smooth one BGR uint8 frame; record it if recording."""
        out = self._sequence(image)
        self.last_output = out
        self.frames += 1
        if self.recorder is not None:
            frame = Frame(out, round(time_ms), MILLISECONDS, self.frames)
            try:
                self.recorder.add(frame)
            except OutputError:
                recorder, self.recorder = self.recorder, None
                recorder.abort()
                raise
        return out

    def snapshot(self) -> Path:
        """Save the last stylized frame as a PNG; returns its path."""
        if self.last_output is None:
            raise UsageError("no frame to save yet")
        return save_snapshot(self._files.new_path("png"), self.last_output)

    def start_recording(self) -> Path:
        """Record the frames from the next one on into a new MP4; returns its path."""
        if self.recorder is None:
            self.recorder = Recorder(self._files.new_path("mp4"), None, self._encode)
        return self.recorder.path

    def stop_recording(self) -> Path | None:
        """Finish the recording, if there is one; returns its path (None if none, or if it
        held no frame and so was dropped)."""
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return None
        if not recorder.frames:
            recorder.abort()
            return None
        recorder.stop()
        return recorder.path

    def close(self) -> None:
        """End the session: a recording in progress is finished and kept."""
        self.stop_recording()
