"""The live window: camera or stream in, stylized picture out, keys to steer it.

A reader thread keeps only the newest frame, so when stylizing is slower than the camera
the window skips frames and stays current instead of falling behind. Recording hands
frames to a writer thread so encoding does not slow the window either.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from .engine import Painting, Stylizer
from .errors import ModelError, OutputError, UsageError
from .pipeline import FrameReader
from .recording import Recorder, SaveFolder, save_snapshot
from .sequence import SequenceStylizer
from .settings import EncodeSettings, LiveSettings
from .smooth import SmoothSettings
from .sources import Frame, Source
from .styles import StyleInfo
from .virtualcam import VirtualCamera, VirtualCameraSettings, import_pyvirtualcam

KEYS = {
    "n": "next style",
    "p": "previous style",
    "+": "stronger (strength + 0.1)",
    "-": "weaker (strength - 0.1)",
    "m": "smoothing on/off",
    "s": "save a snapshot (PNG)",
    "r": "start/stop recording (MP4)",
    "q": "quit (also Esc, or closing the window)",
}
"""The live window's keys and what they do (the README table is made from this)."""
_ALIASES = {"=": "+", "_": "-", "\x1b": "q"}
_MESSAGE_SECONDS = 2.0


@dataclass
class LiveSummary:
    """What a live session did."""

    frames: int = 0
    """Frames stylized and shown."""
    dropped: int = 0
    """Frames skipped to stay current."""
    seconds: float = 0.0
    snapshots: list[Path] = field(default_factory=list)
    recordings: list[Path] = field(default_factory=list)
    damage: str | None = None
    """Why the source ended, if it failed (a dropped stream, an unplugged camera)."""
    virtual_camera: str | None = None
    """The virtual camera device the frames also went to, if any."""


class Window:
    """An OpenCV window; ``show`` returns the key pressed, if any."""

    def __init__(self, title: str) -> None:
        if sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
        ):
            raise UsageError("no display for the live window; give -o OUTPUT to record instead")
        self._title = title
        cv2.namedWindow(title, cv2.WINDOW_AUTOSIZE)

    def show(self, image: np.ndarray) -> str | None:
        cv2.imshow(self._title, image)
        code = cv2.waitKey(1)
        if cv2.getWindowProperty(self._title, cv2.WND_PROP_VISIBLE) < 1:
            return "q"
        return chr(code & 0xFF) if code >= 0 else None

    def close(self) -> None:
        cv2.destroyWindow(self._title)


class ScriptedKeys:
    """No window: each shown frame takes the next key of a script (None = no key)."""

    def __init__(self, keys: Iterable[str | None]) -> None:
        self._keys = iter(keys)

    def show(self, image: np.ndarray) -> str | None:
        return next(self._keys, None)

    def close(self) -> None:
        return None


