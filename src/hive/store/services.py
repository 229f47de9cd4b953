"""Queries over the supervisor's record of cell services (status, pid, port, exits)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.sqlite import insert

from hive.core.errors import TransitionError
from hive.core.status import ServiceStatus, check_service_transition, service_sources_of
from hive.store.clock import now_iso
from hive.store.database import Database, Written
from hive.store.events import EventLog, NewEvent
from hive.store.tables import cell_services as t


@dataclass(frozen=True)
class ServiceRecord:
    cell_id: str
    name: str
    status: str
    port: int | None
    pid: int | None
    process_started: float | None
    started_at: str | None
    exit_code: int | None
    restarts: int
    last_error: dict[str, Any] | None
    updated_at: str


#: Columns `save` and `transition` may set; the status only through `transition`.
_FIELDS = (
    "port", "pid", "process_started", "started_at", "exit_code", "restarts", "last_error",
)  # fmt: skip


def _record(row: Any) -> ServiceRecord:
    return ServiceRecord(
        cell_id=row.cell_id,
        name=row.name,
        status=row.status,
        port=row.port,
        pid=row.pid,
        process_started=row.process_started,
        started_at=row.started_at,
        exit_code=row.exit_code,
        restarts=row.restarts,
        last_error=row.last_error,
        updated_at=row.updated_at,
    )


def service_json(record: ServiceRecord) -> dict[str, Any]:
    """A service as its `service` events tell it."""
    return {
        "cellId": record.cell_id,
        "name": record.name,
        "status": record.status,
        "port": record.port,
        "pid": record.pid,
        "startedAt": record.started_at,
        "exitCode": record.exit_code,
        "restarts": record.restarts,
        "lastError": record.last_error,
        "updatedAt": record.updated_at,
    }


def _service_event(written: Written) -> NewEvent | None:
    if not written.rows:
        return None
    record = _record(written.rows[0])
    return NewEvent("service", record.cell_id, None, service_json(record))


class ServiceStore:
    def __init__(self, db: Database, events: EventLog | None = None) -> None:
        self._db = db
        self._events = events

    async def _write(self, statement: Any) -> Written:
        if self._events is None:
            [written] = await self._db.write(statement)
            return written
        return await self._events.write(statement, _service_event)

    async def transition(
        self, cell_id: str, name: str, target: ServiceStatus, **fields: Any
    ) -> ServiceRecord:
        """Move the service to `target` (with `fields`) if the transition table allows
        it from its current status; TransitionError otherwise. One conditional statement,
        so two racing writers cannot both move it from the same status."""
        self._check_fields(fields)
        sources = service_sources_of(target)
        values = {**fields, "status": str(target), "updated_at": now_iso()}
        existing = [str(status) for status in sources if status is not None]
        statement: Any
        if None in sources:
            statement = (
                insert(t)
                .values({"restarts": 0, **values, "cell_id": cell_id, "name": name})
                .on_conflict_do_update(
                    index_elements=[t.c.cell_id, t.c.name],
                    set_=values,
                    where=t.c.status.in_(existing),
                )
                .returning(*t.c)
            )
        else:
            statement = (
                update(t)
                .where(t.c.cell_id == cell_id, t.c.name == name, t.c.status.in_(existing))
                .values(values)
                .returning(*t.c)
            )
        written = await self._write(statement)
        if written.rows:
            return _record(written.rows[0])
        current = await self.get(cell_id, name)
        check_service_transition(ServiceStatus(current.status) if current else None, target)
        # Allowed from what it is now: it changed between the two statements.
        raise TransitionError(f"service '{name}' changed status meanwhile; try again")

    async def save(self, cell_id: str, name: str, **fields: Any) -> ServiceRecord | None:
        """Update fields of an existing service row, never its status; None without a row."""
        self._check_fields(fields)
        statement = (
            update(t)
            .where(t.c.cell_id == cell_id, t.c.name == name)
            .values({**fields, "updated_at": now_iso()})
            .returning(*t.c)
        )
        written = await self._write(statement)
        return _record(written.rows[0]) if written.rows else None

    @staticmethod
    def _check_fields(fields: dict[str, Any]) -> None:
        unknown = set(fields) - set(_FIELDS)
        if unknown:
            raise ValueError(f"not service columns (status moves by transition): {sorted(unknown)}")

    async def get(self, cell_id: str, name: str) -> ServiceRecord | None:
        row = await self._db.first(select(t).where(t.c.cell_id == cell_id, t.c.name == name))
        return _record(row) if row else None

    async def for_cell(self, cell_id: str) -> list[ServiceRecord]:
        rows = await self._db.all(select(t).where(t.c.cell_id == cell_id).order_by(t.c.name))
        return [_record(row) for row in rows]

    async def with_process(self) -> list[ServiceRecord]:
        """Every service that had a live process when last seen."""
        rows = await self._db.all(select(t).where(t.c.pid.is_not(None)))
        return [_record(row) for row in rows]

    async def in_status(self, status: ServiceStatus) -> list[ServiceRecord]:
        rows = await self._db.all(select(t).where(t.c.status == str(status)))
        return [_record(row) for row in rows]

    async def delete_cell(self, cell_id: str) -> None:
        await self._db.write(delete(t).where(t.c.cell_id == cell_id))
