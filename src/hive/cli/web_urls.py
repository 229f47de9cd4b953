"""The web UI's addresses as the CLI prints and opens them: a page with the token, which
a browser presents once (it becomes a cookie and leaves the address bar)."""

from __future__ import annotations

from urllib.parse import quote

from hive.access_token import AccessToken


def page_url(base_url: str, token: AccessToken | None, path: str = "/") -> str:
    """`base_url` + `path`, with `?token=` when there is a token to present."""
    address = f"{base_url.rstrip('/')}/{path.lstrip('/')}"
    return f"{address}?token={quote(token.value, safe='')}" if token else address


def browser_url(base_url: str, token: AccessToken) -> str:
    """The web UI's front page (every workspace's cells)."""
    return page_url(base_url, token)


def cell_page_url(base_url: str, token: AccessToken | None, cell_id: str) -> str:
    """A cell's own page: its provisioning, services, agent and actions."""
    return page_url(base_url, token, f"/cells/{quote(cell_id, safe='')}")
