"""Each cell's disk as last measured (`cell_disk`), and its `disk_added_bytes` in the
footprint that outlives it (`cell_footprints`, whose other columns the resource
sampler writes: each writer upserts its own columns only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.sqlite import insert

from hive.core.disk_space import BigCell
from hive.core.status import HIDDEN
from hive.core.steps import Step, substep
from hive.store.clock import now_iso
from hive.store.database import Database
from hive.store.records import CellRecord
from hive.store.tables import cell_disk as d
from hive.store.tables import cell_footprints as f
from hive.store.tables import cell_timing_events as t
from hive.store.tables import cells as c

INCLUDE_COPY = substep(Step.CREATE_WORKTREE, "include_copy")
CHECKOUT = substep(Step.CREATE_WORKTREE, "git_add")
"""The checkout's row: a copy-on-write checkout's `reflinkedBytes` are cloned too."""


@dataclass(frozen=True)
class CellDisk:
    cell_id: str
    apparent_bytes: int
    allocated_bytes: int
    cloned_bytes: int
    """Of the allocated bytes, those include-copy cloned copy-on-write: shared with the
    repository's files until either changes, so they cost no space."""
    logs_bytes: int
    files: int
    complete: bool
    """False when the walk ran out of time: the figures are then a lower bound."""
    duration_ms: float
    measured_at: str

    @property
    def own_bytes(self) -> int:
        """What removing the worktree frees."""
        return max(0, self.allocated_bytes - self.cloned_bytes)

    @property
    def added_bytes(self) -> int:
        """What the cell adds to the disk: its worktree's own bytes and its logs."""
        return self.own_bytes + self.logs_bytes


def disk_of_row(row: Any) -> CellDisk:
    """A `cell_disk` row as a CellDisk."""
    return CellDisk(
        cell_id=row.cell_id,
        apparent_bytes=row.apparent_bytes,
        allocated_bytes=row.allocated_bytes,
        cloned_bytes=row.cloned_bytes,
        logs_bytes=row.logs_bytes,
        files=row.files,
        complete=bool(row.complete),
        duration_ms=row.duration_ms,
        measured_at=row.measured_at,
    )


def cloned_from(metadata: dict[str, Any] | None) -> int:
    """The bytes an include-copy cloned, from its timing row's metadata. Rows written
    before `reflinkedBytes` existed tell it only when every file was cloned."""
    if not metadata:
        return 0
    if isinstance(metadata.get("reflinkedBytes"), int):
        return int(metadata["reflinkedBytes"])
    files, reflinked = metadata.get("files"), metadata.get("reflinked")
    if isinstance(files, int) and files > 0 and reflinked == files:
        size = metadata.get("bytes")
        return size if isinstance(size, int) else 0
    return 0


class CellDiskStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, cell_id: str) -> CellDisk | None:
        row = await self._db.first(select(d).where(d.c.cell_id == cell_id))
        return disk_of_row(row) if row else None

    async def save(self, disk: CellDisk, footprint_of: CellRecord | None = None) -> None:
        """Keep the measurement; with `footprint_of`, also its `added_bytes` as the
        cell's footprint (the history estimates are made from), in one transaction."""
        values = {
            "apparent_bytes": disk.apparent_bytes,
            "allocated_bytes": disk.allocated_bytes,
            "cloned_bytes": disk.cloned_bytes,
            "logs_bytes": disk.logs_bytes,
            "files": disk.files,
            "complete": disk.complete,
            "duration_ms": disk.duration_ms,
            "measured_at": disk.measured_at,
        }
        statements: list[Any] = [
            insert(d)
            .values(cell_id=disk.cell_id, **values)
            .on_conflict_do_update(index_elements=[d.c.cell_id], set_=values)
        ]
        if footprint_of is not None:
            stamp = now_iso()
            added = {"disk_added_bytes": disk.added_bytes, "updated_at": stamp}
            statements.append(
                insert(f)
                .values(
                    cell_id=footprint_of.id,
                    workspace_id=footprint_of.workspace_id,
                    template_id=footprint_of.template_id,
                    created_at=stamp,
                    **added,
                )
                .on_conflict_do_update(index_elements=[f.c.cell_id], set_=added)
            )
        await self._db.write(*statements)

    async def measured(self) -> dict[str, str]:
        """When each measured cell was last measured."""
        rows = await self._db.all(select(d.c.cell_id, d.c.measured_at))
        return {row.cell_id: row.measured_at for row in rows}

    async def biggest(self, limit: int) -> list[BigCell]:
        """Cells (not being deleted) by what removing them frees, most first."""
        own = func.max(d.c.allocated_bytes - d.c.cloned_bytes, 0)
        rows = await self._db.all(
            select(c.c.id, c.c.name, own.label("own"))
            .select_from(d.join(c, c.c.id == d.c.cell_id))
            .where(c.c.status.not_in([str(s) for s in HIDDEN]))
            .order_by(own.desc(), c.c.id)
            .limit(limit)
        )
        return [BigCell(row.id, row.name, row.own) for row in rows]

    async def cloned_bytes(self, cell_id: str) -> int:
        """What the cell's latest successful include-copy and checkout cloned (0 when
        neither did: a `git worktree add` writes every byte)."""
        total = 0
        for step in (INCLUDE_COPY, CHECKOUT):
            row = await self._db.first(
                select(t.c.metadata)
                .where(t.c.cell_id == cell_id, t.c.step == step, t.c.status == "ok")
                .order_by(t.c.id.desc())
                .limit(1)
            )
            total += cloned_from(row.metadata if row else None)
        return total

    async def prune(self) -> int:
        """Forget measurements of cells that no longer exist; how many went."""
        [written] = await self._db.write(
            delete(d).where(d.c.cell_id.not_in(select(c.c.id).scalar_subquery()))
        )
        return written.rowcount
