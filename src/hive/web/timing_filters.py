"""The timing pages' filters: what a GET form put in the URL, checked the way the
timings API checks them, so a bad value is a message beside its field, not a 422."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from urllib.parse import urlencode

from fastapi import Request

from hive.core.time_bounds import parse_bound
from hive.core.timing_cursor import decode_cursor

STATUSES = ("ok", "error")


@dataclass(frozen=True)
class TimingFilters:
    """As typed (empty fields are None); `since`/`until` are ages or ISO instants."""

    workspace_id: str | None = None
    template_id: str | None = None
    cell_id: str | None = None
    step: str | None = None
    status: str | None = None
    since: str | None = None
    until: str | None = None
    cursor: str | None = None

    @classmethod
    def of(cls, request: Request) -> TimingFilters:
        params = request.query_params
        values = {}
        for field in fields(cls):
            raw = params.get(_param(field.name), "").strip()
            values[field.name] = raw or None
        return cls(**values)

    def query(self, **changes: str | None) -> str:
        """This filter as a query string (cursor included only when set or changed)."""
        chosen = replace(self, **changes)
        pairs = {_param(field.name): getattr(chosen, field.name) for field in fields(chosen)}
        return urlencode({key: value for key, value in pairs.items() if value is not None})


def _param(field: str) -> str:
    """The API's query parameter of a field: `workspace_id` → `workspaceId`."""
    head, *rest = field.split("_")
    return head + "".join(word.capitalize() for word in rest)


@dataclass(frozen=True)
class CheckedBounds:
    since: str | None
    until: str | None
    errors: dict[str, str]
    """Field name (`since`, `until`, `status`, `cursor`) to what is wrong with it."""


def check(filters: TimingFilters, now: datetime | None = None) -> CheckedBounds:
    """The bounds in the API's stored form, or what is wrong with each field: what the
    API's parameter validators would say (they run for requests, not for calls)."""
    moment = now or datetime.now(UTC)
    errors: dict[str, str] = {}
    bounds: dict[str, str | None] = {"since": None, "until": None}
    for name in ("since", "until"):
        text = getattr(filters, name)
        if text is None:
            continue
        try:
            bounds[name] = parse_bound(text, moment)
        except ValueError as exc:
            errors[name] = str(exc)
    if filters.status is not None and filters.status not in STATUSES:
        errors["status"] = "choose ok or error"
    if filters.cursor is not None:
        try:
            decode_cursor(filters.cursor)
        except ValueError as exc:
            errors["cursor"] = str(exc)
    return CheckedBounds(bounds["since"], bounds["until"], errors)
