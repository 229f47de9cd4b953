"""Live streams (SSE): a cell's steps, a workspace's cells, all timings, a cell's
services. Each replays the event log after `Last-Event-ID` (or from the start), then
goes on live: no gap, no duplicate; the event id is the log's id."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from typing import Annotated

from fastapi import APIRouter, Header, Query
from sse_starlette import EventSourceResponse, ServerSentEvent

from hive.api.deps import Runtime
from hive.api.schemas import ServiceList, ServiceOut
from hive.core.errors import InvalidInputError, NotFoundError
from hive.core.status import CellStatus
from hive.events.bus import Match
from hive.runtime import HiveRuntime
from hive.store.events import EventRecord

router = APIRouter(tags=["streams"])

_BATCH = 500
#: Statuses after which a cell's step stream has nothing more to say.
_SETTLED = frozenset({CellStatus.READY, CellStatus.ERROR})
_CELL_KINDS = frozenset({"timing", "cell", "progress", "cell_removed"})

LastEventId = Annotated[
    str | None,
    Header(alias="Last-Event-ID", description="Resume after this event id (a reconnect)."),
]
Since = Annotated[
    int | None,
    Query(
        alias="after", ge=0, description="Like Last-Event-ID, for clients that cannot set headers."
    ),
]


def resume_cursor(header: str | None, query: int | None) -> int:
    """Where a stream resumes: `Last-Event-ID` if sent, else `?after=`, else the start."""
    if header is None or not header.strip():
        return query or 0
    try:
        value = int(header.strip())
    except ValueError:
        raise InvalidInputError(
            f"Last-Event-ID: {header[:40]!r} is not an event id",
            hint="send the id of the last event received (a whole number), or none",
        ) from None
    if value < 0:
        raise InvalidInputError("Last-Event-ID: must not be negative")
    return value


def _sse(event: EventRecord) -> ServerSentEvent:
    return ServerSentEvent(data=event.data_json, event=event.kind, id=str(event.id))


async def _follow(
    runtime: HiveRuntime,
    after: int,
    match: Match,
    *,
    cell_id: str | None = None,
    workspace_id: str | None = None,
    kinds: Collection[str] | None = None,
    finished: Callable[[EventRecord | None], Awaitable[bool]] | None = None,
) -> AsyncIterator[ServerSentEvent]:
    """Replay from the log after `after`, then live: from the subscription's queue
    while it keeps up, from the log again whenever the bus says it must. The
    subscription exists before the first read: nothing falls between the two."""
    log, heartbeat = runtime.stores.events, runtime.settings.stream_heartbeat_s
    with runtime.bus.subscribe(match) as subscription:
        cursor, last = after, None
        while True:
            subscription.changed.clear()  # before looking: anything later sets it again
            if subscription.stale:
                subscription.begin_read()
                batch = await log.after(
                    cursor, cell_id=cell_id, workspace_id=workspace_id, kinds=kinds, limit=_BATCH
                )
                if len(batch) == _BATCH:
                    subscription.stale = True  # more to read before the queue counts
            else:
                batch = subscription.take(cursor)
            for event in batch:
                cursor, last = event.id, event
                yield _sse(event)
            if subscription.stale or subscription.changed.is_set():
                continue
            if finished is not None and await finished(last):
                return
            if not await subscription.wait(heartbeat):
                subscription.stale = True  # quiet for long: look at the log once more


def _response(events: AsyncIterator[ServerSentEvent], runtime: HiveRuntime) -> EventSourceResponse:
    # Pings are comments: they keep proxies and idle timeouts from closing the stream.
    return EventSourceResponse(events, ping=runtime.settings.stream_heartbeat_s)


@router.get("/api/cells/timings/stream")
async def timings_stream(
    runtime: Runtime, last_event_id: LastEventId = None, after: Since = None
) -> EventSourceResponse:
    """Every step of every cell (`timing` events), as it begins and ends."""
    cursor = resume_cursor(last_event_id, after)
    match: Match = lambda event: event.kind == "timing"  # noqa: E731
    return _response(_follow(runtime, cursor, match, kinds={"timing"}), runtime)


@router.get("/api/cells/{cell_id}/timings/stream")
async def cell_stream(
    cell_id: str, runtime: Runtime, last_event_id: LastEventId = None, after: Since = None
) -> EventSourceResponse:
    """The cell's steps (`timing`, begin and end), `progress` of long steps and its
    status (`cell`); ends after the cell is ready, in error or gone (`cell_removed`)."""
    cursor = resume_cursor(last_event_id, after)
    cells = runtime.stores.cells
    if await cells.find(cell_id) is None and not await runtime.stores.events.after(
        0, cell_id=cell_id, limit=1
    ):
        raise NotFoundError(f"cell '{cell_id}' does not exist and never did")

    async def finished(last: EventRecord | None) -> bool:
        # Settled, and its run has had its last word (the `cell` event a run ends with,
        # after all its rows); a failed run's last word is its move to `error`.
        cell = await cells.find(cell_id)
        if cell is None:
            return True
        if cell.status not in _SETTLED:
            return False
        return last is None or (last.kind == "cell" and last.data.get("settled") is True)

    def match(event: EventRecord) -> bool:
        return event.cell_id == cell_id and event.kind in _CELL_KINDS

    events = _follow(runtime, cursor, match, cell_id=cell_id, kinds=_CELL_KINDS, finished=finished)
    return _response(events, runtime)


@router.get("/api/workspaces/{workspace_id}/stream")
async def workspace_stream(
    workspace_id: str,
    runtime: Runtime,
    last_event_id: LastEventId = None,
    after: Since = None,
    steps: Annotated[
        bool,
        Query(description="Also every cell's steps (`timing`) and their `progress`."),
    ] = False,
) -> EventSourceResponse:
    """The workspace's cells: `cell` when one is created or changes status (or its
    agent does), `cell_removed` (data: its id) when one is deleted; with `steps=true`,
    also each step's `timing` and `progress`, for list views that show how far a cell
    being made has got."""
    cursor = resume_cursor(last_event_id, after)
    await runtime.stores.workspaces.get(workspace_id)  # 404 for an unknown workspace
    kinds = {"cell", "cell_removed"} | ({"timing", "progress"} if steps else set())

    def match(event: EventRecord) -> bool:
        return event.workspace_id == workspace_id and event.kind in kinds

    events = _follow(runtime, cursor, match, workspace_id=workspace_id, kinds=kinds)
    return _response(events, runtime)


@router.get("/api/cells/{cell_id}/services/stream")
async def services_stream(cell_id: str, runtime: Runtime) -> EventSourceResponse:
    """A `snapshot` of the cell's services, then a `service` event per change of any of
    them (status, port, pid, restarts, exit code), until the cell is gone."""
    await runtime.stores.cells.get(cell_id)  # 404 for an unknown cell
    # The snapshot's id is the log's newest id: what comes after it is news.
    since = await runtime.stores.events.last_id()
    services = ServiceList(
        services=[ServiceOut.of(s) for s in await runtime.services.list(cell_id)]
    )

    async def finished(_last: EventRecord | None) -> bool:
        return await runtime.stores.cells.find(cell_id) is None

    def match(event: EventRecord) -> bool:
        return event.cell_id == cell_id and event.kind == "service"

    async def events() -> AsyncIterator[ServerSentEvent]:
        snapshot = services.model_dump(mode="json", by_alias=True)
        yield ServerSentEvent(data=json.dumps(snapshot), event="snapshot", id=str(since))
        async for event in _follow(
            runtime, since, match, cell_id=cell_id, kinds={"service"}, finished=finished
        ):
            yield event

    return _response(events(), runtime)
