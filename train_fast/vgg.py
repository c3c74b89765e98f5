"""VGG-19 feature extraction for perceptual losses, from every place users keep the weights.

Sources (``load_vgg_weights``):

* ``None`` — torchvision's ``vgg19(weights=IMAGENET1K_V1)`` (downloads and caches once).
* a torchvision state dict (``.pth``/``.pt``), loaded with ``weights_only=True``.
* MatConvNet ``imagenet-vgg-verydeep-19.mat`` (the file of the original Gatys TensorFlow ports).
* a Keras / TensorFlow.js layers export directory (``model.json`` + binary shards, float32 or
  uint8/uint16-quantized), e.g. ``../shared/vgg19``.

Each source keeps its own input convention (:class:`InputConvention`); :class:`VGGFeatures`
always takes the style networks' convention — BGR, 0–255, NCHW — and converts once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from stream_nst.errors import first_line
from train_fast.errors import VGGLoadError

VGG_ENV_VAR = "STREAM_NST_VGG"

# Conv layer names in order; a ReLU follows each conv and a 2x2 max-pool ends each block.
CONV_LAYERS: tuple[str, ...] = tuple(
    f"conv{block}_{i}"
    for block, n in ((1, 2), (2, 2), (3, 4), (4, 4), (5, 4))
    for i in range(1, n + 1)
)
# Indices of the convs in torchvision's ``vgg19().features``.
TORCHVISION_CONV_INDICES: tuple[int, ...] = (
    0,
    2,
    5,
    7,
    10,
    12,
    14,
    16,
    19,
    21,
    23,
    25,
    28,
    30,
    32,
    34,
)


@dataclass(frozen=True)
class InputConvention:
    """How a set of VGG weights expects its input image."""

    channel_order: str  # "rgb" or "bgr"
    scale: float  # multiply 0-255 pixels by this first
    mean: tuple[float, float, float]  # then subtract (in channel_order)
    std: tuple[float, float, float]  # then divide


CAFFE_BGR = InputConvention("bgr", 1.0, (103.939, 116.779, 123.68), (1.0, 1.0, 1.0))
CAFFE_RGB = InputConvention("rgb", 1.0, (123.68, 116.779, 103.939), (1.0, 1.0, 1.0))
TORCHVISION_RGB = InputConvention("rgb", 1 / 255, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))


@dataclass(frozen=True)
class VGGWeights:
    """The 16 conv layers of a VGG-19 (OIHW kernels, biases) and how to feed them."""

    convs: tuple[tuple[torch.Tensor, torch.Tensor], ...]
    convention: InputConvention
    source: str


_FORMAT_NAMES = {
    ".mat": "a MatConvNet .mat file",
    ".pth": "a torch state dict",
    ".pt": "a torch state dict",
}


def default_vgg_source() -> str | None:
    """The weights path from ``$STREAM_NST_VGG``, or None for torchvision's download."""
    return os.environ.get(VGG_ENV_VAR) or None


def load_vgg_weights(source: str | Path | None) -> VGGWeights:
    """Load VGG-19 conv weights from ``source`` (see the module docstring)."""
    if source is None:
        return _load_torchvision_pretrained()
    path = Path(source)
    if not path.exists():
        raise VGGLoadError(f"VGG weights not found: {path}")
    try:
        if path.is_dir() or path.name == "model.json":
            return _load_tfjs(path if path.is_dir() else path.parent)
        if path.suffix == ".mat":
            return _load_matconvnet(path)
        if path.suffix in (".pth", ".pt"):
            return _weights_from_state_dict(
                torch.load(path, map_location="cpu", weights_only=True), f"torch:{path}"
            )
    except VGGLoadError:
        raise
    except Exception as exc:  # any parse failure of a user-given file is a bad input
        what = _FORMAT_NAMES.get(path.suffix, "a TF.js/Keras model.json folder")
        raise VGGLoadError(
            f"cannot read VGG weights from {path}: not {what} holding VGG-19 "
            f"({type(exc).__name__}: {first_line(exc)[:80]})"
        ) from exc
    raise VGGLoadError(
        f"unknown VGG weights format: {path} (expected a .pth state dict, a MatConvNet .mat, "
        "or a TF.js/Keras model.json directory)"
    )


