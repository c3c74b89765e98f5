"""A tiny ONNX style model for tests, built with onnx.helper (no torch).

The "style" inverts the colours and mixes the channels a little, so a test can tell the
stylized frame from the original, the channel order from its reverse and the padded area
from the picture. A SpaceToDepth/DepthToSpace pair makes onnxruntime reject any input whose
height or width is not a multiple of ``pad_multiple``, as a real strided network would.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# out = 255 - x @ MIX (BGR in, BGR out): invert, with a small mix of the other channels.
MIX = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]], dtype=np.float32)


def expected_output(frame_bgr: np.ndarray) -> np.ndarray:
    """What the tiny model does to a BGR uint8 frame, computed with numpy."""
    mixed = frame_bgr.astype(np.float32) @ MIX
    return np.clip(np.rint(255.0 - mixed), 0, 255).astype(np.uint8)


def build_tiny_model(
    path: Path,
    *,
    name: str = "tiny",
    convention: str = "bgr_uint8_nhwc",
    pad_multiple: int = 4,
    metadata: dict[str, str] | None = None,
) -> Path:
    """Write a tiny style model to ``path`` and return ``path``.

    ``convention`` is ``bgr_uint8_nhwc`` (the stream-nst format) or ``rgb_float255_nchw``
    (pytorch/examples fast_neural_style exports). ``metadata`` replaces the default
    metadata_props; pass ``{}`` for a model without metadata.
    """
    mix = MIX if convention == "bgr_uint8_nhwc" else MIX[::-1, ::-1].copy()
    initializers = [
        numpy_helper.from_array(mix, "mix"),
        numpy_helper.from_array(np.array(255.0, dtype=np.float32), "white"),
        numpy_helper.from_array(np.array(0.0, dtype=np.float32), "lo"),
        numpy_helper.from_array(np.array(255.0, dtype=np.float32), "hi"),
    ]
    block = pad_multiple
    # Work in NCHW float so SpaceToDepth can check the size; the channel mix is in NHWC.
    nodes = []
    if convention == "bgr_uint8_nhwc":
        x_dtype, x_shape = TensorProto.UINT8, [1, "height", "width", 3]
        nodes += [
            helper.make_node("Cast", ["frame"], ["f"], to=TensorProto.FLOAT),
            helper.make_node("Transpose", ["f"], ["nchw"], perm=[0, 3, 1, 2]),
        ]
    else:
        x_dtype, x_shape = TensorProto.FLOAT, [1, 3, "height", "width"]
        nodes.append(helper.make_node("Identity", ["frame"], ["nchw"]))
    nodes += [
        helper.make_node("SpaceToDepth", ["nchw"], ["s2d"], blocksize=block),
        helper.make_node("DepthToSpace", ["s2d"], ["d2s"], blocksize=block, mode="DCR"),
        helper.make_node("Transpose", ["d2s"], ["nhwc"], perm=[0, 2, 3, 1]),
        helper.make_node("MatMul", ["nhwc", "mix"], ["mixed"]),
        helper.make_node("Sub", ["white", "mixed"], ["inverted"]),
        helper.make_node("Round", ["inverted"], ["rounded"]),
        helper.make_node("Clip", ["rounded", "lo", "hi"], ["clipped"]),
    ]
    if convention == "bgr_uint8_nhwc":
        y_dtype, y_shape = TensorProto.UINT8, [1, "height", "width", 3]
        nodes.append(helper.make_node("Cast", ["clipped"], ["stylized"], to=TensorProto.UINT8))
    else:
        y_dtype, y_shape = TensorProto.FLOAT, [1, 3, "height", "width"]
        nodes.append(helper.make_node("Transpose", ["clipped"], ["stylized"], perm=[0, 3, 1, 2]))
    graph = helper.make_graph(
        nodes,
        f"tiny_{convention}",
        [helper.make_tensor_value_info("frame", x_dtype, x_shape)],
        [helper.make_tensor_value_info("stylized", y_dtype, y_shape)],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
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
    helper.set_model_props(model, metadata)
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, path)
    return path
