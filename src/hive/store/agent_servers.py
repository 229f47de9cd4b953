"""Queries over the agent servers Hive runs for all cells (one row: the OpenCode server).

The row outlives Hive: pid + process start time and the port let a restarted Hive
adopt the server still running instead of starting a second one beside it; restarts
and the last error are what its health report shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.sqlite import insert

from hive.store.clock import now_iso
from hive.store.database import Database
from hive.store.tables import agent_servers as t


@dataclass(frozen=True)
class AgentServerRecord:
    name: str
    pid: int | None
    process_started: float | None
    port: int | None
    restarts: int
    last_error: str | None
    started_at: str | None
    updated_at: str


def _record(row: Any) -> AgentServerRecord:
    return AgentServerRecord(
        name=row.name,
        pid=row.pid,
        process_started=row.process_started,
        port=row.port,
        restarts=row.restarts,
        last_error=row.last_error,
        started_at=row.started_at,
        updated_at=row.updated_at,
    )


class AgentServerStore:
    """Every write is an upsert returning the row as it now stands: a first start that
    fails still leaves its error to report."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, name: str) -> AgentServerRecord | None:
        row = await self._db.first(select(t).where(t.c.name == name))
        return _record(row) if row else None

    async def save(
        self, name: str, *, pid: int, process_started: float, port: int
    ) -> AgentServerRecord:
        """A process just started: who it is and where it listens."""
        return await self._upsert(
            name,
            {"pid": pid, "process_started": process_started, "port": port, "started_at": now_iso()},
        )

    async def clear_pid(self, name: str) -> AgentServerRecord:
        """Its process is gone; the port, restarts and last error stay."""
        return await self._upsert(name, {"pid": None, "process_started": None})

    async def bump_restarts(self, name: str) -> AgentServerRecord:
        return await self._upsert(name, {}, bump=True)

    async def set_last_error(self, name: str, error: str | None) -> AgentServerRecord:
        return await self._upsert(name, {"last_error": error})

    async def delete(self, name: str) -> None:
        await self._db.write(delete(t).where(t.c.name == name))

    async def _upsert(
        self, name: str, values: dict[str, Any], *, bump: bool = False
    ) -> AgentServerRecord:
        stamped = {**values, "updated_at": now_iso()}
        statement = (
            insert(t)
            .values({"restarts": int(bump), **stamped, "name": name})
            .on_conflict_do_update(
                index_elements=[t.c.name],
                set_={**stamped, "restarts": t.c.restarts + 1} if bump else stamped,
            )
            .returning(*t.c)
        )
        [written] = await self._db.write(statement)
        return _record(written.rows[0])
