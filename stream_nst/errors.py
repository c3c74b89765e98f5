"""The one exception family of stream-nst.

Library code raises these and never prints or exits; :func:`stream_nst.cli.main`
alone turns them into a one-line message and an exit code.
"""

from __future__ import annotations

import signal
from pathlib import Path


class StreamNSTError(Exception):
    """Base class of every error stream-nst reports to a user (exit code 2).

    The message describes the problem in the library's terms. ``setting`` names the
    setting that can fix it (``overwrite``, ``codec``, ``device``, ...), for a front end to
    add its own hint (the command line names its flag).
    """

    exit_code: int = 2

    def __init__(self, message: str = "", *, setting: str | None = None) -> None:
        super().__init__(message)
        self.setting = setting


class UsageError(StreamNSTError):
    """Bad command-line usage or an impossible combination of settings."""


class InputError(StreamNSTError):
    """An input (file, camera, stream, image) is missing, unreadable or unsupported."""


class OutputError(StreamNSTError):
    """The output cannot be written (exists without overwrite, directory missing, ...)."""


class ModelError(StreamNSTError):
    """A style model is unknown, corrupt or incompatible with this runtime."""


class MissingDependencyError(StreamNSTError):
    """An optional dependency (e.g. torch for training) is not installed."""


class OutOfMemoryError(StreamNSTError):
    """Memory ran out (numpy, OpenCV, onnxruntime or FFmpeg could not allocate)."""


class Stopped(KeyboardInterrupt):
    """A KeyboardInterrupt that says which signal stopped the run and what was kept.

    The command raises it from its SIGTERM and SIGHUP handlers (Ctrl-C raises a plain
    KeyboardInterrupt), so every signal takes the path of Ctrl-C; ``convert`` re-raises it
    with ``kept`` (the file holding the frames done, if any), ``frames`` (how many) and
    ``target`` (the output asked for: ``kept`` differs when that file existed) filled in.
    """

    def __init__(
        self,
        signum: int = signal.SIGINT,
        kept: Path | None = None,
        frames: int = 0,
        target: Path | None = None,
    ) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum, self.kept, self.frames, self.target = signum, kept, frames, target


_MEMORY_WORDS = ("insufficient memory", "failed to allocate", "bad_alloc", "out of memory")


def is_out_of_memory(error: BaseException) -> bool:
    """Whether ``error`` means an allocation failed: a MemoryError (numpy's included), or an
    OpenCV, onnxruntime or FFmpeg error whose message says so."""
    if isinstance(error, MemoryError):
        return True
    text = str(error).lower()
    return any(word in text for word in _MEMORY_WORDS)


def first_line(error: BaseException | str) -> str:
    """The first line of a message, for one-line reports (an exception without a message
    gives its class name; an empty string stays empty)."""
    text = str(error).strip()
    if text:
        return text.splitlines()[0]
    return "" if isinstance(error, str) else type(error).__name__
