"""Optical flow of another family than the smoother's DIS, for scoring it fairly.

DeepFlow (Weinzaepfel et al. 2013) and TV-L1 (Zach et al. 2007) live in opencv-contrib,
which cannot share an environment with the runtime's opencv-python. So this module keeps a
virtual environment of its own under ``~/.cache/stream-nst/`` (created on first use: numpy
and a pinned opencv-contrib-python-headless from PyPI), runs itself there as a worker, and
caches each clip's flows on disk, keyed by the frames and the method: a rerun with another
style model (the flows depend on the source frames only) computes nothing again.

Flows are stored as an ``.npz`` with ``backward`` and ``forward``, float16 arrays of shape
``(frames - 1, H, W, 2)`` (pair i leads from frame i to frame i + 1; the conventions of
:mod:`stream_nst.flow`), and ``method``: the file ``stream-nst measure-flicker --flows``
reads. From the command line (runtime environment)::

    python benchmarks/independent_flow.py SOURCE -o flows.npz [--method deepflow]
        [--max-frames N] [--max-width W]

Flows are computed at most :data:`FLOW_WIDTH` pixels wide and scaled up (DeepFlow takes
~0.6 s a 640x480 flow on one of these cores, four times less at 320 px). The worker
(``python independent_flow.py worker GRAYS.npy OUT.npz METHOD WIDTH``, inside the flow
environment) needs nothing but numpy and opencv-contrib.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import venv
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "stream-nst"
CONTRIB = "opencv-contrib-python-headless==4.10.0.84"
ENV = CACHE / f"flow-env-{CONTRIB.split('==')[1]}"
FLOW_WIDTH = 320  # flows are computed at most this wide (CPU time), then scaled up
METHODS = {
    "deepflow": f"DeepFlow (opencv-contrib) on grayscale source frames at most {FLOW_WIDTH} px "
    "wide, scaled up",
    "tvl1": f"TV-L1 (opencv-contrib DualTVL1) on grayscale source frames at most {FLOW_WIDTH} "
    "px wide, scaled up",
}


def env_python() -> Path:
    """The flow environment's interpreter, creating the environment when it is missing."""
    python = ENV / "bin" / "python"
    if not python.is_file():
        print(f"creating the flow environment {ENV} ({CONTRIB})", file=sys.stderr, flush=True)
        venv.create(ENV, with_pip=True, clear=True)
        pip = [str(python), "-m", "pip", "install", "--quiet", CONTRIB, "numpy"]
        subprocess.run(pip, check=True)
    return python


def flows(
    sources: Sequence[np.ndarray], method: str = "deepflow", width: int = FLOW_WIDTH
) -> dict[str, np.ndarray]:
    """``{"backward", "forward"}`` flows between consecutive BGR ``sources`` by ``method``,
    computed at most ``width`` pixels wide and scaled up to the frames' size; from the cache,
    or computed in the flow environment (then cached)."""
    if method not in METHODS:
        raise ValueError(f"unknown flow method {method!r}; choose from {sorted(METHODS)}")
    grays = np.stack([cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in sources])
    key = hashlib.sha256(grays.tobytes() + repr((grays.shape, width)).encode()).hexdigest()
    cached = CACHE / "flows" / f"{method}-{key[:24]}.npz"
    if not cached.is_file():
        cached.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cached.parent) as folder:
            frames, partial = Path(folder) / "grays.npy", Path(folder) / "flows.npz"
            np.save(frames, grays)
            worker = [str(env_python()), __file__, "worker", str(frames), str(partial), method]
            subprocess.run([*worker, str(width)], check=True)  # as nice as its caller
            partial.replace(cached)
    with np.load(cached) as data:
        return {"backward": data["backward"], "forward": data["forward"]}


def _estimator(method: str):
    """The contrib flow object (worker side only: ``cv2.optflow`` is contrib)."""
    if method == "deepflow":
        return cv2.optflow.createOptFlow_DeepFlow()
    return cv2.optflow.DualTVL1OpticalFlow_create()


def _scaled_flow(estimator, gray: np.ndarray, other: np.ndarray, width: int) -> np.ndarray:
    """The flow from ``gray`` to ``other`` computed at most ``width`` wide, at full size."""
    height, full_width = gray.shape
    if full_width <= width:
        return estimator.calc(gray, other, None)
    size = (width, max(1, round(height * width / full_width)))
    small = [cv2.resize(g, size, interpolation=cv2.INTER_AREA) for g in (gray, other)]
    flow = cv2.resize(estimator.calc(*small, None), (full_width, height))
    return flow * np.array([full_width / size[0], height / size[1]], np.float32)


def _worker(frames: Path, out: Path, method: str, width: int) -> None:
    grays = np.load(frames)
    estimator = _estimator(method)
    pairs = range(len(grays) - 1)
    backward = [_scaled_flow(estimator, grays[i + 1], grays[i], width) for i in pairs]
    forward = [_scaled_flow(estimator, grays[i], grays[i + 1], width) for i in pairs]
    with out.open("wb") as file:  # a file object: savez would otherwise append ".npz"
        np.savez(
            file,
            backward=np.stack(backward).astype(np.float16),
            forward=np.stack(forward).astype(np.float16),
            method=np.array(METHODS[method]),
        )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["worker"]:
        _worker(Path(argv[1]), Path(argv[2]), argv[3], int(argv[4]))
        return 0
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from stream_nst.flicker import read_frames

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="source video or folder of frames")
    parser.add_argument("-o", "--output", type=Path, required=True, help="flows .npz to write")
    parser.add_argument("--method", choices=sorted(METHODS), default="deepflow")
    parser.add_argument("--max-frames", type=int, metavar="N")
    parser.add_argument("--max-width", type=int, metavar="W")
    args = parser.parse_args(argv)
    sources = list(read_frames(args.source, max_frames=args.max_frames, max_width=args.max_width))
    result = flows(sources, args.method)
    with args.output.open("wb") as file:
        np.savez(file, **result, method=np.array(METHODS[args.method]))
    print(f"wrote {args.output}: {len(sources) - 1} frame pairs, {METHODS[args.method]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
