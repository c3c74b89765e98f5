"""The stability term's input: a training crop changed the way the next video frame is.

Between two frames of a video the picture shifts a little, its brightness drifts, sensor and
compression noise change, and something moves somewhere. A steady network follows the shift
and otherwise keeps its output, also far from the thing that moved: instance norm makes every
output pixel depend on the whole frame's statistics, so a person walking through a still
scene otherwise makes the painting ripple everywhere. :func:`next_frame` builds that second
frame and the mask of the pixels whose output should not change.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

BRIGHTNESS_CHANGE = 0.2
"""Full range of the per-image brightness gain (1 ± 10 %)."""
NOISE_STD = 6.0
"""Standard deviation of the added pixel noise, in 0–255 levels."""
MOVED_FRACTION = 4
"""The moved patch's side is the window's side divided by this (1/16 of the area)."""
REACH_FRACTION = 8
"""Around the moved patch, this fraction of the window's side may change too (the network
paints a neighbourhood, not a pixel)."""


@dataclass(frozen=True)
class NextFrame:
    """A changed crop and where the network's output should stay as it was."""

    image: torch.Tensor
    """``N×3×S×S`` input, 0–255: a window of the crop, changed."""
    window: tuple[slice, slice]
    """Where in the original crop (rows, columns) ``image`` was taken from."""
    steady: torch.Tensor
    """``N×1×S×S`` float mask: 1 where the output should equal the original's (in the window),
    0 on the moved patch and its reach and on the window's border of ``multiple`` pixels."""


def next_frame(content: torch.Tensor, multiple: int) -> NextFrame:
    """The frame after ``content`` (``N×3×H×H``, 0–255), for a network whose input size must be
    a multiple of ``multiple``.

    The window is shifted by 0 to ``multiple - 1`` pixels (moving the picture against the
    network's stride grid too), each image's brightness scaled by up to 10 %, noise added, and
    one square patch replaced by the same place of another image of the batch (a mirrored one
    when the batch has one image): something moved there.
    """
    n, _, height, _ = content.shape
    size = height - multiple
    dy, dx = (int(v) for v in torch.randint(0, multiple, (2,)))
    window = (slice(dy, dy + size), slice(dx, dx + size))
    image = content[..., window[0], window[1]]
    elsewhere = image.roll(1, dims=0) if n > 1 else image.flip(-1)
    side, reach = size // MOVED_FRACTION, size // REACH_FRACTION
    steady = torch.zeros(n, 1, size, size, dtype=content.dtype, device=content.device)
    steady[..., multiple:-multiple, multiple:-multiple] = 1.0
    image = image.clone()
    for i, (y, x) in enumerate(torch.randint(0, size - side + 1, (n, 2)).tolist()):
        image[i, :, y : y + side, x : x + side] = elsewhere[i, :, y : y + side, x : x + side]
        steady[i, :, max(0, y - reach) : y + side + reach, max(0, x - reach) : x + side + reach] = 0
    gain = 1.0 + BRIGHTNESS_CHANGE * (torch.rand(n, 1, 1, 1, device=content.device) - 0.5)
    image = (image * gain + torch.randn_like(image) * NOISE_STD).clamp(0, 255)
    return NextFrame(image, window, steady)


def output_change(moved: torch.Tensor, output: torch.Tensor, frame: NextFrame) -> torch.Tensor:
    """Mean squared change on [0, 1] between the output for ``frame`` (``moved``) and the
    original ``output`` at the same place, over the pixels that should have stayed."""
    before = output[..., frame.window[0], frame.window[1]]
    squared = ((moved - before) / 255.0).pow(2) * frame.steady
    return squared.sum() / (frame.steady.sum() * moved.shape[1]).clamp_min(1.0)
