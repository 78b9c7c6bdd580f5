"""The dashboard server's gate: requests must name this server, and browsers must come from its page.

A dashboard on loopback is still reachable from any web page the user opens: a page on another site
can point a name it controls at 127.0.0.1 (DNS rebinding) and then talk to the server as if it were
its own origin, or open a websocket to ``ws://127.0.0.1:PORT`` directly (cross-site websocket
hijacking: browsers send cookies and do not apply the same-origin policy to websockets). The page can
run simulations and reads the server's state, so both are refused here:

* **Host.** Every HTTP request and websocket handshake must carry a ``Host`` header naming the address
  the server listens on (``127.0.0.1:8765``, ``localhost:8765``, ``[::1]:8765`` on loopback), or one of
  the names given with ``--allowed-host``. A rebound name fails this check.
* **Origin.** A request that carries an ``Origin`` header (every websocket handshake and every
  cross-site request from a browser) must come from ``http://`` one of those hosts. Clients that send
  no ``Origin`` (``curl``, scripts) are not browsers, and are let through on the ``Host`` check alone.

Refusals are HTTP 403 (or a websocket closed before it is accepted), with one line saying why; the
check is a plain ASGI middleware, so it holds for every route the page serves.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

__all__ = ["HostOriginGuard", "allowed_hosts", "normalise_host"]

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable, Callable], Awaitable[None]]

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


def _bracket(host: str) -> str:
    """``::1`` -> ``[::1]`` (an IPv6 literal in a Host header or URL), anything else unchanged."""
    try:
        if ipaddress.ip_address(host.strip("[]")).version == 6:
            return f"[{host.strip('[]')}]"
    except ValueError:
        pass
    return host


def normalise_host(value: str, default_port: int) -> str | None:
    """A ``Host`` header or an origin's ``host[:port]`` as ``host:port``, lower-case; ``None`` if malformed."""
    try:
        parts = urlsplit(f"//{value.strip()}")
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not host or parts.username is not None or parts.path or parts.query:
        return None
    return f"{_bracket(host.lower())}:{port or default_port}"


def allowed_hosts(host: str, port: int, extra: Iterable[str] = ()) -> frozenset[str]:
    """The ``host:port`` values a request may name: the listening address, its loopback aliases and ``extra``.

    Args:
        host: The address the server listens on.
        port: Its port.
        extra: Further names clients use to reach it (``--allowed-host``), with or without a port.
    """
    names = {host, *extra}
    try:
        if ipaddress.ip_address(host.strip("[]")).is_loopback:
            names.update(LOOPBACK_NAMES)
    except ValueError:
        if host == "localhost":
            names.update(LOOPBACK_NAMES)
    out = set()
    for name in names:
        value = normalise_host(_bracket(name), port)
        if value:
            out.add(value)
    return frozenset(out)


class HostOriginGuard:
    """ASGI middleware: refuse requests whose ``Host`` or ``Origin`` does not name this server.

    Args:
        app: The ASGI application to guard (Solara's Starlette app).
        hosts: The allowed ``host:port`` values (:func:`allowed_hosts`).
        port: The listening port, for a ``Host`` header without one.
    """

    def __init__(self, app: ASGIApp, hosts: frozenset[str], port: int) -> None:
        self.app, self.hosts, self.port = app, hosts, port

    def refusal(self, scope: Scope) -> str | None:
        """Why a request is refused, or ``None`` if it may pass."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = normalise_host(headers.get("host", ""), self.port)
        if host not in self.hosts:
            return f"Host {headers.get('host', '')[:80]!r} is not this dashboard's address"
        origin = headers.get("origin")
        if origin is None:
            return None
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or normalise_host(parts.netloc, self.port) not in self.hosts:
            return f"Origin {origin[:80]!r} is not this dashboard's page"
        return None

    async def __call__(self, scope: Scope, receive: Callable, send: Callable) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        why = self.refusal(scope)
        if why is None:
            await self.app(scope, receive, send)
            return
        log.warning("dashboard: refused a %s request: %s", scope["type"], why)
        if scope["type"] == "websocket":
            await receive()  # the websocket.connect message
            await send({"type": "websocket.close", "code": 1008, "reason": why[:120]})
            return
        body = f"refused: {why}\n".encode()
        await send({"type": "http.response.start", "status": 403,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
