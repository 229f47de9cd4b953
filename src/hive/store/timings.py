"""Queries over cell timing events: one row per finished step, kept after cells are gone."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from sqlalchemy import insert, select

from hive.store.clock import now_iso
from hive.store.database import Database, Written
from hive.store.events import EventLog, NewEvent
from hive.store.records import TimingEvent
from hive.store.tables import cell_timing_events as t


@dataclass(frozen=True)
class TimingFilter:
    cell_id: str | None = None
    template_id: str | None = None
    workflow: str | None = None
    workspace_id: str | None = None
    status: str | None = None
    run_ids: tuple[str, ...] | None = None
    limit: int | None = None


def _record(row: Any) -> TimingEvent:
    return TimingEvent(
        id=row.id,
        cell_id=row.cell_id,
        cell_name=row.cell_name,
        workspace_id=row.workspace_id,
        template_id=row.template_id,
        workflow=row.workflow,
        run_id=row.run_id,
        step=row.step,
        status=row.status,
        started_at=row.started_at,
        duration_ms=row.duration_ms,
        attempt=row.attempt,
        error=row.error,
        metadata=row.metadata,
        created_at=row.created_at,
    )


def timing_json(event: TimingEvent, phase: str = "end") -> dict[str, Any]:
    """A timing row as a `timing` event says it (`phase` "end"; "begin" has no row)."""
    return {
        "id": event.id,
        "cellId": event.cell_id,
        "workflow": event.workflow,
        "runId": event.run_id,
        "step": event.step,
        "status": event.status,
        "startedAt": event.started_at,
        "durationMs": event.duration_ms,
        "attempt": event.attempt,
        "error": event.error,
        "metadata": event.metadata,
        "phase": phase,
    }


class TimingStore:
    def __init__(self, db: Database, events: EventLog | None = None) -> None:
        self._db = db
        self._events = events

    async def add(self, event: TimingEvent) -> TimingEvent:
        """Persist a finished step, and its `timing` event in the same transaction."""
        values: dict[str, Any] = asdict(event)
        values.pop("id")
        values["created_at"] = now_iso()
        statement = insert(t).values(**values).returning(t.c.id)

        def announce(written: Written) -> NewEvent:
            row = replace(event, id=written.rows[0].id, created_at=values["created_at"])
            return NewEvent("timing", event.cell_id, event.workspace_id, timing_json(row))

        if self._events is None:
            [written] = await self._db.write(statement)
        else:
            written = await self._events.write(statement, announce)
        return replace(event, id=written.rows[0].id, created_at=values["created_at"])

    async def began(self, event: TimingEvent) -> None:
        """Announce that a step began (no row yet: its row is written when it ends)."""
        if self._events is not None:
            data = timing_json(event, phase="begin")
            await self._events.append(NewEvent("timing", event.cell_id, event.workspace_id, data))

    async def query(self, where: TimingFilter) -> list[TimingEvent]:
        """Matching events oldest first; with a limit, the newest `limit` of them."""
        query = select(t)
        for column, value in (
            (t.c.cell_id, where.cell_id),
            (t.c.template_id, where.template_id),
            (t.c.workflow, where.workflow),
            (t.c.workspace_id, where.workspace_id),
            (t.c.status, where.status),
        ):
            if value is not None:
                query = query.where(column == value)
        if where.run_ids is not None:
            query = query.where(t.c.run_id.in_(where.run_ids))
        query = query.order_by(t.c.id.desc())
        if where.limit is not None:
            query = query.limit(where.limit)
        rows = await self._db.all(query)
        return [_record(row) for row in reversed(rows)]
