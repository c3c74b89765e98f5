"""Progress events: the library reports them through a callback; the CLI draws the bar."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    """How far a run is, after each frame is stylized (the frame is then smoothed and
    written, in order, by the pipeline's other threads)."""

    done: int
    """Frames stylized so far."""
    total: int | None
    """Frames expected (an estimate for some containers), if known."""
    elapsed: float
    """Seconds since the run started."""
    name: str = ""
    """The input being processed."""

    @property
    def fps(self) -> float:
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left, if the total is known and the rate measurable."""
        if not self.total or not self.fps or self.done >= self.total:
            return None
        return (self.total - self.done) / self.fps


ProgressCallback = Callable[[Progress], None]
"""Called from the stylizing thread; raising (even KeyboardInterrupt) stops the run."""


def render_bar(progress: Progress, width: int = 24) -> str:
    """One line: ``name  42% |#####-----| 91/217 frames  23.4 fps  ETA 0:05``."""
    parts = [progress.name] if progress.name else []
    if progress.total:
        fraction = min(1.0, progress.done / progress.total)
        filled = round(fraction * width)
        parts.append(f"{fraction:4.0%} |{'#' * filled}{'-' * (width - filled)}|")
        parts.append(f"{progress.done}/{progress.total} frames")
    else:
        parts.append(f"{progress.done} frames")
    parts.append(f"{progress.fps:5.1f} fps")
    if progress.eta is not None:
        minutes, seconds = divmod(round(progress.eta), 60)
        parts.append(f"ETA {minutes}:{seconds:02d}")
    return "  ".join(parts)
