"""What a provisioning estimate reads: recent successful runs of a template, and the
rows of a cell's current run, in one statement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CompoundSelect, and_, literal, select, union_all

from hive.core.eta import StepSample
from hive.store.database import Database
from hive.store.records import CellRecord
from hive.store.tables import cell_timing_events as t


@dataclass(frozen=True)
class RunRow:
    step: str
    status: str
    started_at: str
    duration_ms: float


@dataclass(frozen=True)
class CellRunRows:
    history: list[StepSample]
    """Top-level step durations of the template's recent successful runs."""
    current: list[RunRow]
    """Every row (sub-steps too) of the cell's current run so far."""


class StepHistoryStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def for_cell(self, cell: CellRecord, steps: Sequence[str], runs: int) -> CellRunRows:
        """`steps`: the create workflow's, in order. A run is successful when it
        recorded its last step ok: a failed step ends a run, so every step before it
        was ok too. Same template *in this workspace*: another repository's template
        of that name is another recipe."""
        rows = await self._db.all(_statement(cell, steps, runs))
        return CellRunRows(
            history=[
                StepSample(row.run_id, row.step, row.duration_ms)
                for row in rows
                if row.part == "history"
            ],
            current=[
                RunRow(row.step, row.status, row.started_at, row.duration_ms)
                for row in rows
                if row.part == "current"
            ],
        )


def _statement(cell: CellRecord, steps: Sequence[str], runs: int) -> CompoundSelect[Any]:
    """The last `runs` successful runs' top-level rows, then the current run's rows."""
    recent = (
        select(t.c.cell_id, t.c.run_id)
        .where(
            t.c.template_id == cell.template_id,
            t.c.step == steps[-1],
            t.c.status == "ok",
            t.c.workspace_id == cell.workspace_id,
        )
        .order_by(t.c.id.desc())
        .limit(runs)
        .cte("recent")
    )
    columns = (t.c.run_id, t.c.step, t.c.status, t.c.started_at, t.c.duration_ms)
    # Joined on cell_id as well: the (cell_id, id) index finds a run's rows among
    # a few dozen of its cell's, not among every row of a busy template.
    on_run = and_(t.c.cell_id == recent.c.cell_id, t.c.run_id == recent.c.run_id)
    history = (
        select(literal("history").label("part"), *columns)
        .select_from(t.join(recent, on_run))
        .where(t.c.step.in_(steps))
    )
    current = select(literal("current").label("part"), *columns).where(
        t.c.cell_id == cell.id, t.c.run_id == (cell.run_id or "")
    )
    return union_all(history, current)