class LiveSession:
    """The state the keys change: style, strength, smoothing, recording."""

    def __init__(
        self,
        source: Source,
        stylizer: Stylizer,
        styles: Sequence[StyleInfo],
        settings: LiveSettings,
        smooth: SmoothSettings,
        encode: EncodeSettings,
        on_event: Callable[[str], None],
    ) -> None:
        self.source, self.stylizer, self.settings = source, stylizer, settings
        self.styles = list(styles) or [stylizer.style]
        self.style_index = next(
            (i for i, s in enumerate(self.styles) if s.path == stylizer.style.path), 0
        )
        self.encode = encode
        self.sequence = SequenceStylizer(stylizer, smooth)
        self.recorder: Recorder | None = None
        self.summary = LiveSummary()
        self.message, self._message_until = "", 0.0
        self._on_event = on_event
        self._files = SaveFolder(settings.save_dir)

    def paint(self, frame: Frame) -> Painting:
        """The network's part of a frame (:meth:`finish` does the rest)."""
        return self.sequence.paint(frame.image)

    def finish(self, frame: Frame, painting: Painting) -> np.ndarray:
        """Smooth and finish ``frame``'s painting; record it if recording."""
        out = self.sequence.finish(painting)
        self._record(dataclasses.replace(frame, image=out))
        self.summary.frames += 1
        return out

    def press(self, key: str, frame: Frame, out: np.ndarray) -> bool:
        """Act on a key; return False to quit."""
        key = _ALIASES.get(key, key).lower()
        if key == "q":
            return False
        if key in ("n", "p"):
            self._switch_style(1 if key == "n" else -1)
        elif key in ("+", "-"):
            step = self.settings.strength_step if key == "+" else -self.settings.strength_step
            strength = round(min(1.0, max(0.0, self.stylizer.settings.strength + step)), 3)
            self.stylizer.settings = dataclasses.replace(self.stylizer.settings, strength=strength)
            self._say(f"strength {strength:.1f}")
        elif key == "m":
            smooth = self.sequence.smooth
            self.sequence.set_smoothing(dataclasses.replace(smooth, enabled=not smooth.enabled))
            self._say(f"smoothing {'on' if self.sequence.smooth.enabled else 'off'}")
        elif key == "s":
            self._save(dataclasses.replace(frame, image=out))
        elif key == "r" and self.recorder is not None:
            self.stop_recording()
        elif key == "r":
            try:
                path = self._files.new_path("mp4")
                self.recorder = Recorder(path, self.source.info.rate, self.encode)
            except OutputError as exc:
                self._say(f"cannot record: {exc}")
            else:
                self._record(dataclasses.replace(frame, image=out))  # from this frame on
                self._say(f"recording to {self.recorder.path}")
        return True

    def stop_recording(self) -> None:
        if self.recorder is None:
            return
        recorder, self.recorder = self.recorder, None
        recorder.stop()
        self.summary.recordings.append(recorder.path)
        self._say(f"recorded {recorder.path}")

    def overlay(self, out: np.ndarray, fps: float) -> np.ndarray:
        """A copy of ``out`` with the status line (and the last message) drawn on it."""
        shown = out.copy()
        status = [self.stylizer.style.name, f"strength {self.stylizer.settings.strength:.1f}"]
        if self.settings.show_fps:
            status.insert(0, f"{fps:4.1f} fps")
        status.append(f"smooth {'on' if self.sequence.smooth.enabled else 'off'}")
        if self.recorder is not None:
            status.append("REC")
        lines = [" | ".join(status)]
        if time.monotonic() < self._message_until:
            lines.append(self.message)
        font, scale = cv2.FONT_HERSHEY_SIMPLEX, 0.5
        for row, text in enumerate(lines):
            (width, height), _ = cv2.getTextSize(text, font, scale, 1)
            top = 6 + 22 * row
            cv2.rectangle(shown, (4, top), (12 + width, top + height + 10), (0, 0, 0), cv2.FILLED)
            origin = (8, top + height + 4)
            cv2.putText(shown, text, origin, font, scale, (255, 255, 255), 1, cv2.LINE_AA)
        return shown

    def _record(self, frame: Frame) -> None:
        if self.recorder is None:
            return
        try:
            self.recorder.add(frame)
        except OutputError as exc:
            recorder, self.recorder = self.recorder, None
            recorder.abort()
            self._say(f"recording failed: {exc}")

    def _save(self, frame: Frame) -> None:
        try:
            path = save_snapshot(self._files.new_path("png"), frame.image)
        except OutputError as exc:
            self._say(f"cannot save: {exc}")
            return
        self.summary.snapshots.append(path)
        self._say(f"saved {path}")

    def _switch_style(self, step: int) -> None:
        previous = self.stylizer.style
        self.style_index = (self.style_index + step) % len(self.styles)
        self.stylizer.set_style(self.styles[self.style_index])
        try:
            self.stylizer.load()  # a bad model is caught here, not on the next frame
        except ModelError as exc:
            self.stylizer.set_style(previous)
            self._say(f"cannot use {self.styles[self.style_index].name}: {exc}")
            return
        self.sequence.reset()
        self._say(f"style {self.stylizer.style.name}")

    def _say(self, message: str) -> None:
        self.message, self._message_until = message, time.monotonic() + _MESSAGE_SECONDS
        self._on_event(message)


