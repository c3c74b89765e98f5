"""Feed-forward style networks (image in, stylised image out).

Both networks take and return BGR tensors in [0, 255] of shape (N, 3, H, W), so the
loss code and the ONNX export wrapper treat them alike. ``PAD_MULTIPLE`` of each class is
the factor H and W must be divisible by.

* :class:`JohnsonNet` — the reference of Johnson et al. (2016) as refined by
  pytorch/examples: reflection padding (no border artefacts), instance norm (style is a
  per-image contrast normalisation, Ulyanov et al. 2016), residual blocks, and
  nearest-upsample + conv instead of transposed conv (no checkerboards).
* :class:`RTNet` — the real-time network. It works at 1/4 resolution from its first layer
  (pixel-unshuffle turns each 4x4 patch into 48 channels, which costs nothing), does its
  style work with blocks of 1x1, depthwise 3x3 and 1x1 convs (MobileNetV2's, without the
  expansion) at 1/8 resolution, and returns to full resolution through pixel-shuffle. Like
  Johnson's network it paints the output rather than adding a change to the photo: a variant
  with that global residual kept the photo's colours and only drew a fixed lattice over it
  (style loss 0.59 against 0.15 after the same 5 minutes of training, in an experiment
  with 2x-expanded blocks). The input patches
  join the last layer through a skip connection, so the photo's edges stay at hand.
  Every op is one onnxruntime runs fast on CPU. Its 4x4 cells show: textures lock to a
  4-pixel lattice (a known failure of such "squeeze" layers).
* :class:`PaintNet` — the default. Johnson's layout (strided convs down to 1/8, residual
  blocks, resize-convs back up) shrunk to a CPU budget: three stride-2 convs (16, 32, 64
  channels), five of rtnet's mixing blocks at 1/8, and nearest-upsample + separable conv
  stages back to full size, so no layer paints in fixed cells (no lattice, no checkerboard).
  It is meant to paint at a fixed size (the model's ``paint_size``: the runtime scales frames
  to it and restores full-resolution edges), which keeps its cost per frame constant and
  its brush strokes at the painting's scale relative to the frame.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class ConvLayer(nn.Sequential):
    """Reflection-padded convolution (keeps borders free of zero-padding artefacts)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1):
        super().__init__(
            nn.ReflectionPad2d(kernel // 2),
            nn.Conv2d(cin, cout, kernel, stride, groups=groups),
        )


class ConvNormReLU(nn.Sequential):
    """Conv, instance norm with learnt affine, ReLU."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1):
        super().__init__(
            ConvLayer(cin, cout, kernel, stride),
            nn.InstanceNorm2d(cout, affine=True),
            nn.ReLU(inplace=True),
        )


class ResidualBlock(nn.Module):
    """Two 3x3 convs with instance norm and an identity shortcut (He et al. 2016)."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            ConvNormReLU(channels, channels, 3),
            ConvLayer(channels, channels, 3),
            nn.InstanceNorm2d(channels, affine=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class UpsampleConv(nn.Sequential):
    """Nearest-neighbour x2 upsampling then conv: avoids transposed-conv checkerboards."""

    def __init__(self, cin: int, cout: int, kernel: int):
        super().__init__(
            nn.Upsample(scale_factor=2, mode="nearest"),
            ConvNormReLU(cin, cout, kernel),
        )


class StyleNet(nn.Module):
    """Base of the style networks: BGR 0–255 NCHW float in and out (see the module docstring).

    :meth:`forward_frame` is the graph that is exported to ONNX: it takes and returns OpenCV
    frames (``uint8 (1, H, W, 3)`` BGR) so the runtime does no per-frame conversion.
    """

    PAD_MULTIPLE: int = 4

    def forward_frame(self, frame: torch.Tensor) -> torch.Tensor:
        return to_uint8(self(self._frame_in(frame))).permute(0, 2, 3, 1)

    def _frame_in(self, frame: torch.Tensor) -> torch.Tensor:
        """A frame as the network's input: NCHW in its compute dtype."""
        return frame.permute(0, 3, 1, 2).to(self.compute_dtype)

    @property
    def compute_dtype(self) -> torch.dtype:
        """float32, or float16 for the GPU copy of an exported model."""
        return next(self.parameters()).dtype


def to_uint8(image: torch.Tensor) -> torch.Tensor:
    """Round 0–255 floats to uint8 (add 0.5 then truncate: ONNX Cast truncates)."""
    return (image + 0.5).clamp(0, 255).to(torch.uint8)


class JohnsonNet(StyleNet):
    """Johnson et al. (2016) transformer network, 1.68 M parameters."""

    PAD_MULTIPLE = 4

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            ConvNormReLU(3, 32, 9),
            ConvNormReLU(32, 64, 3, stride=2),
            ConvNormReLU(64, 128, 3, stride=2),
            *[ResidualBlock(128) for _ in range(5)],
            UpsampleConv(128, 64, 3),
            UpsampleConv(64, 32, 3),
            ConvLayer(32, 3, 9),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class SeparableConv(nn.Sequential):
    """Depthwise 3x3 then pointwise 1x1: a 3x3 conv's receptive field at a fraction of its cost."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__(
            ConvLayer(cin, cin, 3, stride, groups=cin),
            nn.Conv2d(cin, cout, 1),
        )


class MixingBlock(nn.Module):
    """1x1 conv, depthwise 3x3, 1x1 conv, each with instance norm, and an identity shortcut.

    The 1x1 convs mix channels as plain matrix products (which onnxruntime runs at full
    speed), the depthwise 3x3 gives the spatial reach. MobileNetV2's inverted residual
    without the expansion: widening to 2x cost a third more time per frame.
    """

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 1),
            nn.InstanceNorm2d(channels, affine=True),
            nn.ReLU(inplace=True),
            ConvLayer(channels, channels, 3, groups=channels),
            nn.InstanceNorm2d(channels, affine=True),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 1),
            nn.InstanceNorm2d(channels, affine=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class RTNet(StyleNet):
    """Real-time style network for CPUs (see the module docstring for the design)."""

    PAD_MULTIPLE = 8
    PATCH = 4

    def __init__(self, width: int = 64, blocks: int = 5, stem: int = 32):
        super().__init__()
        cells = 3 * self.PATCH * self.PATCH  # channels of one 4x4 RGB patch
        self.encode = nn.Sequential(
            SeparableConv(cells, stem),  # H/4
            nn.InstanceNorm2d(stem, affine=True),
            nn.ReLU(inplace=True),
            SeparableConv(stem, width, stride=2),  # H/8
            nn.InstanceNorm2d(width, affine=True),
            nn.ReLU(inplace=True),
        )
        self.transform = nn.Sequential(*[MixingBlock(width) for _ in range(blocks)])
        self.decode = nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"),  # H/4
            SeparableConv(width, stem),
            nn.InstanceNorm2d(stem, affine=True),
            nn.ReLU(inplace=True),
        )
        # The input patches join the last layer (a skip connection, not a residual): the
        # photo's edges are at hand, its colours are not imposed.
        self.paint = SeparableConv(stem + cells, cells)  # each 4x4 RGB patch of the output

    def _cells(self, cells: torch.Tensor) -> torch.Tensor:
        """Input patches in [-1, 1] → stylised patches in about [-1, 1]."""
        features = self.decode(self.transform(self.encode(cells)))
        return self.paint(torch.cat([features, cells], dim=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self._cells(F.pixel_unshuffle(x / 127.5 - 1.0, self.PATCH))
        return (F.pixel_shuffle(y, self.PATCH) + 1.0) * 127.5

    def forward_frame(self, frame: torch.Tensor) -> torch.Tensor:
        # Space-to-depth straight from NHWC and depth-to-space straight back to NHWC: one
        # transpose each way instead of a layout transpose plus a pixel (un)shuffle, and
        # both on uint8 (a quarter of the memory traffic of float).
        n, h, w, _ = frame.shape
        p = self.PATCH
        x = frame.reshape(n, h // p, p, w // p, p, 3).permute(0, 5, 2, 4, 1, 3)
        x = x.reshape(n, 3 * p * p, h // p, w // p).to(self.compute_dtype) / 127.5 - 1.0
        y = self._cells(x) * 127.5 + 128.0  # scale to 0-255 plus the rounding half
        y = y.clamp(0, 255).to(torch.uint8).reshape(n, 3, p, p, h // p, w // p)
        return y.permute(0, 4, 2, 5, 3, 1).reshape(n, h, w, 3)


class UpsampleSeparable(nn.Sequential):
    """Nearest x2, separable conv, instance norm, ReLU: a cheap resize-conv."""

    def __init__(self, cin: int, cout: int):
        super().__init__(
            nn.Upsample(scale_factor=2, mode="nearest"),
            SeparableConv(cin, cout),
            nn.InstanceNorm2d(cout, affine=True),
            nn.ReLU(inplace=True),
        )


class PaintNet(StyleNet):
    """The default style network (see the module docstring), 75 k parameters."""

    PAD_MULTIPLE = 8

    def __init__(self, widths: tuple[int, int, int] = (16, 32, 64), blocks: int = 5):
        super().__init__()
        a, b, c = widths
        self.encode = nn.Sequential(
            ConvNormReLU(3, a, 3, stride=2),  # H/2
            ConvNormReLU(a, b, 3, stride=2),  # H/4
            ConvNormReLU(b, c, 3, stride=2),  # H/8
        )
        self.transform = nn.Sequential(*[MixingBlock(c) for _ in range(blocks)])
        self.decode = nn.Sequential(
            UpsampleSeparable(c, b),  # H/4
            UpsampleSeparable(b, a),  # H/2
            nn.Upsample(scale_factor=2, mode="nearest"),
            ConvLayer(a, 3, 3),  # H
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.decode[-2:](self._half_size(x))
        return (y + 1.0) * 127.5

    def _half_size(self, x: torch.Tensor) -> torch.Tensor:
        """Everything before the last stage: features at half the frame's size."""
        return self.decode[:-2](self.transform(self.encode(x / 127.5 - 1.0)))

    def forward_frame(self, frame: torch.Tensor) -> torch.Tensor:
        # The same function as forward, computed faster: the last stage (nearest x2, then a
        # reflection-padded 3x3 conv to 3 channels) runs at half resolution as one conv per
        # output pixel phase (upsampled_conv), so nothing is upsampled or padded at full
        # size. (Done to the depthwise convs of the earlier stages, it was slower: grouped
        # convs with 4 outputs per group have no fast kernel in onnxruntime.)
        y = upsampled_conv(self._half_size(self._frame_in(frame)), self.decode[-1][1])
        return to_uint8((y + 1.0) * 127.5).permute(0, 2, 3, 1)


def upsampled_conv(x: torch.Tensor, conv: nn.Conv2d) -> torch.Tensor:
    """``conv`` (3x3, stride 1) of ``x`` upsampled x2 (nearest) and reflection-padded by 1,
    computed at ``x``'s resolution: a conv with the :func:`phase_kernels` of ``conv`` on
    ``x`` edge-padded by 1, then pixel shuffle (depth to space)."""
    padded = F.pad(x, (1, 1, 1, 1), mode="replicate")
    bias = None if conv.bias is None else conv.bias.repeat_interleave(4)
    phases = F.conv2d(padded, phase_kernels(conv.weight), bias, groups=conv.groups)
    return F.pixel_shuffle(phases, 2)


def phase_kernels(weight: torch.Tensor) -> torch.Tensor:
    """The kernels of a 3x3 conv applied after nearest x2 upsampling and a 1-pixel
    reflection pad, as one 3x3 conv of the low-resolution input (edge-padded by 1) with 4x
    the output channels.

    Output pixel ``(2i + py, 2j + px)`` reads upsampled rows ``2i + py - 1 … 2i + py + 1``,
    which are low-resolution rows ``i - 1, i, i`` (``py = 0``) or ``i, i, i + 1``
    (``py = 1``), the reflected border row being the edge row again; the taps that land on
    the same low-resolution pixel add up. Output channel ``o`` becomes ``(o, py, px)``, the
    order of pixel shuffle, which also keeps a grouped conv's channels in their groups.
    """
    fold = weight.new_tensor(
        [[[1, 0, 0], [0, 1, 1], [0, 0, 0]], [[0, 0, 0], [1, 1, 0], [0, 0, 1]]]
    )  # fold[p, r, d]: tap d (offset d - 1) reads low-res offset r - 1 in phase p
    kernels = torch.einsum("prd,qse,ocde->opqcrs", fold, fold, weight)
    return kernels.reshape(-1, *weight.shape[1:])


ARCHITECTURES: dict[str, type[StyleNet]] = {
    "paintnet": PaintNet,
    "johnson": JohnsonNet,
    "rtnet": RTNet,
}


def build_net(arch: str) -> StyleNet:
    """Instantiate an architecture by name (a key of :data:`ARCHITECTURES`)."""
    try:
        return ARCHITECTURES[arch]()
    except KeyError:
        raise ValueError(
            f"unknown architecture {arch!r}; choose from {sorted(ARCHITECTURES)}"
        ) from None


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())
