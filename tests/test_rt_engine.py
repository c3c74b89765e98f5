"""The engine: model contract, padding and cropping, strength, colour, size, providers."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from rt_media import gradient_frame
from tiny_model import build_tiny_model, expected_output

from stream_nst.engine import Stylizer, keep_original_colors
from stream_nst.errors import InputError, ModelError, UsageError
from stream_nst.hardware import choose_providers, cuda_device_count, physical_cores
from stream_nst.model_format import MIN_SIZE
from stream_nst.onnxmeta import read_metadata
from stream_nst.settings import EngineSettings, StylizeSettings


@pytest.mark.parametrize("size", [(64, 48), (37, 23), (101, 17)])
def test_output_is_the_model_output_at_the_exact_size(tiny_model: Path, size) -> None:
    frame = gradient_frame(3, *size)
    out = Stylizer(tiny_model).stylize(frame)
    assert out.shape == frame.shape and out.dtype == np.uint8 and out.flags.c_contiguous
    # The tiny model works per pixel, so padding must not show in the cropped result.
    np.testing.assert_array_equal(out, expected_output(frame))


def test_no_copy_when_the_size_fits(tiny_model: Path) -> None:
    stylizer = Stylizer(tiny_model)
    frame = gradient_frame(0, 64, 48)
    assert stylizer.model.spec.pad_multiple == 4
    out = stylizer.stylize(frame)
    assert out.base is not None  # a view of onnxruntime's output, not a copy


def test_float_nchw_rgb_models_are_accepted(tmp_path: Path) -> None:
    model = build_tiny_model(tmp_path / "f.onnx", convention="rgb_float255_nchw", pad_multiple=8)
    frame = gradient_frame(1, 50, 30)
    out = Stylizer(model).stylize(frame)
    np.testing.assert_allclose(out, expected_output(frame), atol=1)


@pytest.mark.parametrize("convention", ["bgr_uint8_nhwc", "rgb_float255_nchw"])
def test_models_without_metadata_get_the_documented_defaults(tmp_path: Path, convention) -> None:
    model = build_tiny_model(tmp_path / "m.onnx", convention=convention, metadata={})
    stylizer = Stylizer(model)
    assert stylizer.model.spec.convention == convention
    assert stylizer.model.spec.pad_multiple == 4
    frame = gradient_frame(2, 40, 20)
    np.testing.assert_allclose(stylizer.stylize(frame), expected_output(frame), atol=1)


def test_strength_blends_with_the_original(tiny_model: Path) -> None:
    frame = gradient_frame(5, 32, 32)
    full = expected_output(frame).astype(float)
    none = Stylizer(tiny_model, settings=StylizeSettings(strength=0.0)).stylize(frame)
    half = Stylizer(tiny_model, settings=StylizeSettings(strength=0.5)).stylize(frame)
    np.testing.assert_array_equal(none, frame)
    assert np.abs(half - (full + frame) / 2).max() <= 1


def test_preserve_color_keeps_the_chroma_and_takes_the_brightness(tiny_model: Path) -> None:
    frame = gradient_frame(4, 48, 32)
    out = Stylizer(tiny_model, settings=StylizeSettings(preserve_color=True)).stylize(frame)
    ycc_out, ycc_in = (cv2.cvtColor(x, cv2.COLOR_BGR2YCrCb).astype(int) for x in (out, frame))
    ycc_styled = cv2.cvtColor(expected_output(frame), cv2.COLOR_BGR2YCrCb).astype(int)
    assert np.abs(ycc_out[..., 0] - ycc_styled[..., 0]).mean() < 2
    assert np.abs(ycc_out[..., 1:] - ycc_in[..., 1:]).mean() < 2
    same = keep_original_colors(frame, frame).astype(int)
    assert np.abs(same - frame).max() <= 2  # only the YCrCb round trip's rounding


def test_max_size_stylizes_smaller_and_scales_back(tiny_model: Path) -> None:
    frame = np.full((120, 200, 3), 40, np.uint8)
    out = Stylizer(tiny_model, settings=StylizeSettings(max_size=64)).stylize(frame)
    assert out.shape == frame.shape
    np.testing.assert_array_equal(out, expected_output(frame))  # flat colour survives scaling


def test_a_too_small_frame_is_an_input_error(tiny_model: Path) -> None:
    with pytest.raises(InputError, match="too small"):
        Stylizer(tiny_model).stylize(np.zeros((MIN_SIZE - 1, 64, 3), np.uint8))


def test_switching_styles_keeps_one_session_per_style(models_dir: Path) -> None:
    stylizer = Stylizer("tiny")
    first = stylizer.model
    stylizer.set_style("tiny8")
    assert stylizer.model.spec.pad_multiple == 8
    stylizer.set_style("tiny")
    assert stylizer.model is first


def _write_graph(path: Path, x_type, x_shape, y_type, y_shape, metadata=None) -> Path:
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", x_type, x_shape)],
        [helper.make_tensor_value_info("y", y_type, y_shape)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, metadata or {})
    onnx.save(model, path)
    return path


@pytest.mark.parametrize(
    ("x", "metadata", "message"),
    [
        ((TensorProto.FLOAT, [1, 3]), {}, "does not match"),
        ((TensorProto.UINT8, [1, "h", "w", 4]), {}, "does not match"),
        ((TensorProto.UINT8, [1, "h", "w", 3]), {"input_convention": "yuv"}, "unknown input"),
        ((TensorProto.UINT8, [1, "h", "w", 3]), {"format_version": "2"}, "format version 2"),
        ((TensorProto.UINT8, [1, "h", "w", 3]), {"pad_multiple": "zero"}, "pad_multiple"),
    ],
)
def test_incompatible_models_are_model_errors(tmp_path: Path, x, metadata, message) -> None:
    model = _write_graph(tmp_path / "bad.onnx", *x, *x, metadata)
    with pytest.raises(ModelError, match=message):
        Stylizer(model).load()


def test_corrupt_onnx_is_a_model_error(tmp_path: Path, tiny_model: Path) -> None:
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x08\x07not a model at all" * 10)
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(tiny_model.read_bytes()[:300])
    for path in (garbage, truncated):
        with pytest.raises(ModelError):
            Stylizer(path).load()


def test_metadata_is_read_without_onnxruntime(tiny_model: Path) -> None:
    meta = read_metadata(tiny_model)
    assert meta["input_convention"] == "bgr_uint8_nhwc" and meta["pad_multiple"] == "4"
    assert meta == {prop.key: prop.value for prop in onnx.load(tiny_model).metadata_props}


def test_providers_follow_the_device_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert choose_providers("cpu") == ["CPUExecutionProvider"]
    monkeypatch.setattr("stream_nst.hardware.cuda_device_count", lambda: 0)
    assert choose_providers("auto") == ["CPUExecutionProvider"]
    with pytest.raises(UsageError, match="no CUDA GPU"):
        choose_providers("cuda")
    monkeypatch.setattr("stream_nst.hardware.cuda_device_count", lambda: 1)
    providers = choose_providers("cuda")
    assert providers[-1] == "CPUExecutionProvider" and len(providers) >= 2
    trt = [p for p in providers if isinstance(p, tuple)]
    assert all(options["trt_fp16_enable"] for _, options in trt)


def test_thread_and_device_settings() -> None:
    assert 1 <= physical_cores() <= len(os.sched_getaffinity(0))
    assert cuda_device_count() >= 0
    with pytest.raises(UsageError):
        EngineSettings(device="tpu")
    with pytest.raises(UsageError):
        EngineSettings(threads=0)
    with pytest.raises(UsageError):
        StylizeSettings(strength=1.5)
