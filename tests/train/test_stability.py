"""The stability term's next frame: what changes, and which output pixels must not."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from torch.nn import functional as F  # noqa: E402

from train_fast import stability  # noqa: E402
from train_fast.stability import (  # noqa: E402
    BRIGHTNESS_CHANGE,
    NOISE_STD,
    carry,
    next_frame,
    output_change,
)


def _photos(n: int = 2, size: int = 96) -> torch.Tensor:
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(1)) * 255


def _follows(x: torch.Tensor) -> torch.Tensor:
    """A network that follows the picture exactly."""
    return x


def _cost(net, content: torch.Tensor) -> float:
    """The stability cost of ``net`` on ``content``, for the same next frame every call."""
    torch.manual_seed(1)
    frame = next_frame(content, 8)
    return float(output_change(net(frame.image), net(content), frame))


def test_the_next_frame_is_a_noisy_warp_with_one_moved_patch() -> None:
    torch.manual_seed(0)
    content = _photos()
    frame = next_frame(content, 8)
    assert frame.image.shape == (2, 3, 96, 96) and frame.steady.shape == (2, 1, 96, 96)
    assert float(frame.image.min()) >= 0 and float(frame.image.max()) <= 255
    pixels = (frame.grid + 1) * 96 / 2 - 0.5  # where each pixel was in the original
    motion = pixels - torch.stack(
        torch.meshgrid(torch.arange(96.0), torch.arange(96.0), indexing="xy"), -1
    )
    assert 0.1 < float(motion.abs().mean()) < 8  # moved, by less than the stride
    assert float((motion - motion.round()).abs().mean()) > 0.1  # by fractions of a pixel
    carried = carry(content, frame.grid)
    changed = (frame.image - carried).abs().mean(1)  # per pixel, over colours
    # another photo's pixels: more than brightness and noise change a pixel
    moved = changed > 4 * NOISE_STD + BRIGHTNESS_CHANGE / 2 * 255
    for i in range(2):
        assert 0.01 < float(moved[i].float().mean()) < 1 / 16  # part of 1/16 of the crop
        assert not bool((frame.steady[i, 0] > 0)[moved[i]].any())  # never asked to stay
        assert bool((frame.steady[i, 0, :4] == 0).all() and (frame.steady[i, 0, -4:] == 0).all())
    assert 0.3 < float(frame.steady.mean()) < 0.7


def test_a_texture_fixed_to_the_pixel_grid_costs_more_than_one_that_moves() -> None:
    """What the warp is for: a network whose texture stays on its stride grid while the
    picture moves (the flicker the clips measure) costs more than one that follows."""
    torch.manual_seed(0)
    content = _photos(2)
    stripes = 60.0 * torch.sin(torch.arange(96.0) * 2.1)  # a fixed fine texture

    def fixed(x: torch.Tensor) -> torch.Tensor:
        return x + stripes

    assert _cost(fixed, content) > 2 * _cost(_follows, content) > 0


def test_a_network_that_depends_on_the_whole_frame_costs_more() -> None:
    """Instance norm's failure: the output far from a moved thing changes with it."""
    torch.manual_seed(0)
    content = _photos(4)

    def global_(x: torch.Tensor) -> torch.Tensor:
        return x + 4.0 * (x.mean(dim=(1, 2, 3), keepdim=True) - 128.0)

    assert _cost(global_, content) > 2 * _cost(_follows, content) > 0


def test_a_network_that_amplifies_small_smooth_changes_costs_more(monkeypatch) -> None:
    """What the smooth noise is for: a network that turns faint, smooth variations into
    texture (plain walls) is measured by them, not only by pixel noise, which it ignores."""
    content = F.avg_pool2d(_photos(2), 9, 1, 4, count_include_pad=False)

    def amplifies(x: torch.Tensor) -> torch.Tensor:
        fine = F.avg_pool2d(x, 9, 1, 4, count_include_pad=False)
        return x + 10.0 * (fine - F.avg_pool2d(x, 33, 1, 16, count_include_pad=False))

    def ratio() -> float:
        return _cost(amplifies, content) / _cost(_follows, content)

    with_smooth_noise = ratio()
    monkeypatch.setattr(stability, "SMOOTH_NOISE_STD", 0.0)
    assert with_smooth_noise > 2 * ratio() > 2 * 1.5


def test_a_single_image_moves_a_mirrored_patch_of_itself() -> None:
    torch.manual_seed(0)
    frame = next_frame(_photos(1), 8)
    assert frame.image.shape == (1, 3, 96, 96)
    assert 0 < float(frame.steady.mean()) < 1
