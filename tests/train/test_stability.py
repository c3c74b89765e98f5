"""The stability term's next frame: what changes, and which output pixels must not."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from train_fast.stability import BRIGHTNESS_CHANGE, NOISE_STD, next_frame, output_change  # noqa: E402


def _photos(n: int = 2, size: int = 96) -> torch.Tensor:
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(1)) * 255


def test_the_next_frame_is_a_noisy_window_with_one_moved_patch() -> None:
    torch.manual_seed(0)
    content = _photos()
    frame = next_frame(content, 8)
    rows, cols = frame.window
    assert frame.image.shape == (2, 3, 88, 88) and frame.steady.shape == (2, 1, 88, 88)
    assert 0 <= rows.start < 8 and 0 <= cols.start < 8
    assert float(frame.image.min()) >= 0 and float(frame.image.max()) <= 255
    window = content[..., rows, cols]
    changed = (frame.image - window).abs().mean(1)  # per pixel, over colours
    # another photo's pixels: more than brightness and noise change a pixel
    moved = changed > 4 * NOISE_STD + BRIGHTNESS_CHANGE / 2 * 255
    for i in range(2):
        assert 0.01 < float(moved[i].float().mean()) < 1 / 16  # part of 1/16 of the window
        assert not bool((frame.steady[i, 0] > 0)[moved[i]].any())  # never asked to stay
        assert bool((frame.steady[i, 0, :8] == 0).all() and (frame.steady[i, 0, -8:] == 0).all())
    assert 0.3 < float(frame.steady.mean()) < 0.6


def test_a_network_that_depends_on_the_whole_frame_costs_more() -> None:
    """Instance norm's failure: the output far from a moved thing changes with it."""
    torch.manual_seed(0)
    content = _photos(4)

    def local(x: torch.Tensor) -> torch.Tensor:
        return x

    def global_(x: torch.Tensor) -> torch.Tensor:
        return x + 4.0 * (x.mean(dim=(1, 2, 3), keepdim=True) - 128.0)

    costs = {}
    for name, net in (("local", local), ("global", global_)):
        torch.manual_seed(1)
        frame = next_frame(content, 8)
        costs[name] = float(output_change(net(frame.image), net(content), frame))
    assert costs["global"] > 2 * costs["local"] > 0


def test_a_single_image_moves_a_mirrored_patch_of_itself() -> None:
    torch.manual_seed(0)
    frame = next_frame(_photos(1), 8)
    assert frame.image.shape == (1, 3, 88, 88)
    assert 0 < float(frame.steady.mean()) < 1
