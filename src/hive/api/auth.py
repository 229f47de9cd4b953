"""Token guard: every `/api` call and page needs the user's token; `/health` stays open.

Clients send `Authorization: Bearer <token>`. A browser presents the token once, as
`?token=` on a page URL: the answer sets an HttpOnly, SameSite=Strict cookie and
redirects to the same URL without the token, so it leaves the address bar and the
history. The cookie holds a value derived from the token, never the token itself,
and its name carries the server's port (cookies are shared across the ports of a host).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from urllib.parse import unquote_plus

from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from hive.access_token import AccessToken

OPEN_PATHS = frozenset({"/health"})
#: The web UI's stylesheet and scripts: nothing secret, and the page that asks for the
#: token needs its stylesheet before the browser has the cookie.
OPEN_PREFIXES = ("/static/",)
_PAGE_METHODS = frozenset({"GET", "HEAD"})
_COOKIE_PURPOSE = b"hive browser cookie"


def _is_api(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def split_token(query: bytes) -> tuple[str | None, bytes]:
    """(the `token` parameter, the query without it); other parameters stay byte-exact."""
    found: str | None = None
    kept = []
    for part in query.split(b"&"):
        name, _, value = part.partition(b"=")
        if unquote_plus(name.decode("latin-1")) == "token":
            found = unquote_plus(value.decode("latin-1")) if found is None else found
        elif part:
            kept.append(part)
    return found, b"&".join(kept)


class TokenAuthMiddleware:
    """ASGI middleware holding one server's token (resolved when the app was made)."""

    def __init__(
        self,
        app: ASGIApp,
        token: AccessToken,
        page_renderer: Callable[[str, str], str] | None = None,
    ) -> None:
        """`page_renderer(message, where)` is the HTML a browser gets when refused."""
        self.app = app
        self._page_renderer = page_renderer
        self._token = token.value.encode()
        self._cookie = hmac.new(self._token, _COOKIE_PURPOSE, hashlib.sha256).hexdigest()
        self._where = token.where()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] not in ("http", "websocket")
            or scope["path"] in OPEN_PATHS
            or scope["path"].startswith(OPEN_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        cookie_name = _cookie_name(scope)
        if (
            scope["type"] == "http"
            and scope["method"] in _PAGE_METHODS
            and not _is_api(scope["path"])
        ):
            presented, rest = split_token(scope["query_string"])
            if presented is not None:
                if self._matches(presented.encode()):
                    await self._redirect_with_cookie(scope, send, rest, cookie_name)
                else:
                    await self._refuse(scope, send, "the token in the URL is not this server's")
                return
        verdict = self._verdict(Headers(scope=scope), cookie_name)
        if verdict is None:
            await self.app(scope, receive, send)
        else:
            await self._refuse(scope, send, verdict)

    def _matches(self, presented: bytes) -> bool:
        return hmac.compare_digest(presented, self._token)

    def _verdict(self, headers: Headers, cookie_name: str) -> str | None:
        """None when a credential is right; otherwise what is wrong, in words."""
        presented = False
        scheme, _, credential = headers.get("authorization", "").partition(" ")
        if scheme:
            presented = True
            if scheme.lower() == "bearer" and self._matches(credential.strip().encode()):
                return None
        cookie = cookie_parser(headers.get("cookie", "")).get(cookie_name)
        if cookie is not None:
            presented = True
            if hmac.compare_digest(cookie.encode(), self._cookie.encode()):
                return None
        if presented:
            return "the token this request carries is not this server's"
        return "this request carries no Hive token"

    async def _redirect_with_cookie(
        self, scope: Scope, send: Send, rest: bytes, cookie_name: str
    ) -> None:
        path = scope.get("raw_path") or scope["path"].encode()
        # One leading slash: `//host/x` would send the browser to another site.
        location = b"/" + path.lstrip(b"/") + (b"?" + rest if rest else b"")
        # Session cookie: no Max-Age; `Path=/` so pages and /api calls both carry it.
        cookie = f"{cookie_name}={self._cookie}; Path=/; HttpOnly; SameSite=Strict"
        headers = [
            (b"location", location),
            (b"set-cookie", cookie.encode()),
            (b"cache-control", b"no-store"),
            (b"content-length", b"0"),
        ]
        await send({"type": "http.response.start", "status": 303, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    async def _refuse(self, scope: Scope, send: Send, message: str) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        if self._page_renderer is not None and _wants_page(scope):
            html = self._page_renderer(message, self._where).encode()
            await _answer(send, 401, b"text/html; charset=utf-8", html)
            return
        hint = (
            "send it as `Authorization: Bearer <token>` (the hive CLI does so by itself) "
            f"or open the URL `hive serve` printed; {self._where}"
        )
        body = json.dumps({"error": "UnauthorizedError", "message": message, "hint": hint}).encode()
        await _answer(send, 401, b"application/json", body)


def _wants_page(scope: Scope) -> bool:
    """A browser asking for a page (not the API, not a script's fetch of JSON)."""
    if _is_api(scope["path"]) or scope["method"] not in _PAGE_METHODS:
        return False
    return "text/html" in Headers(scope=scope).get("accept", "")


async def _answer(send: Send, status: int, content_type: bytes, body: bytes) -> None:
    headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        (b"www-authenticate", b'Bearer realm="hive"'),
        (b"cache-control", b"no-store"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _cookie_name(scope: Scope) -> str:
    server = scope.get("server")
    port = server[1] if server and server[1] is not None else ""
    return f"hive-auth-{port}" if port else "hive-auth"
