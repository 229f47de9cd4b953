"""Queries over cells. Status changes go through `transition`, which obeys core's table."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Executable, delete, func, insert, select, type_coerce, update

from hive.core.errors import NotFoundError, TransitionError
from hive.core.failures import SetupError
from hive.core.status import HIDDEN, CellStatus, check_transition, sources_of
from hive.store.clock import now_iso
from hive.store.database import Database, Written
from hive.store.events import EventLog, NewEvent
from hive.store.records import CellRecord
from hive.store.tables import cells

_COLUMNS = {
    "workspace_id",
    "name",
    "description",
    "template_id",
    "worktree_path",
    "branch_name",
    "base_ref",
    "base_commit",
    "last_setup_error",
    "completed_steps",
    "run_id",
    "attempt",
    "progress",
    "resume_run_id",
    "resume_streak",
    "constraints",
    "success_criteria",
    "prompt",
    "agent",
    "agent_request",
    "options",
}

_LISTS = {"completed_steps", "constraints", "success_criteria"}


def _record(row: Any) -> CellRecord:
    return CellRecord(
        id=row.id,
        workspace_id=row.workspace_id,
        name=row.name,
        description=row.description,
        template_id=row.template_id,
        status=CellStatus(row.status),
        worktree_path=Path(row.worktree_path),
        branch_name=row.branch_name,
        base_ref=row.base_ref,
        base_commit=row.base_commit,
        last_setup_error=(
            SetupError.from_json(row.last_setup_error) if row.last_setup_error else None
        ),
        completed_steps=tuple(row.completed_steps or ()),
        run_id=row.run_id,
        attempt=row.attempt,
        created_at=row.created_at,
        updated_at=row.updated_at,
        progress=row.progress,
        resume_run_id=row.resume_run_id,
        resume_streak=row.resume_streak,
        constraints=tuple(row.constraints or ()),
        success_criteria=tuple(row.success_criteria or ()),
        prompt=row.prompt,
        agent=row.agent,
        agent_request=row.agent_request,
        options=row.options,
    )


def _sources_of(target: CellStatus) -> list[str]:
    return sorted(str(source) for source in sources_of(target))


def _column_values(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - _COLUMNS
    if unknown:
        raise ValueError(f"not updatable cell columns: {sorted(unknown)}")
    values = {k: (list(v) if k in _LISTS else v) for k, v in fields.items()}
    failure = values.get("last_setup_error")
    if isinstance(failure, SetupError):
        values["last_setup_error"] = failure.to_json()
    return values


def _not_found(cell_id: str) -> NotFoundError:
    return NotFoundError(
        f"cell '{cell_id}' does not exist (or is being deleted)",
        hint="list cells with GET /api/cells or `hive ls`",
    )


def cell_json(cell: CellRecord) -> dict[str, Any]:
    """A cell as its `cell` events tell it: who, where, and how it stands."""
    return {
        "id": cell.id,
        "workspaceId": cell.workspace_id,
        "name": cell.name,
        "templateId": cell.template_id,
        "status": str(cell.status),
        "branchName": cell.branch_name,
        "worktreePath": str(cell.worktree_path),
        "attempt": cell.attempt,
        "runId": cell.run_id,
        "lastSetupError": cell.last_setup_error.to_json() if cell.last_setup_error else None,
        "agent": cell.agent,
        "createdAt": cell.created_at,
        "updatedAt": cell.updated_at,
    }


def _cell_event(written: Written) -> NewEvent | None:
    if not written.rows:
        return None
    cell = _record(written.rows[0])
    return NewEvent("cell", cell.id, cell.workspace_id, cell_json(cell))


def _progress_event(written: Written) -> NewEvent | None:
    if not written.rows or written.rows[0].progress is None:
        return None
    cell = _record(written.rows[0])
    data = {"id": cell.id, "runId": cell.run_id, **(cell.progress or {})}
    return NewEvent("progress", cell.id, cell.workspace_id, data)


class CellStore:
    def __init__(self, db: Database, events: EventLog | None = None) -> None:
        self._db = db
        self._events = events

    async def _write(
        self, statement: Executable, event: Callable[[Written], NewEvent | None]
    ) -> Written:
        """The write, and the event it makes, in one transaction (when events are kept)."""
        if self._events is None:
            [written] = await self._db.write(statement)
            return written
        return await self._events.write(statement, event)

    async def insert(self, cell: CellRecord) -> None:
        values = _column_values({name: getattr(cell, name) for name in _COLUMNS})
        values.update(
            id=cell.id,
            status=str(cell.status),
            worktree_path=str(cell.worktree_path),
            completed_steps=list(cell.completed_steps),
            created_at=cell.created_at,
            updated_at=cell.updated_at,
        )
        await self._write(insert(cells).values(**values).returning(*cells.c), _cell_event)

    async def find(self, cell_id: str) -> CellRecord | None:
        """The cell whatever its status, hidden ones included."""
        row = await self._db.first(select(cells).where(cells.c.id == cell_id))
        return _record(row) if row else None

    async def get(self, cell_id: str, *, include_hidden: bool = False) -> CellRecord:
        cell = await self.find(cell_id)
        if cell is None or (cell.status in HIDDEN and not include_hidden):
            raise _not_found(cell_id)
        return cell

    async def list(
        self,
        *,
        workspace_id: str | None = None,
        statuses: Iterable[CellStatus] | None = None,
        include_hidden: bool = False,
    ) -> list[CellRecord]:
        query = select(cells).order_by(cells.c.created_at, cells.c.id)
        if workspace_id is not None:
            query = query.where(cells.c.workspace_id == workspace_id)
        if statuses is not None:
            query = query.where(cells.c.status.in_([str(s) for s in statuses]))
        elif not include_hidden:
            query = query.where(cells.c.status.not_in([str(s) for s in HIDDEN]))
        rows = await self._db.all(query)
        return [_record(row) for row in rows]

    async def update(self, cell_id: str, **fields: Any) -> CellRecord:
        """Change non-status columns; live progress is an event of its own, and an agent
        change is a `cell` event (list views show what each agent is doing)."""
        values = _column_values(fields)
        event: Callable[[Written], NewEvent | None] = lambda _written: None  # noqa: E731
        if "progress" in fields:
            event = _progress_event
        elif "agent" in fields:
            event = _cell_event
        written = await self._write(
            update(cells)
            .where(cells.c.id == cell_id)
            .values(**values, updated_at=now_iso())
            .returning(*cells.c),
            event,
        )
        if not written.rows:
            raise _not_found(cell_id)
        return _record(written.rows[0])

    async def patch_agent(self, cell_id: str, changes: dict[str, Any]) -> CellRecord | None:
        """Merge `changes` into the cell's `agent` (a None value removes the key), in one
        statement: a status watcher and a step may write at once without losing either.
        A `cell` event tells list views; None when the cell is gone."""
        patched = func.json_patch(func.coalesce(cells.c.agent, "{}"), json.dumps(changes))
        written = await self._write(
            update(cells)
            .where(cells.c.id == cell_id)
            .values(agent=type_coerce(patched, JSON), updated_at=now_iso())
            .returning(*cells.c),
            _cell_event,
        )
        return _record(written.rows[0]) if written.rows else None

    async def transition(
        self,
        cell_id: str,
        target: CellStatus,
        *,
        only_from: Iterable[CellStatus] | None = None,
        **fields: Any,
    ) -> CellRecord:
        """Move the cell to `target` if the transition table allows it from its current status.

        `only_from` narrows the allowed sources further (a failing create may end only a
        cell that is still being created, never one a delete has taken over). The check
        and the write are one conditional UPDATE, so racing callers cannot both succeed.
        """
        values = _column_values(fields)
        sources = _sources_of(target)
        if only_from is not None:
            sources = [s for s in sources if CellStatus(s) in set(only_from)]
        written = await self._write(
            update(cells)
            .where(cells.c.id == cell_id, cells.c.status.in_(sources))
            .values(**values, status=str(target), updated_at=now_iso())
            .returning(*cells.c),
            _cell_event,
        )
        if not written.rows:
            current = await self.find(cell_id)
            if current is None:
                raise _not_found(cell_id)
            check_transition(current.status, target)
            if only_from is not None and current.status not in set(only_from):
                raise TransitionError(
                    f"cell '{cell_id}' is {current.status}; not moving it to '{target}'"
                )
            raise TransitionError(
                f"cell '{cell_id}' changed status while moving to '{target}'",
                hint="read the cell again and retry",
            )
        return _record(written.rows[0])

    async def announce(self, cell_id: str) -> None:
        """A `cell` event of the cell as it is now: a run's last word, after every row
        of it is written, so a live view that ends at a settled cell misses nothing."""

        def settled(written: Written) -> NewEvent | None:
            new = _cell_event(written)
            return None if new is None else replace(new, data={**new.data, "settled": True})

        await self._write(select(cells).where(cells.c.id == cell_id), settled)

    async def delete(self, cell_id: str) -> None:
        """Remove the row; a `cell_removed` tombstone tells list views it is gone."""

        def removed(written: Written) -> NewEvent | None:
            if not written.rows:
                return None
            return NewEvent("cell_removed", cell_id, written.rows[0].workspace_id, {"id": cell_id})

        statement = delete(cells).where(cells.c.id == cell_id).returning(cells.c.workspace_id)
        await self._write(statement, removed)
