"""Export a trained style network to ONNX in the stream-nst model format (docs/MODEL_FORMAT.md)."""

from __future__ import annotations

import copy
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn

from stream_nst.errors import first_line
from stream_nst.model_format import format_metadata
from train_fast.artworks import Artwork
from train_fast.errors import InputError, ModelError
from train_fast.nets import ARCHITECTURES, StyleNet, build_net

OPSET = 17
PRODUCER = "train_fast 0.1.0"


class _FrameGraph(nn.Module):
    """The exported graph: a network's ``forward_frame`` (uint8 BGR NHWC in and out)."""

    def __init__(self, net: StyleNet):
        super().__init__()
        self.net = net

    def forward(self, frame: torch.Tensor) -> torch.Tensor:
        return self.net.forward_frame(frame)


@dataclass(frozen=True)
class ExportReport:
    """Where the model went and how closely onnxruntime reproduces torch."""

    path: Path
    max_abs_diff: int  # in uint8 levels, over the verification frames
    bytes: int


def export_onnx(
    net: StyleNet,
    path: str | Path,
    *,
    style_name: str,
    artwork: Artwork,
    architecture: str,
    training: dict,
    vgg_source: str,
    paint_size: int | None = None,
    fp16: bool = False,
) -> ExportReport:
    """Write ``net`` as ONNX with dynamic height/width and metadata; verify it in onnxruntime.

    ``paint_size``: the short side (px) the network was trained to paint at; the runtime
    scales frames to it (none: the network runs at the frame's own size).

    The model is written under a temporary name (which ``stream-nst styles`` does not
    list), verified, and only then renamed to ``path``: a model that fails verification
    never replaces a good one. Raises :class:`ModelError` when it fails.
    """
    metadata = {
        **format_metadata(pad_multiple=net.PAD_MULTIPLE, paint_size=paint_size),
        "style_name": style_name,
        "artwork_title": artwork.title,
        "artwork_artist": artwork.artist,
        "artwork_licence": artwork.licence,
        "architecture": architecture,
        "training": json.dumps(training, sort_keys=True),
        "vgg_source": vgg_source,
        "producer": PRODUCER,
        "precision": "fp16" if fp16 else "fp32",
    }
    return write_verified(net, Path(path), metadata)


def reexport(path: str | Path) -> ExportReport:
    """Write the model at ``path`` again, in place, with today's graph of its network: the
    same weights and metadata (a network's graph may get faster while its function stays).
    Verified like :func:`export_onnx`; a model that fails stays as it was."""
    state, metadata = read_model(path)
    net = network_from(state, metadata, path)
    return write_verified(net.eval(), Path(path), metadata)


def read_model(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """:func:`read_onnx_weights`, its failures told in the library's terms: an unreadable
    file is an :class:`InputError`, one that is not ONNX a :class:`ModelError`."""
    try:
        return read_onnx_weights(path)
    except OSError as exc:
        raise InputError(f"cannot read model {path}: {first_line(exc)}") from exc
    except Exception as exc:  # onnx's parse errors share no base class
        raise ModelError(f"{path} is not an ONNX model: {first_line(exc)}") from exc


def network_from(
    state: dict[str, torch.Tensor], metadata: dict[str, str], path: str | Path
) -> StyleNet:
    """The network of a model's architecture (from its ``metadata``) holding ``state``;
    ``path`` names the model in errors."""
    architecture = metadata.get("architecture", "")
    if architecture not in ARCHITECTURES:
        raise ModelError(f"{path} is not a train_fast model (architecture {architecture!r})")
    net = build_net(architecture)
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:
        raise ModelError(f"{path} does not hold a {architecture} network's weights") from exc
    return net


def training_record(metadata: dict[str, str]) -> dict:
    """A model's ``training`` metadata as a dict (empty when absent or unreadable)."""
    try:
        value = json.loads(metadata.get("training", "{}"))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def write_verified(net: StyleNet, path: Path, metadata: dict[str, str]) -> ExportReport:
    """Write ``net`` with ``metadata`` to ``path`` under a temporary name, verify it in
    onnxruntime (:func:`verify_against_torch`), then rename it to ``path``; in fp16 when
    the metadata's ``precision`` says so."""
    fp16 = metadata.get("precision") == "fp16"
    partial = path.with_name(path.name + ".partial")
    try:
        _write(net, partial, fp16=fp16, metadata=metadata)
        # fp16 is for GPUs; onnxruntime's CPU kernels cover it only partly, so it is
        # compared against the fp32 network with a looser bound where it runs.
        diff = verify_against_torch(net.float(), partial, atol_levels=12 if fp16 else 2)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return ExportReport(path, diff, path.stat().st_size)


def _write(net: StyleNet, path: Path, *, fp16: bool, metadata: dict[str, str]) -> None:
    """Export ``net``'s frame graph to ``path`` with ``metadata``; checked by onnx."""
    net = copy.deepcopy(net).eval()
    net = net.half() if fp16 else net.float()
    graph = _FrameGraph(net)
    m = net.PAD_MULTIPLE
    dummy = torch.zeros(1, 16 * m, 24 * m, 3, dtype=torch.uint8)
    tmp = path.with_name(path.name + ".graph")
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            graph,
            (dummy,),
            str(tmp),
            input_names=["frame"],
            output_names=["stylized"],
            dynamic_axes={
                "frame": {1: "height", 2: "width"},
                "stylized": {1: "height", 2: "width"},
            },
            opset_version=OPSET,
            dynamo=False,
            # Folding would fold parameters that the graph reshapes into new, unnamed
            # constants; unfolded, every parameter stays an initializer named after it
            # (read_onnx_weights), and onnxruntime folds the rest when it loads the model.
            do_constant_folding=False,
        )
    try:
        model = onnx.load(str(tmp))
    finally:
        tmp.unlink(missing_ok=True)
    onnx.helper.set_model_props(model, metadata)
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as exc:
        raise ModelError(f"the exported model fails the ONNX checker: {first_line(exc)}") from exc
    onnx.save(model, str(path))


def verify_against_torch(net: StyleNet, path: Path, atol_levels: int | None = 2) -> int:
    """Largest uint8 difference between torch and onnxruntime on two frame sizes."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    m = net.PAD_MULTIPLE
    worst = 0
    for h, w in ((8 * m, 12 * m), (30 * m, 20 * m)):
        frame = rng.integers(0, 256, (1, h, w, 3), dtype=np.uint8)
        (onnx_out,) = session.run(None, {"frame": frame})
        with torch.no_grad():
            torch_out = net.forward_frame(torch.from_numpy(frame)).numpy()
        worst = max(worst, int(np.abs(onnx_out.astype(int) - torch_out.astype(int)).max()))
    if atol_levels is not None and worst > atol_levels:
        raise ModelError(
            f"the exported model differs from the torch network by {worst} levels "
            f"(more than {atol_levels})"
        )
    return worst


def read_onnx_weights(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The network weights (a state dict) and the metadata of a model ``export_onnx`` wrote.

    The exported graph names each initializer after its parameter (``net.`` + the state-dict
    key), so a shipped model is itself the point training resumes from on any machine.
    """
    model = onnx.load(str(path))
    prefix = "net."
    state = {
        init.name[len(prefix) :]: torch.from_numpy(numpy_helper.to_array(init).copy())
        for init in model.graph.initializer
        if init.name.startswith(prefix)
    }
    return state, {p.key: p.value for p in model.metadata_props}


if __name__ == "__main__":
    import sys

    from train_fast.cli import reexport_main

    sys.exit(reexport_main())
