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


def test_the_next_frame_is_a_noisy_warp_with_one_thing_moving() -> None:
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
    # another photo's pixels, where the thing was: more than brightness and noise change
    uncovered = changed > 4 * NOISE_STD + BRIGHTNESS_CHANGE / 2 * 255
    for i in range(2):
        assert 0 < float(uncovered[i].float().mean()) < 1 / 16  # a sliver beside the thing
        assert not bool((frame.steady[i, 0] > 0)[uncovered[i]].any())  # never asked to stay
        assert bool((frame.steady[i, 0, :4] == 0).all() and (frame.steady[i, 0, -4:] == 0).all())
    assert 0.5 < float(frame.steady.mean()) < 0.9


@pytest.fixture
def still_camera(monkeypatch):
    """Only the thing moves: no warp of the background, no noise, no brightness change."""

    def identity(n: int, size: int, _multiple: int, device: torch.device) -> torch.Tensor:
        return stability.identity_grid(n, size, device)

    monkeypatch.setattr(stability, "_random_warp", identity)
    monkeypatch.setattr(stability, "NOISE_STD", 0.0)
    monkeypatch.setattr(stability, "SMOOTH_NOISE_STD", 0.0)
    monkeypatch.setattr(stability, "BRIGHTNESS_CHANGE", 0.0)


def test_the_thing_moves_against_the_background_and_its_pixels_follow_it(still_camera) -> None:
    """On a still camera the thing's pixels take the first frame's from a few px away (it
    moved on its own), the background's stay, and most of the thing must follow it."""
    torch.manual_seed(0)
    frame = next_frame(_photos(2, 192), 8)  # the training crop
    for i in range(2):
        pixels = (frame.grid[i] + 1) * 192 / 2 - 0.5
        here = torch.stack(
            torch.meshgrid(torch.arange(192.0), torch.arange(192.0), indexing="xy"), -1
        )
        moved = (pixels - here).norm(dim=-1)
        thing = moved > 1e-3
        assert 0.01 < float(thing.float().mean()) < 0.3  # one blob, of a few % of the crop
        assert float(moved.max()) <= stability.THING_MOTION_PX * 2**0.5 + 1e-3
        assert float(frame.steady[i, 0][thing].mean()) > 0.3  # its inside follows it
        assert float(frame.steady[i, 0][~thing].mean()) > 0.5  # the background stays (not edges)


def test_a_painting_that_spreads_around_a_moving_thing_costs_more(
    still_camera, monkeypatch
) -> None:
    """What the moving thing is for: a network that paints a halo or rings around things
    (each output pixel spread 8 px around) drags them over the still background as the
    thing moves; one that follows the picture, or the same network with the thing still,
    costs nothing."""
    coarse = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(2)) * 255
    content = F.interpolate(coarse, size=(96, 96), mode="nearest")  # large plain areas

    def spreads(x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(x, 17, 1, 8, count_include_pad=False)

    assert _cost(spreads, content) > 1e-5
    assert _cost(_follows, content) < 1e-9
    monkeypatch.setattr(stability, "THING_MOTION_PX", 0.0)
    assert _cost(spreads, content) < 1e-9


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


def test_a_single_image_shows_itself_mirrored_where_the_thing_was() -> None:
    torch.manual_seed(0)
    frame = next_frame(_photos(1), 8)
    assert frame.image.shape == (1, 3, 96, 96)
    assert 0 < float(frame.steady.mean()) < 1
