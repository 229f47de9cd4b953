"""Queries over the supervisor's record of cell services (status, pid, port, exits)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.sqlite import insert

from hive.store.clock import now_iso
from hive.store.database import Database
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


_FIELDS = (
    "status", "port", "pid", "process_started", "started_at", "exit_code", "restarts",
    "last_error",
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


class ServiceStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def save(self, cell_id: str, name: str, **fields: Any) -> ServiceRecord:
        """Insert or update the service's row with the given fields."""
        unknown = set(fields) - set(_FIELDS)
        if unknown:
            raise ValueError(f"not service columns: {sorted(unknown)}")
        values = {**fields, "updated_at": now_iso()}
        statement = (
            insert(t)
            .values(
                {"restarts": 0, "status": "stopped", **values, "cell_id": cell_id, "name": name}
            )
            .on_conflict_do_update(index_elements=[t.c.cell_id, t.c.name], set_=values)
            .returning(*t.c)
        )
        [written] = await self._db.write(statement)
        return _record(written.rows[0])

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

    async def delete_cell(self, cell_id: str) -> None:
        await self._db.write(delete(t).where(t.c.cell_id == cell_id))
