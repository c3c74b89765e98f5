"""Style quality of trained models on held-out photos, against Gatys optimisation.

For each model (an ONNX file run in onnxruntime, as users run it) and each held-out photo
(never trained on: ``train_fast.data.is_held_out``), the Gatys loss terms of the output are
computed on VGG-19 with the default loss weights: the style loss (relative Gram error to the
style image, averaged over relu1_1..relu5_1), its reduction from the unstylised photo, and
the content loss (relative relu4_2 error to the photo). With ``--gatys-steps`` the same is
done for Gatys et al.'s own optimisation of the same photos, and its time per run.

    python benchmarks/quality.py models/mosaic.onnx --vgg ../shared/vgg19 \
        --content-dir ../shared/content --styles-dir ../shared/styles --gatys-steps 100
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.report import labelled_strip, machine, markdown_table, write_section
from samples.make_samples import middle_frame
from train_fast.data import split_content
from train_fast.gatys import GatysSettings, gatys_optimise
from train_fast.images import image_to_tensor, read_image, resize_long_side, tensor_to_image
from train_fast.losses import StyleLoss
from train_fast.vgg import load_vgg_weights


def _metadata(path: Path) -> dict[str, str]:
    return {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}


def _training_summary(training: dict) -> str:
    """Steps, minutes and style weight of a model's training, from its metadata."""
    if not training:
        return "?"
    weight = training.get("loss_weights", {}).get("style", "?")
    minutes = training.get("seconds", 0) / 60
    return f"{training.get('steps', '?')} steps, {minutes:.0f} min, style weight {weight}"


def _crop_to(image: np.ndarray, multiple: int) -> np.ndarray:
    h, w = image.shape[:2]
    return image[: h - h % multiple, : w - w % multiple]


def evaluate(args: argparse.Namespace) -> list[dict]:
    torch.set_num_threads(args.threads)
    vgg = load_vgg_weights(args.vgg)
    _, held_out = split_content(args.content_dir)
    photos = held_out[: args.photos]
    rows = []
    gatys_cache: dict[tuple[Path, Path], tuple[float, dict[str, float]]] = {}
    for model_path in args.models:
        meta = _metadata(model_path)
        training = json.loads(meta.get("training", "{}"))
        style_file = args.styles_dir / training.get("style_image", f"{meta['style_name']}.jpg")
        style = image_to_tensor(read_image(style_file, training.get("style_size", args.size)))
        loss = StyleLoss(vgg, [style])
        session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
        multiple = int(meta.get("pad_multiple", 8))
        for photo_path in photos:
            photo = _crop_to(read_image(photo_path, args.size), multiple)
            (out,) = session.run(None, {"frame": photo[None]})
            x, y = image_to_tensor(photo), image_to_tensor(out[0])
            with torch.no_grad():
                targets = loss.content_targets(x)
                base = loss(x, targets).as_floats()
                ours = loss(y, targets).as_floats()
            row = {
                "style": meta["style_name"],
                "arch": meta.get("architecture", "?"),
                "photo": photo_path.name,
                "training": _training_summary(training),
                "photo_style": base["style"],
                "net_style": ours["style"],
                "net_content": ours["content"],
            }
            if args.gatys_steps:
                key = (style_file, photo_path)
                if key not in gatys_cache:  # one optimisation per style and photo
                    start = time.perf_counter()
                    result, _ = gatys_optimise(
                        x, [style], vgg, GatysSettings(steps=args.gatys_steps)
                    )
                    with torch.no_grad():
                        g = loss(result, targets).as_floats()
                    gatys_cache[key] = (time.perf_counter() - start, g)
                seconds, g = gatys_cache[key]
                row |= {
                    "gatys_seconds": seconds,
                    "gatys_style": g["style"],
                    "gatys_content": g["content"],
                }
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def _picture_input(path: Path, size: int) -> np.ndarray:
    """An image file, or the middle frame of a video file, shrunk to ``size``."""
    if path.suffix.lower() not in (".mp4", ".mkv", ".mov", ".avi", ".mpg"):
        return read_image(path, size)
    return resize_long_side(middle_frame(path), size)