def run_live(
    source: Source,
    stylizer: Stylizer,
    styles: Sequence[StyleInfo] = (),
    *,
    settings: LiveSettings | None = None,
    smooth: SmoothSettings | None = None,
    encode: EncodeSettings | None = None,
    keys: Iterable[str | None] = (),
    on_event: Callable[[str], None] = lambda message: None,
) -> LiveSummary:
    """Show ``source`` stylized until quit or until the source ends.

    ``styles`` are what ``n``/``p`` cycle through. With ``settings.headless`` there is no
    window and ``keys`` supplies one key (or None) per frame shown, for tests and scripts;
    without keys it runs until the source ends or the caller is interrupted. With
    ``settings.virtual_camera`` every output frame also goes to a virtual camera of the
    first frame's size, opened when that frame arrives. Settings left as None take their
    defaults.
    """
    settings = settings or LiveSettings()
    if settings.virtual_camera is not None:
        import_pyvirtualcam()  # a missing extra fails before any window opens
    smooth, encode = smooth or SmoothSettings(), encode or EncodeSettings()
    session = LiveSession(source, stylizer, styles, settings, smooth, encode, on_event)
    display = ScriptedKeys(keys) if settings.headless else Window(settings.window_title)
    latest = FrameReader(source, queue_size=1, keep_latest=True)
    camera: VirtualCamera | None = None
    started = last = time.monotonic()
    interval = 0.0  # smoothed seconds per frame, for the fps overlay
    try:
        for frame, out in _stylized(session, latest):
            if settings.virtual_camera is not None:
                if camera is None:
                    camera = _open_camera(out, source, settings.virtual_camera, on_event)
                    session.summary.virtual_camera = camera.device
                camera.send(out)
            now = time.monotonic()
            interval = 0.9 * interval + 0.1 * (now - last) if interval else now - last
            last = now
            key = display.show(session.overlay(out, 1 / max(interval, 1e-6)))
            if key is not None and not session.press(key, frame, out):
                break
    finally:
        latest.stop()
        display.close()
        if camera is not None:
            camera.close()
        session.stop_recording()
    summary = session.summary
    summary.dropped = latest.dropped
    summary.seconds = time.monotonic() - started
    summary.damage = source.damage
    return summary


def _stylized(session: LiveSession, frames: Iterable[Frame]) -> Iterator[tuple[Frame, np.ndarray]]:
    """Each frame with its stylized picture, in order. The network paints a frame while the
    previous one is smoothed and finished in another thread, so on two cores the window
    shows more frames a second (a frame comes out one painting later). Each step waits for
    both, so nothing runs while the caller acts on a key between frames."""
    frames = iter(frames)
    first = next(frames, None)
    if first is None:
        return
    previous = first, session.paint(first)
    with ThreadPoolExecutor(1, thread_name_prefix="stream-nst-finish") as finisher:
        for frame in frames:
            finishing = finisher.submit(session.finish, *previous)
            painted = frame, session.paint(frame)
            yield previous[0], finishing.result()
            previous = painted
    yield previous[0], session.finish(*previous)


def _open_camera(
    first: np.ndarray,
    source: Source,
    settings: VirtualCameraSettings,
    on_event: Callable[[str], None],
) -> VirtualCamera:
    height, width = first.shape[:2]
    fps = float(source.info.rate) if source.info.rate else settings.fps
    camera = VirtualCamera(width, height, fps, settings)
    on_event(f"virtual camera {camera.device} ({camera.backend}): {width}x{height} at {fps:g} fps")
    return camera
