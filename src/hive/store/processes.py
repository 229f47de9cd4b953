"""Queries over the process groups Hive started for cells."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select

from hive.store.clock import now_iso
from hive.store.database import Database
from hive.store.tables import cell_processes as p


@dataclass(frozen=True)
class ProcessRecord:
    id: int
    cell_id: str
    kind: str
    pid: int
    process_started: float
    command: str


def _record(row: Any) -> ProcessRecord:
    return ProcessRecord(
        id=row.id,
        cell_id=row.cell_id,
        kind=row.kind,
        pid=row.pid,
        process_started=row.process_started,
        command=row.command,
    )


class ProcessStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self, cell_id: str, kind: str, pid: int, process_started: float, command: str
    ) -> int:
        values = {
            "cell_id": cell_id,
            "kind": kind,
            "pid": pid,
            "process_started": process_started,
            "command": command,
            "created_at": now_iso(),
        }
        [written] = await self._db.write(insert(p).values(**values))
        return int(written.inserted_id or 0)

    async def remove(self, record_id: int) -> None:
        await self._db.write(delete(p).where(p.c.id == record_id))

    async def list(self, cell_id: str | None = None) -> list[ProcessRecord]:
        query = select(p).order_by(p.c.id)
        if cell_id is not None:
            query = query.where(p.c.cell_id == cell_id)
        rows = await self._db.all(query)
        return [_record(row) for row in rows]
