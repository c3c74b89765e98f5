"""Network interpolation: one style's network between two trained versions of it.

Two networks fine-tuned from one start (a shipped model continued with different loss
weights, say one with more texture and one steadier on video) can be averaged weight by
weight; the network in between paints in between (Wang et al. 2018, ESRGAN, "network
interpolation"). Along one training run texture and steadiness move together; between two
runs' end points the share picks the balance without training again.
"""

from __future__ import annotations

import json
from pathlib import Path

from train_fast.errors import ModelError, UsageError
from train_fast.export import (
    ExportReport,
    network_from,
    read_model,
    training_record,
    write_verified,
)

_SAME = ("architecture", "style_name", "paint_size", "input_convention")
"""Metadata two networks must share to be interpolated."""


def interpolate(first: Path, second: Path, share: float, output: Path) -> ExportReport:
    """Write to ``output`` the network whose every weight is ``(1 - share)`` times
    ``first``'s plus ``share`` times ``second``'s, verified like an export.

    The two must be train_fast networks of one architecture, style and painting size.
    The result keeps ``first``'s metadata (training continues from it as from ``first``);
    its ``training`` record gains ``interpolated_with``: ``second``'s file name, the share
    and ``second``'s own training record.
    """
    if not 0.0 <= share <= 1.0:
        raise UsageError(f"the share of the second network must be in [0, 1], not {share}")
    (state_a, meta_a), (state_b, meta_b) = read_model(first), read_model(second)
    for key in _SAME:
        if meta_a.get(key) != meta_b.get(key):
            raise ModelError(
                f"{first.name} and {second.name} differ in {key} "
                f"({meta_a.get(key)!r} against {meta_b.get(key)!r}): only two versions of "
                "one style's network can be interpolated"
            )
    if state_a.keys() != state_b.keys() or any(
        state_a[k].shape != state_b[k].shape for k in state_a
    ):
        raise ModelError(f"{first.name} and {second.name} hold differently shaped networks")
    mixed = {
        k: a.lerp(state_b[k], share) if a.is_floating_point() else a for k, a in state_a.items()
    }
    net = network_from(mixed, meta_a, first)
    training = training_record(meta_a)
    training["interpolated_with"] = {
        "model": second.name,
        "share": share,
        "training": training_record(meta_b),
    }
    metadata = {**meta_a, "training": json.dumps(training, sort_keys=True)}
    return write_verified(net.eval(), output, metadata)
