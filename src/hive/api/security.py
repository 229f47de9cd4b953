"""Local-only guard: refuse foreign Host headers (DNS rebinding) and cross-origin writes."""

from __future__ import annotations

import ipaddress
import json
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _hostname(host_header: str) -> str:
    """`localhost:4483` → `localhost`; `[::1]:4483` → `::1`."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


def is_loopback_name(hostname: str) -> bool:
    if hostname == "localhost" or hostname.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


class LocalOnlyMiddleware:
    """ASGI middleware; `extra_hosts` are names the user bound the server to on purpose."""

    def __init__(self, app: ASGIApp, extra_hosts: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.extra_hosts = frozenset(h.lower() for h in extra_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        # A websocket handshake is a GET that browsers send cross-origin: check its Origin.
        method = "WEBSOCKET" if scope["type"] == "websocket" else scope["method"]
        problem = self._problem(method, headers.get("host", ""), headers.get("origin"))
        if problem is None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        body = json.dumps({"error": "ForbiddenError", **problem}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _allowed_host(self, hostname: str) -> bool:
        return is_loopback_name(hostname) or hostname in self.extra_hosts

    def _problem(self, method: str, host: str, origin: str | None) -> dict[str, str] | None:
        hostname = _hostname(host)
        if not self._allowed_host(hostname):
            return {
                "message": f"Host '{host}' is not a local address; Hive only answers "
                "requests made to localhost",
                "hint": "open Hive at http://127.0.0.1:<port> or http://localhost:<port>",
            }
        if origin is None or method in _SAFE_METHODS:
            return None
        parts = urlsplit(origin)
        if parts.scheme in ("http", "https") and parts.netloc.lower() == host.strip().lower():
            return None
        return {
            "message": f"cross-origin {method} from '{origin}' refused: only pages served by "
            "this Hive server may change its state",
            "hint": "use the Hive web UI, the `hive` CLI or a client that sends no Origin",
        }
