"""``stream-nst serve``: the live stylized stream in a web page (needs ``stream-nst[serve]``).

:mod:`.protocol` (frame messages), :mod:`.session` (one page's settings and data path),
:mod:`.server_input` (an input on the server), :mod:`.server` (the aiohttp app), and the
page itself in ``static/``.
"""
