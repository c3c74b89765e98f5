"""``stream-nst measure-flicker``: the command-line front end of :mod:`stream_nst.flicker`."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from stream_nst.errors import UsageError
from stream_nst.flicker import FLOW_METHODS, load_motions, measure, read_frames


def _parser() -> argparse.ArgumentParser:
    from stream_nst.cli import _Parser  # one-line UsageError instead of argparse's usage block

    parser = _Parser(
        prog="stream-nst measure-flicker",
        description="Warping error (Lai et al. 2018) of a stylised video along its source's "
        "optical flow; with --reference also PSNR against the per-frame output.",
    )
    parser.add_argument("source", help="source video or folder of frames")
    parser.add_argument("stylized", help="stylised video or folder of frames, frame for frame")
    parser.add_argument("--reference", metavar="PERFRAME", help="per-frame (unsmoothed) output")
    parser.add_argument("--max-frames", type=int, metavar="N", help="use the first N frames")
    parser.add_argument(
        "--flow",
        choices=list(FLOW_METHODS),
        default="dis",
        help="optical flow to measure along (default dis; deepflow and tvl1 need opencv-contrib)",
    )
    parser.add_argument(
        "--flows",
        metavar="FLOWS.npz",
        help="flows computed elsewhere, instead of --flow (benchmarks/independent_flow.py)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def main(argv: list[str]) -> int:
    """``stream-nst measure-flicker SOURCE STYLIZED [--reference PERFRAME] [--flow NAME |
    --flows FILE] [--json]``.

    Called by :func:`stream_nst.cli.main`, which turns the errors raised here (bad usage,
    bad inputs) into a one-line message and exit code 2.
    """
    args = _parser().parse_args(argv)
    if args.max_frames is not None and args.max_frames < 2:
        raise UsageError(f"--max-frames must be at least 2, got {args.max_frames}")
    limit = {"max_frames": args.max_frames}
    report = measure(
        read_frames(args.source, **limit),
        read_frames(args.stylized, **limit),
        read_frames(args.reference, **limit) if args.reference else None,
        flow=args.flow,
        motions=load_motions(args.flows) if args.flows else None,
    )
    if args.json:
        print(json.dumps(asdict(report)))
    else:
        print(f"frames         {report.frames}")
        print(f"warping error  {report.warping_error:.6f}")
        if report.left_out:
            pairs = f"{report.left_out} frame pair(s)"
            print(f"left out       {pairs} with nothing in common (scene cuts)")
        if report.psnr is not None:
            print(f"PSNR vs ref    {report.psnr:.2f} dB")
        print(f"flow           {report.flow}")
    return 0
