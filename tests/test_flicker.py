"""The flicker metric (stream_nst.flicker): warping error, occlusion, PSNR, CLI."""

from __future__ import annotations

import json
import math
from itertools import pairwise
from pathlib import Path

import cv2
import numpy as np
import pytest
from rt_media import shared_video, write_clip
from temporal_clips import moving_square, panning, stylize, texture, with_noise

from stream_nst.cli import main as cli_main
from stream_nst.errors import InputError
from stream_nst.flicker import (
    CUT_SHARE,
    MotionEstimator,
    load_motions,
    mean_warping_error,
    measure,
    occlusion_mask,
    psnr,
    read_frames,
    unexplained_share,
    warping_error,
)
from stream_nst.flow import backward_flow, to_gray


def errors_along(source: list[np.ndarray], stylized: list[np.ndarray]) -> list[float]:
    estimator = MotionEstimator()
    return [
        warping_error(a, b, estimator(s, t))
        for (s, t), (a, b) in zip(pairwise(source), pairwise(stylized), strict=True)
    ]


def test_warping_error_is_zero_when_the_output_moves_with_the_content():
    source = panning(5, (3, 1))
    errors = errors_along(source, [stylize(f) for f in source])
    assert max(errors) < 2e-4


def test_warping_error_grows_with_flicker():
    source = panning(5, (3, 1))
    clean = [stylize(f) for f in source]
    low, high = (np.mean(errors_along(source, with_noise(clean, s))) for s in (4.0, 16.0))
    assert 1e-4 < low < high
    # Independent noise of sigma s adds about 2 (s / 255)^2 per pair.
    assert high == pytest.approx(2 * (16.0 / 255) ** 2, rel=0.35)


def test_occlusion_mask_flags_disoccluded_background():
    clip, lefts = moving_square(2, step=6)
    motion = MotionEstimator()(clip[0], clip[1])
    top = (clip[0].shape[0] - 32) // 2
    rows = slice(top + 4, top + 28)
    # Background uncovered by the square's trailing edge: visible now, hidden before.
    uncovered = motion.visible[rows, lefts[0] : lefts[1]]
    assert uncovered.mean() < 0.25
    # Static background far from the square is visible.
    assert motion.visible[:, 100:].mean() > 0.9
    assert motion.visible[:16, :].mean() > 0.9


def test_content_entering_at_the_border_is_not_visible():
    source = panning(2, (5, 0))
    motion = MotionEstimator()(source[0], source[1])
    # The camera pans right: the last 5 columns were outside the previous frame.
    assert motion.visible[:, -4:].mean() < 0.1
    assert motion.visible[:, 8:-12].mean() > 0.95


def test_occlusion_mask_consistent_flows_and_round_trip_misses():
    shape = (24, 32, 2)
    backward = np.full(shape, (-2.0, 0.0), np.float32)
    assert not occlusion_mask(backward, -backward).any()
    assert occlusion_mask(backward, np.zeros(shape, np.float32)).all()


def test_warping_error_without_visible_pixels_is_nan():
    source = panning(2, (0, 0))
    motion = MotionEstimator()(source[0], source[1])
    motion.visible[:] = False
    assert math.isnan(warping_error(source[0], source[1], motion))


def test_a_scene_cut_is_left_out():
    # Two shots: a pan over one texture, then a pan over another.
    first, second = panning(3, (2, 0), seed=0), panning(3, (2, 0), seed=7)
    source = first + second
    flickering = with_noise([stylize(f) for f in source], 6.0)
    estimate = MotionEstimator()
    shares = [unexplained_share(a, b, estimate(a, b)) for a, b in pairwise(source)]
    assert shares[2] > CUT_SHARE > 3 * max(shares[:2] + shares[3:])
    errors = errors_along(source, flickering)
    assert math.isnan(errors[2]) and not any(map(math.isnan, errors[:2] + errors[3:]))
    report = measure(source, flickering)
    assert report.left_out == 1
    assert report.warping_error == pytest.approx(np.mean(errors[:2] + errors[3:]))


def test_psnr():
    assert psnr(0.0) == math.inf
    assert psnr(0.01) == pytest.approx(20.0)


def test_measure_reports_warping_error_and_psnr():
    source = panning(4, (2, 2))
    clean = [stylize(f) for f in source]
    report = measure(source, with_noise(clean, 8.0), reference=clean)
    assert report.frames == 4
    assert report.warping_error > 1e-4
    # Noise of sigma 8 is PSNR 30.1 dB; clipping at 0 and 255 removes a little of it.
    assert psnr((8.0 / 255) ** 2) < report.psnr < psnr((8.0 / 255) ** 2) + 1.5
    assert measure(source, clean).psnr is None


