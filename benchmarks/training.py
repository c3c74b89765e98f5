"""Training throughput of each architecture, and the time of one Gatys optimisation.

Throughput is images per second of real training steps (VGG-19 loss forward and backward,
Adam update) at a given crop size, after one warm-up step, with the VGG-19 trunk in each
precision asked for (``auto`` picks bf16 where the CPU has it natively); Gatys is
``stream-nst gatys``'s default optimisation (L-BFGS) of one photo at 256 px.

    python benchmarks/training.py --vgg ../shared/vgg19 --content-dir ../shared/content \
        --style ../shared/styles/mosaic.jpg
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import onnx
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.report import machine, markdown_table, publish  # noqa: E402
from train_fast.artworks import artwork_for  # noqa: E402
from train_fast.data import split_content  # noqa: E402
from train_fast.gatys import GatysSettings, gatys_optimise  # noqa: E402
from train_fast.images import image_to_tensor, read_image  # noqa: E402
from train_fast.nets import build_net, count_parameters  # noqa: E402
from train_fast.precision import choose_autocast, precision_name  # noqa: E402
from train_fast.train import Trainer, TrainSettings  # noqa: E402
from train_fast.vgg import load_vgg_weights  # noqa: E402


def training_throughput(
    args: argparse.Namespace, arch: str, size: int, precision: str, work: Path
) -> float:
    settings = TrainSettings(
        style_image=args.style,
        name=arch,
        content_dir=args.content_dir,
        out_dir=work,
        artwork=artwork_for(args.style.stem),
        arch=arch,
        size=size,
        batch=args.batch,
        vgg=args.vgg,
        work_dir=work / arch,
        precision=precision,
        warmup_steps=0,
    )
    trainer = Trainer(settings)
    trainer.train_step()  # warm-up
    start = time.perf_counter()
    for _ in range(args.steps):
        trainer.train_step()
    return args.steps * args.batch / (time.perf_counter() - start)


def library_times() -> list[list[object]]:
    """Steps and minutes of every shipped style's training, from its model's metadata."""
    rows = []
    for model in sorted((ROOT / "models").glob("*.onnx")):
        meta = {p.key: p.value for p in onnx.load(str(model)).metadata_props}
        training = json.loads(meta.get("training", "{}"))
        start = training.get("initialised_from", {}).get("style_name", "")
        begun = {"": "new network", model.stem: "continued from its own model"}
        rows.append(
            [
                f"`{meta.get('style_name', model.stem)}`",
                begun.get(start, f"fine-tuned from `{start}`"),
                training.get("steps", "?"),
                f"{training.get('seconds', 0) / 60:.1f}",
                training.get("vgg_precision", "fp32"),
            ]
        )
    return rows


def gatys_seconds(args: argparse.Namespace) -> tuple[float, int]:
    _, held_out = split_content(args.content_dir)
    content = image_to_tensor(read_image(held_out[0], 256))
    style = image_to_tensor(read_image(args.style, 256))
    settings = GatysSettings()
    start = time.perf_counter()
    gatys_optimise(content, [style], load_vgg_weights(args.vgg), settings)
    return time.perf_counter() - start, settings.steps


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--vgg", required=True)
    p.add_argument("--content-dir", type=Path, required=True)
    p.add_argument("--style", type=Path, required=True)
    p.add_argument("--archs", default="paintnet")
    p.add_argument("--sizes", default="192")
    p.add_argument("--precisions", default="auto,fp32", help="VGG trunk precisions to time")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument(
        "--steps", type=int, default=3, help="timed steps per case (default %(default)s)"
    )
    p.add_argument("--no-gatys", action="store_true")
    args = p.parse_args(argv)
    torch.set_num_threads(2)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cases = [
            (arch, size, precision)
            for arch in args.archs.split(",")
            for size in map(int, args.sizes.split(","))
            for precision in args.precisions.split(",")
        ]
        for arch, size, precision in cases:
            ips = training_throughput(args, arch, size, precision, Path(tmp))
            used = precision_name(choose_autocast(precision))
            print(f"{arch} {size}px {used}: {ips:.2f} img/s", flush=True)
            params = count_parameters(build_net(arch))
            rows.append(
                [
                    arch,
                    f"{params / 1e6:.2f} M",
                    f"{size} px",
                    args.batch,
                    f"{precision} ({used})",
                    f"{ips:.2f}",
                    f"{args.batch / ips:.2f}",
                ]
            )
    command = "python benchmarks/training.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    text = [
        "## Training throughput",
        "",
        f"Machine: {machine()}, torch {torch.__version__} on 2 threads. Command: `{command}`.",
        "A step is VGG-19 (to relu5_1) forward and backward on the batch, content targets, the "
        "colour term, the stability term (the network's own second pass) and an Adam update; "
        f"mean of {args.steps} steps after a warm-up.",
        "",
        markdown_table(
            ["arch", "parameters", "crop", "batch", "VGG precision", "images/s", "s per step"],
            rows,
        ),
    ]
    text += [
        "",
        "Training time of the shipped styles (their metadata: optimisation steps and minutes, "
        "warm-up excluded; the fine-tuned styles started from the shipped `mosaic`, which was "
        "a new network; some steps ran beside other jobs):",
        "",
        markdown_table(["style", "start", "steps", "minutes", "VGG precision"], library_times()),
    ]
    if not args.no_gatys:
        seconds, steps = gatys_seconds(args)
        print(f"gatys: {seconds:.0f} s", flush=True)
        text += [
            "",
            f"One Gatys optimisation (`stream-nst gatys` defaults: L-BFGS, {steps} steps) "
            f"of a 256 px photo: **{seconds:.0f} s**.",
        ]
    publish("training", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
