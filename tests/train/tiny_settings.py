"""Training settings for a run of a few steps at tiny sizes, shared by the training tests."""

from __future__ import annotations

from pathlib import Path

from train_fast.artworks import artwork_for
from train_fast.train import TrainSettings


def tiny_settings(style: Path, photos: Path, out: Path, vgg: Path, **kw) -> TrainSettings:
    """Style ``stripes`` for 3 steps of 64 px crops into ``out``; ``kw`` replaces any field."""
    base = dict(
        style_image=style,
        name="stripes",
        content_dir=photos,
        out_dir=out,
        artwork=artwork_for("stripes"),
        steps=3,
        size=64,
        style_size=64,
        batch=2,
        vgg=str(vgg),
        work_dir=out / "work",
        preview_every=2,
        warmup_steps=2,
    )
    return TrainSettings(**(base | kw))