def test_measure_resizes_the_source_to_the_stylized_size():
    source = panning(3, (4, 0), size=(96, 128))
    small = [cv2.resize(stylize(f), (64, 48), interpolation=cv2.INTER_AREA) for f in source]
    assert measure(source, small).warping_error < 1e-3


def test_measure_rejects_mismatched_inputs():
    source = panning(3, (1, 0))
    with pytest.raises(InputError, match="numbers of frames"):
        measure(source, source[:2])
    with pytest.raises(InputError, match="at least two frames"):
        measure(source[:1], source[:1])
    with pytest.raises(InputError, match="differs from reference"):
        measure(source, source, reference=[f[:10] for f in source])
    with pytest.raises(InputError, match="need 2 motions"):
        mean_warping_error(source, [])


def write_folder(folder: Path, frames: list[np.ndarray]) -> Path:
    folder.mkdir()
    for index, frame in enumerate(frames):
        cv2.imwrite(str(folder / f"frame_{index:04d}.png"), frame)
    return folder


def test_read_frames_from_folder_and_video(tmp_path):
    frames = panning(4, (2, 0))
    folder = write_folder(tmp_path / "frames", frames)
    (folder / "notes.txt").write_text("not a frame")
    read = list(read_frames(folder))
    assert len(read) == 4
    np.testing.assert_array_equal(read[2], frames[2])
    video = write_clip(tmp_path / "clip.mp4", frames=5, size=(128, 96))
    decoded = list(read_frames(video, max_frames=3, max_width=64))
    assert len(decoded) == 3
    assert decoded[0].shape == (48, 64, 3)


