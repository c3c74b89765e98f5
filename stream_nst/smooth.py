"""Temporal smoothing stage: source -> stylize -> **smooth** -> sink.

A smoother sees each source frame together with its stylized frame, in order, and
returns the frame to write. The pipeline calls :meth:`Smoother.reset` at a new clip.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class SmoothSettings:
    """How video output is stabilised over time."""

    enabled: bool = True
    strength: float = 0.5


class Smoother(Protocol):
    """Takes (source BGR uint8 HxWx3, stylized BGR uint8 HxWx3), gives stylized BGR uint8."""

    def __call__(self, source: np.ndarray, stylized: np.ndarray) -> np.ndarray: ...

    def reset(self) -> None: ...


class PassThrough:
    """No smoothing (``--no-smooth``)."""

    def __call__(self, source: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        return stylized

    def reset(self) -> None:
        return None


def make_smoother(settings: SmoothSettings) -> Smoother:
    """Build the smoother the settings ask for."""
    # The motion-compensated smoother lands with the temporal-stability issue.
    return PassThrough()
