"""Serve the dashboard with Solara's server, answering only requests sent to loopback.

``python -m scenarios.viz.serve PORT`` runs ``solara run app.py`` on 127.0.0.1:PORT in
production mode, without the online version check, after adding
:class:`LoopbackHostMiddleware` to Solara's Starlette application
(``solara.server.starlette:app``, the ASGI app ``solara run`` serves). `scenarios viz`
starts it.

Why: a web page on any site can point a name it controls at 127.0.0.1 (DNS rebinding)
and then make the browser talk to the dashboard as if it were that site. The browser
still sends the page's name in the ``Host`` header, so a request whose Host is not the
loopback address and port the server listens on is refused: 400 for a page or file,
403 for a websocket (closed before it is accepted).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

HOST = "127.0.0.1"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
APP = Path(__file__).resolve().parent / "app.py"


def loopback_hosts(port: int, names: Iterable[str] = LOOPBACK_NAMES) -> frozenset[str]:
    """The Host header values a browser sends to the loopback server on ``port``."""
    hosts = {f"{name}:{port}" for name in names}
    if port == 80:  # the default port is left out of the header
        hosts |= set(names)
    return frozenset(hosts)


class LoopbackHostMiddleware:
    """ASGI middleware: refuse HTTP and websocket requests not addressed to ``allowed``.

    ``allowed`` holds exact ``host:port`` values (compared without regard to case).
    Starlette's TrustedHostMiddleware ignores the port and cannot parse ``[::1]:port``,
    hence this one.
    """

    def __init__(self, app: ASGIApp, allowed: Iterable[str]) -> None:
        self.app = app
        self.allowed = frozenset(host.lower() for host in allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or refuse it (400, or 403 for a websocket)."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = Headers(scope=scope).get("host", "").strip().lower()
        if host in self.allowed:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})  # 403 to the handshake
        else:
            response = PlainTextResponse(
                "Invalid Host header: this dashboard serves only "
                + ", ".join(sorted(self.allowed)),
                status_code=400,
            )
            await response(scope, receive, send)


def solara_arguments(port: int) -> list[str]:
    """``solara run`` on 127.0.0.1:``port``: production, no browser, no version check."""
    return [
        "run",
        str(APP),
        "--host",
        HOST,
        "--port",
        str(port),
        "--production",
        "--no-open",
        "--no-check-version",
    ]


def main(argv: list[str] | None = None) -> None:
    """Serve the dashboard on 127.0.0.1:PORT (``argv``: ``[PORT]``)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not args[0].isdigit() or not 0 < int(args[0]) < 65536:
        sys.exit("usage: python -m scenarios.viz.serve PORT")
    port = int(args[0])

    # What `solara run` puts in the environment before uvicorn imports the application;
    # set first here because the import below reads SOLARA_APP (the app to serve).
    os.environ.update(SOLARA_APP=str(APP), SERVER_NAME=HOST, SERVER_PORT=str(port))
    # The application object `solara run` hands to uvicorn; middleware can be added
    # until it serves its first request.
    import solara.server.starlette as solara_starlette
    from solara.__main__ import cli

    solara_starlette.app.add_middleware(LoopbackHostMiddleware, allowed=loopback_hosts(port))
    cli(solara_arguments(port))


if __name__ == "__main__":
    main()
