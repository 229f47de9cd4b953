"""Queries over the process groups Hive started for cells."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hive.store.clock import now_iso
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
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

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
        async with self._engine.begin() as conn:
            result = await conn.execute(insert(p).values(**values))
        return int(result.inserted_primary_key[0]) if result.inserted_primary_key else 0

    async def remove(self, record_id: int) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(delete(p).where(p.c.id == record_id))

    async def list(self, cell_id: str | None = None) -> list[ProcessRecord]:
        query = select(p).order_by(p.c.id)
        if cell_id is not None:
            query = query.where(p.c.cell_id == cell_id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [_record(row) for row in rows]
