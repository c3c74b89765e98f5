"""The style model format (docs/MODEL_FORMAT.md), shared by the runtime and the exporter.

One ONNX file per style; everything the runtime needs travels in its ``metadata_props``.
``train_fast.export`` writes :func:`format_metadata`; :func:`model_spec` checks a model
against the format when the runtime opens it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from .errors import ModelError

FORMAT_VERSION = 1
"""The newest format version this code reads and the one the exporter writes."""
BGR_UINT8_NHWC = "bgr_uint8_nhwc"
"""uint8 ``[1, H, W, 3]`` BGR in and out: what train_fast writes."""
RGB_FLOAT255_NCHW = "rgb_float255_nchw"
"""float32 ``[1, 3, H, W]`` RGB 0-255 in and out: pytorch/examples ``fast_neural_style``."""
DEFAULT_PAD_MULTIPLE = 4
MIN_SIZE = 16
"""Smallest frame side the runtime accepts (a style network downsamples by 4 or more)."""

# Tensor type and channel axis of each convention's input and output.
_CONVENTIONS = {BGR_UINT8_NHWC: ("tensor(uint8)", 3), RGB_FLOAT255_NCHW: ("tensor(float)", 1)}


class TensorInfo(Protocol):
    """What :func:`model_spec` reads of an input or output (onnxruntime's ``NodeArg``)."""

    name: str
    type: str
    shape: Sequence[int | str | None]


@dataclass(frozen=True)
class ModelSpec:
    """The I/O convention of a model, from its metadata and its graph."""

    convention: str
    pad_multiple: int
    input_name: str
    output_name: str
    paint_size: int | None = None
    """Short side (px) the network paints at; None = the frame's own size."""


def format_metadata(*, pad_multiple: int, paint_size: int | None) -> dict[str, str]:
    """The format's own keys for a model train_fast writes (the exporter adds the rest)."""
    metadata = {
        "format_version": str(FORMAT_VERSION),
        "input_convention": BGR_UINT8_NHWC,
        "pad_multiple": str(pad_multiple),
    }
    if paint_size is not None:
        metadata["paint_size"] = str(paint_size)
    return metadata


def model_spec(
    where: str,
    metadata: Mapping[str, str],
    inputs: Sequence[TensorInfo],
    outputs: Sequence[TensorInfo],
) -> ModelSpec:
    """Check a model (``where`` names it in errors) against the format; its I/O convention."""
    version = metadata.get("format_version", str(FORMAT_VERSION))
    if not version.isdigit() or int(version) > FORMAT_VERSION:
        raise ModelError(
            f"{where} has format version {version}; this stream-nst reads {FORMAT_VERSION}"
        )
    if len(inputs) != 1 or not outputs:
        raise ModelError(f"{where} must have one image input and an output, not {len(inputs)}")
    tensor, output = inputs[0], outputs[0]
    default = BGR_UINT8_NHWC if tensor.type == "tensor(uint8)" else RGB_FLOAT255_NCHW
    convention = metadata.get("input_convention", default)
    if convention not in _CONVENTIONS:
        raise ModelError(f"{where} has unknown input_convention {convention!r}")
    dtype, channel_axis = _CONVENTIONS[convention]
    shape = tensor.shape
    rank_ok = len(shape) == 4 and len(output.shape) == 4
    channels = shape[channel_axis] if rank_ok else None
    channels_ok = not isinstance(channels, int) or channels == 3  # a str or None if dynamic
    if tensor.type != dtype or output.type != dtype or not rank_ok or not channels_ok:
        raise ModelError(
            f"{where} does not match {convention}: input {tensor.type} {shape}, "
            f"output {output.type} {output.shape}"
        )
    pad = metadata.get("pad_multiple", str(DEFAULT_PAD_MULTIPLE))
    if not pad.isdigit() or not 1 <= int(pad) <= 256:
        raise ModelError(f"{where} has an invalid pad_multiple {pad!r}")
    paint = metadata.get("paint_size")
    if paint is not None and (not paint.isdigit() or not MIN_SIZE <= int(paint) <= 8192):
        raise ModelError(f"{where} has an invalid paint_size {paint!r}")
    return ModelSpec(convention, int(pad), tensor.name, output.name, int(paint) if paint else None)
