"""The stability term's input: a training crop changed the way the next video frame is.

Between two frames of a video the picture moves a little (the camera pans by a fraction of a
pixel or a few, turns, zooms; leaves and faces move on their own), its brightness drifts,
sensor and compression noise change, and something moves on its own. A steady network
follows the motion and otherwise keeps its output, also around the thing that moved:
instance norm makes every output pixel depend on the whole frame's statistics, so a person
walking through a still scene otherwise makes the painting ripple everywhere, and a network
that paints outlines or rings around things drags them over the still background with the
thing (candy's rings around walking people). :func:`next_frame` builds that second frame,
the motion that carries the first frame's output into it, and the mask of the pixels whose
output should follow.

The motion is a random smooth warp sampled bilinearly (Wang et al. 2020, "Consistent video
style transfer via compound regularization", train on single images the same way): a
translation by any fraction of a pixel up to the network's stride, a slight rotation and
zoom, and a smooth local displacement. Comparing the moved output with the first output
carried by the same warp is the warping error the flicker benchmarks measure along a clip's
optical flow (Lai et al. 2018), so textures locked to the stride grid, or that a sub-pixel
motion redraws, cost here.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F

BRIGHTNESS_CHANGE = 0.2
"""Full range of the per-image brightness gain (1 ± 10 %)."""
NOISE_STD = 6.0
"""Standard deviation of the added pixel noise, in 0–255 levels."""
SMOOTH_NOISE_STD = 3.0
"""Standard deviation of each layer of smooth noise, in 0–255 levels."""
SMOOTH_NOISE_CELLS = (4, 16, 48)
"""Cell sizes (px) of the smooth noise layers: compression and sensor noise vary over
blocks of pixels, exposure and white balance over large areas. Networks that invent texture
on plain areas amplify such small, smooth changes most: 2 levels of noise varying over
16-px cells changed a candy model's output about 70 times as much as the rtnet model's it
replaced, and were most of its flicker on a still scene."""
THING_HEIGHT = (1 / 6, 2 / 5)
"""Range of the moving thing's height, as fractions of the crop's side (an upright blob:
about a walking person at the painting's size, up to a hand near the camera)."""
THING_WIDTH = (1 / 8, 1 / 3)
"""Range of its width, likewise."""
THING_WOBBLE = 0.35
"""How far its outline departs from an ellipse (smooth noise added to the ellipse's level)."""
THING_MOTION_PX = 4.0
"""Largest motion of the thing against the background along each axis, px."""
THING_MARGIN_PX = 2
"""Within this many px of the thing's outline, and of the background it uncovers, the
output may change (the network paints a neighbourhood, not a pixel); beyond it, the
background's output must stay where it was."""
MAX_TURN_DEGREES = 1.0
"""Largest rotation between the two frames."""
MAX_ZOOM = 0.02
"""Largest change of scale between the two frames (± 2 %)."""
LOCAL_MOTION_PX = 1.0
"""Standard deviation of the smooth local displacement (things moving on their own), px."""
LOCAL_MOTION_CELLS = 6
"""The local displacement varies smoothly over this many cells across the crop."""


@dataclass(frozen=True)
class NextFrame:
    """A changed crop, the warp from it back to the original, and where the output should
    follow the warp."""

    image: torch.Tensor
    """``N×3×S×S`` input, 0–255: the crop warped and changed."""
    grid: torch.Tensor
    """``N×S×S×2`` sampling grid (``grid_sample``'s, ``align_corners=False``): pixel ``(y, x)``
    of ``image`` shows the original crop at ``grid[:, y, x]``."""
    steady: torch.Tensor
    """``N×1×S×S`` float mask: 1 where the output should equal the original's carried by the
    warp (the thing's pixels moved with it, the background's with the background); 0 where
    the moving thing uncovered the background and within :data:`THING_MARGIN_PX` of that
    and of its outline, and within ``multiple`` pixels of either frame's edge (where the
    warp samples near or outside the original's)."""


def next_frame(content: torch.Tensor, multiple: int) -> NextFrame:
    """The frame after ``content`` (``N×3×S×S``, 0–255), for a network whose input size must
    be a multiple of ``multiple`` (its total stride).

    Each image moves by its own random smooth warp (see the module docstring), and one blob
    of it (a thing: see :func:`_things`) moves by up to :data:`THING_MOTION_PX` more; where
    the thing was, another image of the batch shows through (a mirrored one when the batch
    has one image). Brightness is scaled by up to 10 %, pixel noise and smooth noise are
    added.
    """
    n, _, size, _ = content.shape
    background = _random_warp(n, size, multiple, content.device)
    thing = _things(n, size, content.device)  # where it was
    shift = (torch.rand(n, 1, 1, 2, device=content.device) * 2 - 1) * THING_MOTION_PX * 2 / size
    identity = identity_grid(n, size, content.device)
    moved = F.grid_sample(thing, identity - shift, align_corners=False) > 0.5  # where it is
    grid = torch.where(moved.permute(0, 2, 3, 1), background - shift, background)
    uncovered = (thing > 0.5) & ~moved
    elsewhere = content.roll(1, dims=0) if n > 1 else content.flip(-1)
    image = torch.where(uncovered, elsewhere, carry(content, grid))
    pixels = (grid + 1) * size / 2 - 0.5  # sampled positions in the original, pixels
    inside = ((pixels >= multiple) & (pixels <= size - 1 - multiple)).all(dim=-1)
    steady = torch.zeros(n, 1, size, size, dtype=content.dtype, device=content.device)
    steady[..., multiple:-multiple, multiple:-multiple] = 1.0  # both outputs away from edges
    steady *= inside.unsqueeze(1)
    # dilation minus erosion: the pixels on either side of the thing's outline
    outline = F.max_pool2d(moved.float(), 3, 1, 1) + F.max_pool2d(-moved.float(), 3, 1, 1)
    free = torch.maximum(uncovered.float(), outline)
    margin = 2 * THING_MARGIN_PX + 1
    steady *= 1 - F.max_pool2d(free, margin, 1, THING_MARGIN_PX)
    gain = 1.0 + BRIGHTNESS_CHANGE * (torch.rand(n, 1, 1, 1, device=content.device) - 0.5)
    image = (image * gain + _noise(image)).clamp(0, 255)
    return NextFrame(image, grid, steady)


def identity_grid(n: int, size: int, device: torch.device) -> torch.Tensor:
    """``N×S×S×2`` sampling grid that leaves an ``S×S`` image where it is."""
    eye = torch.eye(2, 3, device=device).expand(n, 2, 3)
    return F.affine_grid(eye, [n, 1, size, size], align_corners=False)


def _things(n: int, size: int, device: torch.device) -> torch.Tensor:
    """``N×1×S×S`` masks (1 inside), each one irregular upright blob inside the crop: an
    ellipse of :data:`THING_HEIGHT` by :data:`THING_WIDTH` with its outline made uneven by
    smooth noise."""
    low, high = torch.tensor([THING_HEIGHT, THING_WIDTH], device=device).unbind(1)
    sides = (low + torch.rand(n, 2, device=device) * (high - low)) * size  # (height, width)
    centres = sides / 2 + torch.rand(n, 2, device=device) * (size - sides)
    ys, xs = torch.meshgrid(
        torch.arange(size, dtype=torch.float32, device=device),
        torch.arange(size, dtype=torch.float32, device=device),
        indexing="ij",
    )
    dy = (ys - centres[:, 0, None, None]) / (sides[:, 0, None, None] / 2)
    dx = (xs - centres[:, 1, None, None]) / (sides[:, 1, None, None] / 2)
    coarse = torch.randn(n, 1, 6, 6, device=device)
    wobble = F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=True)
    level = (1 - dy**2 - dx**2).unsqueeze(1) + THING_WOBBLE * wobble
    return (level > 0.2).float()  # without the wobble: 90 % of the ellipse's radii


