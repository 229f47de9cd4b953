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
from hive.store.timing_choices import TimingChoices, timing_choices
from hive.store.timing_filter import TimingFilter, conditions
from hive.store.timing_summary import RunStats, StepStats, run_stats, step_stats

__all__ = ["TimingFilter", "TimingPage", "TimingStore"]


@dataclass(frozen=True)
class TimingPage:
    rows: list[TimingEvent]
    """Oldest first, like `query`."""
    next_before_id: int | None
    """The id the next (older) page starts below; None on the last page."""


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
        query = select(t).where(*conditions(where)).order_by(t.c.id.desc())
        if where.limit is not None:
            query = query.limit(where.limit)
        rows = await self._db.all(query)
        return [_record(row) for row in reversed(rows)]

    async def page(self, where: TimingFilter, size: int) -> TimingPage:
        """The newest `size` matching rows below `where.before_id`, and where the next
        page starts. One row more is read than shown, to know whether one follows."""
        rows = await self.query(replace(where, limit=size + 1))
        if len(rows) <= size:
            return TimingPage(rows, None)
        shown = rows[1:]
        return TimingPage(shown, shown[0].id)

    async def step_stats(self, where: TimingFilter) -> list[StepStats]:
        """Count, p50, p90, max and failure rate per template and step."""
        return await step_stats(self._db, where)

    async def run_stats(self, where: TimingFilter) -> list[RunStats]:
        """Count, p50 and p90 of run totals, failure rate, per template and workflow."""
        return await run_stats(self._db, where)

    async def choices(self) -> TimingChoices:
        """The workspaces, templates, cells (deleted ones too) and steps rows hold."""
        return await timing_choices(self._db)
