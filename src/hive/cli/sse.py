"""Server-sent events read from lines of a stream, as a browser's EventSource reads them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SseEvent:
    event: str
    """The `event:` field; `message` when the server sent none."""
    id: str | None
    """The `id:` field, what a reconnect sends back as Last-Event-ID."""
    data: str
    """The `data:` lines, joined by newlines."""

    def json(self) -> Any:
        return json.loads(self.data) if self.data else None


def parse_sse(lines: Iterable[str]) -> Iterator[SseEvent]:
    """Each event once its blank line arrives; comments (`:` heartbeats) are skipped."""
    event, event_id, data = "", None, list[str]()
    for line in lines:
        if not line:
            if data or event or event_id is not None:
                yield SseEvent(event or "message", event_id, "\n".join(data))
            event, event_id, data = "", None, []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
        elif name == "id" and "\0" not in value:
            event_id = value
