"""A cell's setup log: the whole of it as text, or as a live stream (SSE) of what is
written, resumable at the byte (`services/setup_log.py` says what the log holds)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse
from sse_starlette import EventSourceResponse, ServerSentEvent

from hive.api.deps import Runtime
from hive.api.routes.streams import LastEventId, Since, resume_cursor
from hive.core.status import CellStatus
from hive.services.log_chunks import follow_chunks
from hive.services.setup_log import READ_CAP_BYTES, read_log, setup_log_path
from hive.store.events import EventRecord

router = APIRouter(prefix="/api/cells/{cell_id}/setup-log", tags=["setup log"])

#: Statuses in which no setup command runs; a deleted cell's log is finished too.
_SETTLED = frozenset({CellStatus.READY, CellStatus.ERROR, CellStatus.ARCHIVED})
#: The events that tell a cell's status changed (or that it is gone).
_STATUS_KINDS = frozenset({"cell", "cell_removed"})
#: The byte offset the text reaches; `?after=` it, the stream goes on from there.
END_HEADER = "Hive-Log-End"

Tail = Annotated[
    int | None,
    Query(ge=1, le=100_000, description="Only the last N lines (of the last few MB)."),
]


@router.get(
    "",
    response_class=PlainTextResponse,
    responses={
        200: {
            "description": "The log (empty while no setup command has run yet).",
            "headers": {
                END_HEADER: {
                    "description": "Byte offset the text reaches: pass it as `after` to "
                    "the stream to go on without a gap or a repeat.",
                    "schema": {"type": "integer"},
                }
            },
        }
    },
)
async def setup_log(cell_id: str, runtime: Runtime, tail: Tail = None) -> PlainTextResponse:
    """Every setup command of every attempt: an `[hive] attempt N · run …` line per run
    of setup, `[hive] setup i/n` and `$ command` before each command, its output, then
    `[hive] exit code N`. At most the last 4 MB, under a `[hive] log cut` line when
    longer. 200 with an empty body while no setup command has run (or the template has
    none); 404 for an unknown cell."""
    await runtime.stores.cells.get(cell_id)
    path = setup_log_path(runtime.settings.logs_root, cell_id)
    log = await asyncio.to_thread(read_log, path, tail=tail, cap=READ_CAP_BYTES)
    return PlainTextResponse(log.text, headers={END_HEADER: str(log.end)})


@router.get("/stream")
async def setup_log_stream(
    cell_id: str, runtime: Runtime, last_event_id: LastEventId = None, after: Since = None
) -> EventSourceResponse:
    """The log from the start (or after byte `Last-Event-ID` / `after`), then what is
    written as it is written: `log` events, data `{"text": …}`, id the byte offset
    the text reaches. Once the cell is ready, in error, archived or deleted and its last
    bytes are sent, an `end` event (data `{"status": …}`, `deleted` for a cell that is
    gone) closes it; an EventSource should `close()` on it rather than reconnect."""
    offset = resume_cursor(last_event_id, after)
    cells = runtime.stores.cells
    await cells.get(cell_id)  # 404 for an unknown cell
    path = setup_log_path(runtime.settings.logs_root, cell_id)

    def match(event: EventRecord) -> bool:
        return event.cell_id == cell_id and event.kind in _STATUS_KINDS

    async def events() -> AsyncIterator[ServerSentEvent]:
        final, end = "deleted", offset  # the status it settled in; the last byte sent
        # The file is polled; the status is read again only when the bus says the cell
        # changed (set at first: nothing is known yet), not on every poll.
        with runtime.bus.subscribe(match) as news:
            news.changed.set()

            async def settled() -> bool:
                nonlocal final
                if not news.changed.is_set():
                    return False
                news.changed.clear()  # before the read: a later change sets it again
                cell = await cells.find(cell_id)
                if cell is not None and cell.status not in _SETTLED:
                    return False
                final = "deleted" if cell is None else str(cell.status)
                return True

            async for chunk in follow_chunks(path, after=offset, settled=settled):
                end = chunk.end
                text = json.dumps({"text": chunk.text})
                yield ServerSentEvent(data=text, event="log", id=str(end))
        yield ServerSentEvent(data=json.dumps({"status": final}), event="end", id=str(end))

    # Pings are comments: they keep proxies and idle timeouts from closing the stream.
    return EventSourceResponse(events(), ping=runtime.settings.stream_heartbeat_s)