def _noise(image: torch.Tensor) -> torch.Tensor:
    """Pixel noise plus smooth noise at each of :data:`SMOOTH_NOISE_CELLS`, per colour."""
    n, c, size, _ = image.shape
    noise = torch.randn_like(image) * NOISE_STD
    for cell in SMOOTH_NOISE_CELLS:
        cells = -(-size // cell) + 1  # enough cells to cover the crop
        coarse = torch.randn(n, c, cells, cells, device=image.device)
        noise += F.interpolate(coarse, size=(size, size), mode="bilinear") * SMOOTH_NOISE_STD
    return noise


def _random_warp(n: int, size: int, multiple: int, device: torch.device) -> torch.Tensor:
    """``N×S×S×2`` grids: a sub-pixel translation of up to ``multiple`` pixels, a slight
    rotation and zoom about the centre, and a smooth local displacement."""
    turn = torch.deg2rad((torch.rand(n, device=device) * 2 - 1) * MAX_TURN_DEGREES)
    zoom = 1.0 + (torch.rand(n, device=device) * 2 - 1) * MAX_ZOOM
    shift = (torch.rand(n, 2, device=device) * 2 - 1) * multiple * 2 / size  # normalised
    cos, sin = torch.cos(turn) * zoom, torch.sin(turn) * zoom
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1
    )
    grid = F.affine_grid(theta, [n, 1, size, size], align_corners=False)
    coarse = torch.randn(n, 2, LOCAL_MOTION_CELLS, LOCAL_MOTION_CELLS, device=device)
    local = F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=True)
    return grid + local.permute(0, 2, 3, 1) * LOCAL_MOTION_PX * 2 / size


def carry(image: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """``image`` (``N×C×S×S``) moved by a warp's sampling ``grid``: bilinear, edges repeated."""
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=False)


def output_change(moved: torch.Tensor, output: torch.Tensor, frame: NextFrame) -> torch.Tensor:
    """Mean squared difference on [0, 1] between the output for ``frame`` (``moved``) and
    the original ``output`` carried by the frame's warp, over the pixels that should follow."""
    squared = ((moved - carry(output, frame.grid)) / 255.0).pow(2) * frame.steady
    return squared.sum() / (frame.steady.sum() * moved.shape[1]).clamp_min(1.0)