def picture(args: argparse.Namespace) -> np.ndarray:
    """``--picture-image`` (a committable image, not a training photo) through every method."""
    image = _picture_input(args.picture_image, args.size)
    panels = [("input", image)]
    for model_path in args.models:
        meta = _metadata(model_path)
        frame = _crop_to(image, int(meta.get("pad_multiple", 8)))
        session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
        (out,) = session.run(None, {"frame": frame[None]})
        panels.append((f"{meta['style_name']} {meta.get('architecture', '')}", out[0]))
    if args.gatys_steps:
        training = json.loads(_metadata(args.models[0]).get("training", "{}"))
        style_file = args.styles_dir / training.get("style_image", "")
        style = image_to_tensor(read_image(style_file, training.get("style_size", args.size)))
        result, _ = gatys_optimise(
            image_to_tensor(image),
            [style],
            load_vgg_weights(args.vgg),
            GatysSettings(steps=args.gatys_steps),
        )
        panels.append((f"Gatys {args.gatys_steps} steps", tensor_to_image(result)))
    return labelled_strip(panels)


def summarise(rows: list[dict], args: argparse.Namespace) -> str:
    header = [
        "style",
        "arch",
        "training",
        "photos",
        "style loss: photo → net (reduction)",
        "content loss (net)",
    ]
    with_gatys = "gatys_style" in rows[0]
    if with_gatys:
        header += [f"Gatys {args.gatys_steps} steps: style / content", "s per Gatys run"]
    table = []
    for key in dict.fromkeys((r["style"], r["arch"]) for r in rows):
        sel = [r for r in rows if (r["style"], r["arch"]) == key]

        def mean(k: str, sel: list[dict] = sel) -> float:
            return float(np.mean([r[k] for r in sel]))

        reduction = 1 - mean("net_style") / mean("photo_style")
        line = [
            key[0],
            key[1],
            sel[0]["training"],
            len(sel),
            f"{mean('photo_style'):.3f} → {mean('net_style'):.3f} ({reduction:.0%})",
            f"{mean('net_content'):.3f}",
        ]
        if with_gatys:
            line += [
                f"{mean('gatys_style'):.3f} / {mean('gatys_content'):.3f}",
                f"{mean('gatys_seconds'):.0f}",
            ]
        table.append(line)
    command = "python benchmarks/quality.py " + " ".join(sys.argv[1:])
    return "\n".join(
        [
            f"## {args.title}",
            "",
            f"Machine: {machine()}. Command: `{command}`.",
            f"Photos: {len(set(r['photo'] for r in rows))} held-out photos (never trained on) at "
            f"{args.size} px long side. Losses are the Gatys terms used in training (relative "
            "errors, default weights): lower is closer to the style / to the photo's content.",
            "",
            markdown_table(header, table),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("models", nargs="+", type=Path)
    p.add_argument("--vgg", required=True)
    p.add_argument("--content-dir", type=Path, required=True)
    p.add_argument("--styles-dir", type=Path, required=True)
    p.add_argument("--photos", type=int, default=6)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--gatys-steps", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--section", default="quality", help="BENCHMARKS.md section to write")
    p.add_argument("--title", default="Style quality on held-out photos", help="its heading")
    p.add_argument("--picture", type=Path, help="write a side-by-side picture here (.jpg/.png)")
    p.add_argument("--picture-image", type=Path, help="the picture's input (not a training photo)")
    args = p.parse_args(argv)
    if args.picture and not args.picture_image:
        p.error("--picture needs --picture-image")
    rows = evaluate(args)
    text = summarise(rows, args)
    if args.picture:
        cv2.imwrite(str(args.picture), picture(args), [cv2.IMWRITE_JPEG_QUALITY, 88])
        text += f"\n\n![{args.picture_image.name} through each method]({args.picture.as_posix()})"
    print(text)
    write_section(args.section, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
