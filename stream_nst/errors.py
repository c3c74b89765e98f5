"""The one exception family of stream-nst.

Library code raises these and never prints or exits; :func:`stream_nst.cli.main`
alone turns them into a one-line message and an exit code.
"""

from __future__ import annotations


class StreamNSTError(Exception):
    """Base class of every error stream-nst reports to a user (exit code 2)."""

    exit_code: int = 2


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


class Interrupted(StreamNSTError):
    """The user stopped a run (Ctrl-C); whatever was finished has been kept."""

    exit_code = 130


def first_line(error: BaseException | str) -> str:
    """The first line of a message, for one-line reports (an exception without a message
    gives its class name; an empty string stays empty)."""
    text = str(error).strip()
    if text:
        return text.splitlines()[0]
    return "" if isinstance(error, str) else type(error).__name__
