"""Queries over port leases: one row per port, so no port is ever leased twice."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.sqlite import insert

from hive.store.clock import now_iso
from hive.store.database import Database
from hive.store.tables import cells
from hive.store.tables import port_leases as pl

#: The owner id of leases Hive holds for itself (the OpenCode server), not for a cell;
#: cell ids are uuid hex, so it never names one.
HIVE_OWNER = "hive"


@dataclass(frozen=True)
class LeaseRecord:
    port: int
    cell_id: str
    service: str
    created_at: str


def _record(row: Any) -> LeaseRecord:
    return LeaseRecord(
        port=row.port, cell_id=row.cell_id, service=row.service, created_at=row.created_at
    )


class LeaseStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def acquire(self, port: int, cell_id: str, service: str) -> bool:
        """Lease `port` to the cell's service; False when someone else holds it.

        Idempotent: a port already leased to the same cell and service counts as won.
        One transaction both tries the insert and reads who holds the port afterwards,
        so the answer is never about a lease that changed in between.
        """
        values = {"port": port, "cell_id": cell_id, "service": service, "created_at": now_iso()}
        _, held = await self._db.write(
            insert(pl).values(**values).on_conflict_do_nothing(index_elements=[pl.c.port]),
            select(pl.c.cell_id, pl.c.service).where(pl.c.port == port),
        )
        if not held.rows:
            return False
        row = held.rows[0]
        return bool(row.cell_id == cell_id and row.service == service)

    async def find(self, cell_id: str, service: str) -> LeaseRecord | None:
        """The lease of one service of a cell (the lowest port, should it hold several)."""
        row = await self._db.first(
            select(pl).where(pl.c.cell_id == cell_id, pl.c.service == service).order_by(pl.c.port)
        )
        return _record(row) if row else None

    async def for_cell(self, cell_id: str) -> list[LeaseRecord]:
        rows = await self._db.all(select(pl).where(pl.c.cell_id == cell_id).order_by(pl.c.port))
        return [_record(row) for row in rows]

    async def all(self) -> list[LeaseRecord]:
        return [_record(row) for row in await self._db.all(select(pl).order_by(pl.c.port))]

    async def holder(self, port: int) -> LeaseRecord | None:
        row = await self._db.first(select(pl).where(pl.c.port == port))
        return _record(row) if row else None

    async def release(self, cell_id: str, service: str) -> None:
        await self._db.write(delete(pl).where(pl.c.cell_id == cell_id, pl.c.service == service))

    async def release_port(self, port: int) -> None:
        await self._db.write(delete(pl).where(pl.c.port == port))

    async def release_cell(self, cell_id: str) -> int:
        """Drop every lease of a cell (only once its processes are gone); how many."""
        [written] = await self._db.write(delete(pl).where(pl.c.cell_id == cell_id))
        return written.rowcount

    async def leased_ports(self) -> set[int]:
        rows = await self._db.all(select(pl.c.port))
        return {row.port for row in rows}

    async def release_orphans(self) -> int:
        """Drop leases whose cell no longer exists (a lease taken while it was deleted);
        Hive's own leases are no cell's and stay."""
        [written] = await self._db.write(
            delete(pl).where(pl.c.cell_id.not_in(select(cells.c.id)), pl.c.cell_id != HIVE_OWNER)
        )
        return written.rowcount
