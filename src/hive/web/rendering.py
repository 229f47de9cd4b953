"""The Jinja2 environment pages render with, and the filters their templates share."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateNotFound, select_autoescape

from hive import __version__
from hive.core.errors import NotFoundError
from hive.core.sizes import human_bytes


def duration(ms: float | None) -> str:
    """`850 ms`, `12.3 s`, `4 min 05 s`: short, and exact enough to compare steps."""
    if ms is None:
        return "—"
    if ms < 1000:
        return f"{ms:.0f} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def size(value: float | None) -> str:
    return "—" if value is None else human_bytes(value)


def when(iso: str | None) -> str:
    """An ISO timestamp as local-looking `YYYY-MM-DD HH:MM:SS` (UTC); pages re-label it."""
    if not iso:
        return "—"
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


class PageRenderer:
    """One per app: templates load from the package, autoescaped, strict about names."""

    def __init__(self) -> None:
        self.env = Environment(
            loader=PackageLoader("hive.web", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(duration=duration, size=size, when=when)
        self.env.globals.update(version=__version__)

    def render(
        self, request: Request, template: str, *, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        html = self.env.get_template(template).render(request=request, **context)
        return HTMLResponse(html, status_code=status_code, headers={"cache-control": "no-store"})

    def part(self, request: Request, folder: str, name: str, **context: Any) -> HTMLResponse:
        """One live region's fragment, `<folder>/_<name>.html`; 404 for a part that is not."""
        if not name.isidentifier():
            raise NotFoundError(f"page part '{name[:40]}' does not exist")
        try:
            return self.render(request, f"{folder}/_{name}.html", **context)
        except TemplateNotFound:
            raise NotFoundError(f"page part '{name}' does not exist") from None


def unauthorized_page(renderer: PageRenderer) -> Callable[[str, str], str]:
    """What the token guard shows a browser without the token: how to get the URL."""

    def render(message: str, where: str) -> str:
        return renderer.env.get_template("unauthorized.html").render(message=message, where=where)

    return render
