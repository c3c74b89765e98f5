"""``stream-nst serve``: the command-line front end of :mod:`stream_nst.web.server`."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable
from pathlib import Path

from stream_nst.entry import STOP_SIGNALS
from stream_nst.errors import MissingDependencyError
from stream_nst.settings import ServeSettings

_DEFAULTS = ServeSettings()
_NEEDS = 'the web app needs aiohttp: pip install "stream-nst[serve]"'


def _parser():
    from stream_nst.cli import _Parser  # one-line UsageError instead of argparse's usage block

    parser = _Parser(
        prog="stream-nst serve",
        description="A local web app: the live stylized stream with its controls (style, "
        "strength, smoothing, snapshot, recording), from the browser's own camera or from "
        "INPUT on this machine. Open the printed address in a browser, or add it to OBS "
        "as a Browser Source (with view=bare in the address, ?view=bare or &view=bare after a "
        "token, for the picture alone).",
    )
    parser.add_argument(
        "input",
        nargs="?",
        metavar="INPUT",
        help="a camera index, stream URL, video or image on this machine for pages to watch "
        "(video files loop); without it pages use their own camera",
    )
    parser.add_argument(
        "--host",
        default=_DEFAULTS.host,
        help=f"address to listen on (default {_DEFAULTS.host}: this machine only; any other "
        "address adds a random token to the URL)",
    )
    parser.add_argument(
        "--port", type=int, default=_DEFAULTS.port, help=f"default {_DEFAULTS.port}; 0: any"
    )
    parser.add_argument(
        "--recordings",
        type=Path,
        default=_DEFAULTS.recordings,
        metavar="DIR",
        help=f"where snapshots and recordings go (default ./{_DEFAULTS.recordings})",
    )
    parser.add_argument(
        "--allow-upload",
        action="store_true",
        help="let pages add style models (.onnx, checked, at most "
        f"{_DEFAULTS.max_upload_bytes >> 20} MB, kept until the server stops)",
    )
    parser.add_argument(
        "--tls-cert",
        type=Path,
        metavar="CERT.pem",
        help="serve HTTPS with this certificate (and --tls-key): browsers give a page on "
        "another machine a camera only over HTTPS",
    )
    parser.add_argument("--tls-key", type=Path, metavar="KEY.pem", help="its private key")
    parser.add_argument(
        "--max-sessions",
        type=int,
        default=_DEFAULTS.max_sessions,
        metavar="N",
        help=f"pages connected at once (default {_DEFAULTS.max_sessions})",
    )
    return parser


def main(argv: list[str], say: Callable[[str], None]) -> int:
    """Serve until Ctrl-C (or SIGTERM/SIGHUP), then end every session: recordings in
    progress are finished and kept. ``say`` prints a message line."""
    args = _parser().parse_args(argv)
    settings = ServeSettings(
        host=args.host,
        port=args.port,
        input=args.input,
        recordings=args.recordings,
        allow_upload=args.allow_upload,
        max_sessions=args.max_sessions,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
    )
    try:
        from stream_nst.web.server import serve
    except ImportError as exc:
        if getattr(exc, "name", "") and not exc.name.startswith("aiohttp"):
            raise
        raise MissingDependencyError(_NEEDS) from exc

    def ready(server) -> None:
        if server.token:
            say(
                f"warning: listening on {settings.host}, reachable from other machines; "
                "the address below carries a random token: share it only with people you trust"
            )
        if server.input is not None:
            say(f"input on this machine: {server.input.name}")
        say(f"serving {len(server.styles)} styles at {server.url}  (Ctrl-C stops)")
        bare = server.url + ("&" if "?" in server.url else "?") + "view=bare"
        say(f"for an OBS Browser Source: {bare}{'&source=server' if server.input else ''}")
        sys.stderr.flush()

    # The event loop takes the stop signals over (an orderly stop); one that comes before,
    # or where the loop cannot (Windows), arrives as KeyboardInterrupt.
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(settings, ready, stop_signals=STOP_SIGNALS))
    say("stopped; recordings in progress were finished")
    return 0
