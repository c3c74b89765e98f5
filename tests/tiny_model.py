"""A tiny ONNX style model for tests, built with onnx.helper (no torch).

The "style" inverts the colours and rotates the channels (B<-G, G<-R, R<-B), so a test can
tell the stylized frame from the original and the channel order from its reverse. A
SpaceToDepth/DepthToSpace pair makes onnxruntime reject any input whose height or width is
not a multiple of ``pad_multiple``, as a real strided network would. The uint8 model stays
in uint8 throughout, so it costs a few milliseconds per frame, not tens.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

BGR_ROLL = [1, 2, 0]
"""Output channel k is input channel BGR_ROLL[k] (inverted)."""


def expected_output(frame_bgr: np.ndarray) -> np.ndarray:
    """What the tiny model does to a BGR uint8 frame, computed with numpy."""
    return 255 - frame_bgr[..., BGR_ROLL]


def build_tiny_model(
    path: Path,
    *,
    name: str = "tiny",
    convention: str = "bgr_uint8_nhwc",
    pad_multiple: int = 4,
    metadata: dict[str, str] | None = None,
    paint_size: int | None = None,
) -> Path:
    """Write a tiny style model to ``path`` and return ``path``.

    ``convention`` is ``bgr_uint8_nhwc`` (the stream-nst format) or ``rgb_float255_nchw``
    (pytorch/examples fast_neural_style exports). ``metadata`` replaces the default
    metadata_props; pass ``{}`` for a model without metadata. ``paint_size`` adds that
    metadata entry (the short side the runtime paints frames at).
    """
    block = pad_multiple
    size_check = [
        helper.make_node("SpaceToDepth", ["nchw"], ["blocks"], blocksize=block),
        helper.make_node("DepthToSpace", ["blocks"], ["checked"], blocksize=block, mode="DCR"),
    ]
    if convention == "bgr_uint8_nhwc":
        dtype, shape = TensorProto.UINT8, [1, "height", "width", 3]
        roll = np.array(BGR_ROLL, dtype=np.int64)
        nodes = [
            helper.make_node("Transpose", ["frame"], ["nchw"], perm=[0, 3, 1, 2]),
            *size_check,
            helper.make_node("BitwiseNot", ["checked"], ["inverted"]),
            helper.make_node("Gather", ["inverted", "roll"], ["rolled"], axis=1),
            helper.make_node("Transpose", ["rolled"], ["stylized"], perm=[0, 2, 3, 1]),
        ]
        initializers = [numpy_helper.from_array(roll, "roll")]
    else:
        dtype, shape = TensorProto.FLOAT, [1, 3, "height", "width"]
        roll = np.array([2 - BGR_ROLL[2 - k] for k in range(3)], dtype=np.int64)  # in RGB
        nodes = [
            helper.make_node("Identity", ["frame"], ["nchw"]),
            *size_check,
            helper.make_node("Sub", ["white", "checked"], ["inverted"]),
            helper.make_node("Gather", ["inverted", "roll"], ["stylized"], axis=1),
        ]
        initializers = [
            numpy_helper.from_array(roll, "roll"),
            numpy_helper.from_array(np.array(255.0, dtype=np.float32), "white"),
        ]
    graph = helper.make_graph(
        nodes,
        f"tiny_{convention}",
        [helper.make_tensor_value_info("frame", dtype, shape)],
        [helper.make_tensor_value_info("stylized", dtype, shape)],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    if metadata is None:
        metadata = {
            "format_version": "1",
            "input_convention": convention,
            "pad_multiple": str(pad_multiple),
            "style_name": name,
            "artwork_title": f"{name.title()} Test Pattern",
            "artwork_artist": "Test Suite",
            "artwork_licence": "CC0",
        }
        if paint_size is not None:
            metadata["paint_size"] = str(paint_size)
    helper.set_model_props(model, metadata)
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, path)
    return path
