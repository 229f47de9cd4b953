"""Server-sent events read as the HTML standard's EventSource reads them.

`events(response)` turns a streaming httpx response into `ServerSentEvent`s: `event:`
names it (`message` by default), `data:` lines are joined with newlines, `id:` sets
the last event id (which, as in a browser, stays until another `id:` changes it),
lines starting with `:` are comments (heartbeats), a blank line dispatches. An event
with no `data:` line is not dispatched, and neither is one the stream ended inside.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import NamedTuple

import httpx


class ServerSentEvent(NamedTuple):
    event: str
    id: str | None
    """The last event id seen so far: what a reconnect sends as `Last-Event-ID`."""
    data: str


def parse(lines: Iterable[str]) -> Iterator[ServerSentEvent]:
    """Events from the stream's lines (without their line endings)."""
    last_id: str | None = None
    kind = ""
    data: list[str] = []
    for line in lines:
        if not line:
            if data:
                yield ServerSentEvent(kind or "message", last_id, "\n".join(data))
            kind, data = "", []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name == "event":
            kind = value
        elif name == "id" and "\0" not in value:
            last_id = value
        # `retry:` and unknown fields are ignored, as the standard says.


def events(response: httpx.Response) -> Iterator[ServerSentEvent]:
    """The events of a streaming response, as they arrive."""
    return parse(response.iter_lines())
