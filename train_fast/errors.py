"""Errors of train_fast: members of stream-nst's one exception family."""

from __future__ import annotations

from stream_nst.errors import InputError, ModelError, UsageError

__all__ = ["InputError", "ModelError", "UsageError", "VGGLoadError"]


class VGGLoadError(ModelError):
    """VGG-19 weights are missing, corrupt or in a format we cannot read."""
