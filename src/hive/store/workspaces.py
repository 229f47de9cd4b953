"""Queries over registered workspaces."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from hive.core.errors import NotFoundError
from hive.store.clock import now_iso
from hive.store.database import Database
from hive.store.records import WorkspaceRecord
from hive.store.tables import workspaces


def _record(row: Any) -> WorkspaceRecord:
    return WorkspaceRecord(
        id=row.id, path=Path(row.path), label=row.label, created_at=row.created_at
    )


class WorkspaceStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        # Workspace rows never change once registered: a read-through cache spares every
        # create request a database round trip.
        self._by_id: dict[str, WorkspaceRecord] = {}

    async def register(self, path: Path, label: str | None = None) -> WorkspaceRecord:
        """Add a workspace, or return the existing one with the same path."""
        existing = await self.find_by_path(path)
        if existing is not None:
            return existing
        values = {
            "id": uuid.uuid4().hex[:12],
            "path": str(path),
            "label": label or path.name,
            "created_at": now_iso(),
        }
        try:
            await self._db.write(insert(workspaces).values(**values))
        except IntegrityError:
            # Registered concurrently by another request: the first one wins.
            raced = await self.find_by_path(path)
            if raced is None:
                raise
            return raced
        return WorkspaceRecord(
            id=values["id"], path=path, label=values["label"], created_at=values["created_at"]
        )

    async def find_by_path(self, path: Path) -> WorkspaceRecord | None:
        row = await self._db.first(select(workspaces).where(workspaces.c.path == str(path)))
        return _record(row) if row else None

    async def get(self, workspace_id: str) -> WorkspaceRecord:
        cached = self._by_id.get(workspace_id)
        if cached is not None:
            return cached
        row = await self._db.first(select(workspaces).where(workspaces.c.id == workspace_id))
        if row is None:
            raise NotFoundError(
                f"workspace '{workspace_id}' is not registered",
                hint="list workspaces with GET /api/workspaces or `hive workspace ls`",
            )
        record = self._by_id[workspace_id] = _record(row)
        return record

    async def list(self) -> list[WorkspaceRecord]:
        rows = await self._db.all(select(workspaces).order_by(workspaces.c.created_at))
        return [_record(row) for row in rows]
