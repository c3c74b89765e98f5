"""Library errors describe the problem; the command line adds the flag that fixes it."""

from __future__ import annotations

import pytest

from stream_nst.cli import _with_hint
from stream_nst.errors import OutputError, UsageError
from stream_nst.sinks import check_output, encoder_name


def test_library_errors_name_the_setting_not_a_flag(tmp_path):
    existing = tmp_path / "out.mp4"
    existing.write_bytes(b"x")
    with pytest.raises(OutputError) as caught:
        check_output(existing, overwrite=False)
    assert caught.value.setting == "overwrite" and "-y" not in str(caught.value)
    with pytest.raises(UsageError) as caught:
        encoder_name("aac")
    assert caught.value.setting == "codec" and "--codec" not in str(caught.value)


def test_the_command_line_adds_its_flag():
    error = OutputError("out.mp4 already exists", setting="overwrite")
    assert _with_hint(error) == "out.mp4 already exists (use -y to overwrite it)"
    assert _with_hint(OutputError("disk full")) == "disk full"
