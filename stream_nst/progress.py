"""Progress events: the library reports them through a callback; the CLI draws the bar."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tqdm import tqdm


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


_BAR = "{desc}{percentage:3.0f}% |{bar:24}| {n_fmt}/{total_fmt} frames  {rate:5.1f} fps"
_COUNT = "{desc}{n_fmt} frames  {rate:5.1f} fps"


def render_bar(progress: Progress) -> str:
    """One line, drawn by tqdm: ``name  42% |#####     | 91/217 frames  23.4 fps  ETA 0:05``."""
    eta = ""
    if progress.eta is not None:
        minutes, seconds = divmod(round(progress.eta), 60)
        eta = f"  ETA {minutes}:{seconds:02d}"
    return tqdm.format_meter(
        progress.done,
        progress.total,
        progress.elapsed,
        prefix=f"{progress.name}  " if progress.name else "",
        rate=progress.fps,
        bar_format=(_BAR + eta) if progress.total else (_COUNT + eta),
        ascii=True,
    )
