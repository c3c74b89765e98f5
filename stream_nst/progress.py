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


def render_bar(progress: Progress) -> str:
    """One line: ``name  42% |#####     | 91/217 frames  23.4 fps  ETA 0:05``."""
    return render_line(progress.done, progress.total, progress.elapsed, progress.name)


def render_line(
    done: int,
    total: int | None,
    elapsed: float,
    name: str = "",
    *,
    unit: str = "frames",
    rate_unit: str = "fps",
    extra: str = "",
) -> str:
    """The tool's one progress line, drawn by tqdm (the runtime's frames, training's steps):
    name, percentage and bar (when the total is known), count, rate, ETA, then ``extra``."""
    progress = Progress(done, total, elapsed, name)
    tail = f"  {extra}" if extra else ""
    if progress.eta is not None:
        minutes, seconds = divmod(round(progress.eta), 60)
        tail = f"  ETA {minutes}:{seconds:02d}{tail}"
    counted = "{n_fmt}/{total_fmt}" if total else "{n_fmt}"
    bar = "{percentage:3.0f}% |{bar:24}| " if total else ""
    layout = f"{{desc}}{bar}{counted} {unit}  {{rate:5.1f}} {rate_unit}"
    return tqdm.format_meter(
        done,
        total,
        elapsed,
        prefix=f"{name}  " if name else "",
        rate=progress.fps,
        bar_format=layout + tail.replace("{", "{{").replace("}", "}}"),
        ascii=True,
    )