def _load_torchvision_pretrained() -> VGGWeights:
    from torchvision.models import VGG19_Weights, vgg19

    try:
        model = vgg19(weights=VGG19_Weights.IMAGENET1K_V1)
    except Exception as exc:  # network failure when the weights are not cached
        raise VGGLoadError(
            f"cannot download torchvision's VGG-19 weights ({exc}); pass --vgg PATH or set "
            f"{VGG_ENV_VAR} to local weights"
        ) from exc
    return _weights_from_state_dict(model.state_dict(), "torchvision:IMAGENET1K_V1")


def _weights_from_state_dict(state: dict, source: str) -> VGGWeights:
    try:
        convs = tuple(
            (state[f"features.{i}.weight"].float(), state[f"features.{i}.bias"].float())
            for i in TORCHVISION_CONV_INDICES
        )
    except (KeyError, TypeError) as exc:
        raise VGGLoadError(
            f"{source}: not a torchvision VGG-19 state dict (missing {exc})"
        ) from exc
    return _checked(VGGWeights(convs, TORCHVISION_RGB, source))


def _load_matconvnet(path: Path) -> VGGWeights:
    from scipy.io import loadmat

    layers = loadmat(str(path))["layers"][0]
    convs = []
    for layer in layers:
        layer = layer[0][0]
        if str(layer["type"][0]) != "conv":
            continue
        kernel, bias = layer["weights"][0]
        if kernel.ndim != 4 or kernel.shape[0] != 3:
            continue  # the fully connected layers are stored as convs with large kernels
        convs.append(
            (
                torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1))).float(),
                torch.from_numpy(bias.reshape(-1)).float(),
            )
        )
    return _checked(VGGWeights(tuple(convs[: len(CONV_LAYERS)]), CAFFE_RGB, f"matconvnet:{path}"))


_TFJS_DTYPES = {"uint8": np.uint8, "uint16": np.uint16, "float32": np.float32}


def _load_tfjs(directory: Path) -> VGGWeights:
    """Read Keras ``blockB_convC/kernel|bias`` tensors from a TF.js layers export."""
    manifest = json.loads((directory / "model.json").read_text())["weightsManifest"]
    tensors: dict[str, np.ndarray] = {}
    wanted = {f"block{n[4]}_conv{n[6]}/{kind}" for n in CONV_LAYERS for kind in ("kernel", "bias")}
    for group in manifest:
        stream = _ShardStream(directory, group["paths"])
        for spec in group["weights"]:
            quant = spec.get("quantization")
            dtype = np.dtype(_TFJS_DTYPES[quant["dtype"] if quant else spec["dtype"]])
            count = int(np.prod(spec["shape"])) if spec["shape"] else 1
            if not wanted - tensors.keys():
                break
            raw = np.frombuffer(stream.read(count * dtype.itemsize), dtype=dtype)
            values = raw.astype(np.float32)
            if quant:
                values = values * np.float32(quant["scale"]) + np.float32(quant["min"])
            tensors[spec["name"]] = values.reshape(spec["shape"])
    missing = sorted(wanted - tensors.keys())
    if missing:
        raise VGGLoadError(
            f"{directory}: TF.js export lacks VGG-19 conv tensors, e.g. {missing[0]}"
        )
    convs = tuple(
        (
            torch.from_numpy(
                np.ascontiguousarray(
                    tensors[f"block{n[4]}_conv{n[6]}/kernel"].transpose(3, 2, 0, 1)
                )
            ),
            torch.from_numpy(tensors[f"block{n[4]}_conv{n[6]}/bias"]),
        )
        for n in CONV_LAYERS
    )
    return _checked(VGGWeights(convs, CAFFE_BGR, f"tfjs:{directory}"))


