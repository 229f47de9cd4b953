"""Read a server-sent event stream the way a browser's EventSource does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Event:
    id: int | None
    event: str
    data: Any


def events(response: httpx.Response, *, comments: list[str] | None = None) -> Iterator[Event]:
    """Events as they arrive; comment lines (heartbeats) go to `comments` if given."""
    fields: dict[str, str] = {}
    data: list[str] = []
    for line in response.iter_lines():
        if not line:
            if data or fields:
                raw = "\n".join(data)
                yield Event(
                    int(fields["id"]) if fields.get("id") else None,
                    fields.get("event", "message"),
                    json.loads(raw) if raw else None,
                )
            fields, data = {}, []
            continue
        if line.startswith(":"):
            if comments is not None:
                comments.append(line)
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        else:
            fields[name] = value
