"""``python -m stream_nst`` = the ``stream-nst`` command."""

import sys

from .cli import main

sys.exit(main())