class _ShardStream:
    """The concatenated bytes of a TF.js weight group's shards, opened only as far as read."""

    def __init__(self, directory: Path, paths: Iterable[str]):
        self._paths = iter(paths)
        self._directory = directory
        self._buffer = b""

    def read(self, n: int) -> bytes:
        while len(self._buffer) < n:
            name = next(self._paths, None)
            if name is None:
                raise VGGLoadError(
                    f"{self._directory}: weight shards end before the conv layers do"
                )
            shard = self._directory / name
            if not shard.exists():
                raise VGGLoadError(f"{self._directory}: missing weight shard {name}")
            self._buffer += shard.read_bytes()
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out


def _checked(weights: VGGWeights) -> VGGWeights:
    expected_out = (64, 64, 128, 128, 256, 256, 256, 256, 512, 512, 512, 512, 512, 512, 512, 512)
    shapes_ok = len(weights.convs) == len(CONV_LAYERS) and all(
        k.ndim == 4 and k.shape[0] == c and k.shape[2:] == (3, 3) and b.shape == (c,)
        for (k, b), c in zip(weights.convs, expected_out, strict=False)
    )
    if not shapes_ok:
        raise VGGLoadError(f"{weights.source}: tensors do not have VGG-19's conv shapes")
    if not all(torch.isfinite(k).all() and torch.isfinite(b).all() for k, b in weights.convs):
        raise VGGLoadError(f"{weights.source}: weights contain NaN or infinity")
    return weights


def relu_name(conv: str) -> str:
    return conv.replace("conv", "relu")


class VGGFeatures(nn.Module):
    """Frozen VGG-19 trunk that returns the activations of the requested ReLU layers.

    Input: BGR, 0–255, ``(N, 3, H, W)`` — the style networks' own convention. Only the layers
    up to the deepest one requested are built and run.
    """

    def __init__(self, weights: VGGWeights, layers: Sequence[str]):
        super().__init__()
        self.layers = tuple(layers)
        order = [relu_name(c) for c in CONV_LAYERS]
        unknown = [name for name in self.layers if name not in order]
        if unknown:
            raise ValueError(f"unknown VGG layers {unknown}; choose from {order}")
        depth = max(order.index(name) for name in self.layers) + 1
        conv = weights.convention
        self.flip = conv.channel_order == "rgb"
        self.register_buffer(
            "scale",
            torch.tensor(conv.scale / np.array(conv.std), dtype=torch.float32).view(1, 3, 1, 1),
        )
        self.register_buffer(
            "shift",
            torch.tensor(-np.array(conv.mean) / np.array(conv.std), dtype=torch.float32).view(
                1, 3, 1, 1
            ),
        )
        self.convs = nn.ModuleList()
        for kernel, bias in weights.convs[:depth]:
            layer = nn.Conv2d(kernel.shape[1], kernel.shape[0], 3, padding=1)
            layer.weight.data.copy_(kernel)
            layer.bias.data.copy_(bias)
            self.convs.append(layer)
        self.names = order[:depth]
        self.requires_grad_(False)
        self.eval()

    def forward(
        self, x_bgr: torch.Tensor, layers: Sequence[str] | None = None
    ) -> dict[str, torch.Tensor]:
        """Activations of ``layers`` (default: all the trunk was built for); stops at the last."""
        wanted = self.layers if layers is None else tuple(layers)
        x = x_bgr.flip(1) if self.flip else x_bgr
        x = x * self.scale + self.shift
        out: dict[str, torch.Tensor] = {}
        for name, conv in zip(self.names, self.convs, strict=True):
            if name.endswith("_1") and name != "relu1_1":
                x = nn.functional.max_pool2d(x, 2)
            x = torch.relu(conv(x))
            if name in wanted:
                out[name] = x
                if len(out) == len(wanted):
                    break
        return out
