"""The ``stream-nst`` console script: signal handlers first, then the command.

The handlers are installed before the heavy imports (numpy, OpenCV, onnxruntime, PyAV),
so a Ctrl-C in the first tenth of a second still ends in one line and exit code 130, and
SIGTERM (a job killed) and SIGHUP (a terminal closed) take the path of Ctrl-C: a playable
file of the frames done, a message, exit code 143 or 129. Native libraries write their own
log lines to file descriptor 2 (libpng, SVT-AV1, FFmpeg); those are dropped, and Python's
messages go to a copy of the original stderr.
"""

from __future__ import annotations

import os
import signal
import sys

from .errors import Stopped

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""The signals that stop a command as Ctrl-C does."""
_received: list[int] = []


def run() -> int:
    """Run ``stream-nst`` with ``sys.argv``; return its exit code."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, _stop)
    _drop_native_stderr()
    try:
        from .cli import main
    except (KeyboardInterrupt, ImportError):
        if not _received:
            raise
        # An interrupted extension module import raises ImportError, not KeyboardInterrupt.
        print("stream-nst: error: interrupted", file=sys.stderr)
        return 128 + _received[0]
    return main()


def _stop(signum: int, _frame: object) -> None:
    _received.append(signum)
    raise Stopped(signum)


def _drop_native_stderr() -> None:
    try:
        python_stderr = os.fdopen(os.dup(2), "w", buffering=1, errors="backslashreplace")
    except OSError:  # no stderr at all
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    sys.stderr = python_stderr
