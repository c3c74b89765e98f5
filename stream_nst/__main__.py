"""``python -m stream_nst`` = the ``stream-nst`` command."""

import sys

from .entry import run

sys.exit(run())
