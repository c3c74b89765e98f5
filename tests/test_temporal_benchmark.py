"""benchmarks/temporal.py: both flows leave a scene cut out alike."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
from temporal_clips import panning

from benchmarks import temporal
from stream_nst.flicker import flow_function
from stream_nst.flow import to_gray


def test_a_scene_cut_is_left_out_along_the_independent_flow_too(monkeypatch) -> None:
    source = panning(3, (2, 0), seed=0) + panning(3, (2, 0), seed=7)  # two shots

    def flows(frames, method):  # the independent flow's file, here computed with DIS
        flow, grays = flow_function("dis"), [to_gray(f) for f in frames]
        return {
            "backward": np.stack([flow(b, a) for a, b in pairwise(grays)]),
            "forward": np.stack([flow(a, b) for a, b in pairwise(grays)]),
        }

    monkeypatch.setattr(temporal, "flows", flows)
    for flow in ("dis", "deepflow"):
        seen = [motion.visible.any() for motion in temporal.motions_along(flow, source)]
        assert seen == [True, True, False, True, True], flow
