"""What answered at a URL, in a few words: `200 OK, text/html, "hello from cell x"`."""

from __future__ import annotations

from html.parser import HTMLParser

import httpx

_HEADINGS = frozenset({"title", "h1", "h2", "h3", "h4", "h5", "h6"})
_HIDDEN = frozenset({"script", "style", "template", "noscript"})
_TEXT_TYPES = frozenset({"application/json", "application/xml", "application/javascript"})


class _PageText(HTMLParser):
    """Collects the first heading (or title) and all visible text of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.heading: str | None = None
        self.text: list[str] = []
        self._open: list[str] = []
        self._current: list[str] = []

    def handle_starttag(self, tag: str, _attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HEADINGS or tag in _HIDDEN:
            self._open.append(tag)
            self._current = []

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1] == tag:
            self._open.pop()
            words = " ".join("".join(self._current).split())
            if tag in _HEADINGS and words and self.heading is None:
                self.heading = words

    def handle_data(self, data: str) -> None:
        if any(tag in _HIDDEN for tag in self._open):
            return
        self._current.append(data)
        self.text.append(data)


def _shorten(text: str, limit: int) -> str:
    words = " ".join(text.split())
    return words if len(words) <= limit else words[: limit - 1].rstrip() + "…"


def summarize(response: httpx.Response, limit: int = 60) -> str:
    kind = response.headers.get("content-type", "").partition(";")[0].strip().lower()
    parts = [f"{response.status_code} {response.reason_phrase}".strip(), kind or "no type"]
    if not response.content:
        return ", ".join([*parts, "empty"])
    if kind in ("text/html", "application/xhtml+xml"):
        page = _PageText()
        page.feed(response.text)
        page.close()
        gist = page.heading or " ".join(page.text)
    elif kind.startswith("text/") or kind in _TEXT_TYPES:
        gist = response.text
    else:
        return ", ".join([*parts, f"{len(response.content)} bytes"])
    gist = _shorten(gist, limit)
    if gist:
        parts.append(f'"{gist}"')
    return ", ".join(parts)