def test_a_rotated_phone_clip_is_measured_upright(tmp_path, tiny_model, capsys):
    # The runtime writes the stylised clip upright; measure-flicker must decode the source
    # the same way, not as the stored (sideways) picture.
    from stream_nst import stylize_video

    src = write_clip(tmp_path / "phone.mp4", frames=6, size=(64, 48), rotation=90)
    assert next(read_frames(src)).shape == (64, 48, 3)
    out = tmp_path / "out.mp4"
    stylize_video(src, out, style=tiny_model)
    assert cli_main(["measure-flicker", str(src), str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["frames"] == 6 and math.isfinite(report["warping_error"])


@pytest.mark.parametrize("kind", ["missing", "empty folder", "not a video", "bad image"])
def test_read_frames_rejects_bad_inputs(tmp_path, kind):
    path = tmp_path / "input"
    if kind == "empty folder":
        path.mkdir()
    elif kind == "not a video":
        path.write_text("hello")
    elif kind == "bad image":
        path.mkdir()
        (path / "0001.png").write_bytes(b"not a png")
    with pytest.raises(InputError):
        list(read_frames(path))


def test_cli_prints_the_metrics(tmp_path, capsys):
    source = panning(4, (2, 1))
    clean = [stylize(f) for f in source]
    src = write_folder(tmp_path / "src", source)
    noisy = write_folder(tmp_path / "noisy", with_noise(clean, 8.0))
    ref = write_folder(tmp_path / "ref", clean)
    assert cli_main(["measure-flicker", str(src), str(noisy), "--reference", str(ref)]) == 0
    out = capsys.readouterr().out
    assert "warping error" in out and "PSNR" in out
    assert cli_main(["measure-flicker", str(src), str(noisy), "--json", "--max-frames", "3"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["frames"] == 3 and result["psnr"] is None and result["warping_error"] > 0
    assert result["left_out"] == 0


def test_cli_exit_codes(tmp_path, capsys):
    src = write_folder(tmp_path / "src", panning(3, (1, 0)))
    assert cli_main(["measure-flicker", str(src), str(tmp_path / "missing.mp4")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert cli_main(["measure-flicker", str(src)]) == 2  # usage error from argparse
    assert cli_main(["measure-flicker", "--help"]) == 0
    assert "warping error" in capsys.readouterr().out.lower()


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "usage:" not in err
    return err


@pytest.mark.parametrize(
    "args",
    [
        [],  # both inputs missing
        ["SRC"],  # the stylised input missing
        ["SRC", "SRC", "--max-frames", "many"],
        ["SRC", "SRC", "--max-frames", "1"],
        ["SRC", "SRC", "--flow", "sideways"],
        ["SRC", "SRC", "--no-such-option"],
    ],
)
def test_cli_usage_errors_are_one_line(tmp_path, capsys, args):
    src = str(write_folder(tmp_path / "src", panning(3, (1, 0))))
    assert cli_main(["measure-flicker", *(src if a == "SRC" else a for a in args)]) == 2
    one_error_line(capsys)


def test_cli_refuses_videos_of_different_sizes(tmp_path, capsys):
    # Issue 11: a 17x17 video was compared with a 639x359 one without complaint.
    small = write_folder(tmp_path / "small", [texture(17, 17, seed) for seed in range(3)])
    other = write_folder(tmp_path / "other", [texture(359, 639, seed) for seed in range(3)])
    assert cli_main(["measure-flicker", str(small), str(other)]) == 2
    assert "17x17 but the stylised video is 639x359" in one_error_line(capsys)
    # The same picture at about half the size is fine (an output made with --max-size).
    half = write_folder(tmp_path / "half", [texture(180, 320, seed) for seed in range(3)])
    assert cli_main(["measure-flicker", str(other), str(half)]) == 0


def write_flows(path: Path, source: list[np.ndarray], pairs: int | None = None) -> Path:
    """A flows file as benchmarks/independent_flow.py writes it, here with DIS flows."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    grays = [to_gray(f) for f in source]
    backward = [backward_flow(dis, b, a) for a, b in pairwise(grays)][:pairs]
    forward = [backward_flow(dis, a, b) for a, b in pairwise(grays)][:pairs]
    np.savez(path, backward=np.stack(backward).astype(np.float16), forward=np.stack(forward))
    return path


def test_flows_computed_elsewhere_give_the_same_metric(tmp_path, capsys):
    source = panning(4, (2, 1))
    noisy = with_noise([stylize(f) for f in source], 8.0)
    flows = write_flows(tmp_path / "flows.npz", source)
    description, motions = load_motions(flows)
    given = measure(source, noisy, motions=(description, motions))
    assert given.flow == f"flows from {flows}"
    assert given.warping_error == pytest.approx(measure(source, noisy).warping_error, rel=0.05)
    src = write_folder(tmp_path / "src", source)
    out = write_folder(tmp_path / "out", noisy)
    assert cli_main(["measure-flicker", str(src), str(out), "--flows", str(flows), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["flow"] == given.flow


def test_cli_rejects_bad_flows(tmp_path, capsys):
    source = panning(4, (2, 1))
    src = write_folder(tmp_path / "src", source)
    short = write_flows(tmp_path / "short.npz", source, pairs=2)
    assert cli_main(["measure-flicker", str(src), str(src), "--flows", str(short)]) == 2
    assert "fewer frame pairs" in one_error_line(capsys)
    junk = tmp_path / "junk.npz"
    junk.write_text("not flows")
    assert cli_main(["measure-flicker", str(src), str(src), "--flows", str(junk)]) == 2
    assert "cannot read flows" in one_error_line(capsys)


@pytest.mark.skipif(hasattr(cv2, "optflow"), reason="opencv-contrib is installed")
def test_contrib_flow_without_contrib_says_how(tmp_path, capsys):
    src = str(write_folder(tmp_path / "src", panning(3, (1, 0))))
    assert cli_main(["measure-flicker", src, src, "--flow", "deepflow"]) == 2
    assert "opencv-contrib" in one_error_line(capsys)


@pytest.mark.shared
def test_real_clip_source_against_itself_is_steady():
    frames = list(read_frames(shared_video("box.mp4"), max_frames=4, max_width=320))
    noisy = with_noise(frames, 10.0)
    steady = measure(frames, frames).warping_error
    assert steady < measure(frames, noisy).warping_error / 4


@pytest.mark.shared
def test_the_one_cut_of_a_real_clip_is_left_out(tmp_path, capsys):
    # cityCC0.mpg cuts to a new shot between its frames 115 and 116; no other pair is a cut.
    frames = list(read_frames(shared_video("cityCC0.mpg"), max_width=320))[105:125]
    estimate = MotionEstimator()
    cuts = [not estimate(a, b).visible.any() for a, b in pairwise(frames)]
    assert cuts == [index == 10 for index in range(19)]
    src = str(write_folder(tmp_path / "src", frames))
    assert cli_main(["measure-flicker", src, src]) == 0
    assert "left out       1 frame pair(s)" in capsys.readouterr().out
