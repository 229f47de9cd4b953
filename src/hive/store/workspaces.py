"""Queries over registered workspaces."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from hive.core.errors import NotFoundError
from hive.store.clock import now_iso
from hive.store.records import WorkspaceRecord
from hive.store.tables import workspaces


def _record(row: Any) -> WorkspaceRecord:
    return WorkspaceRecord(
        id=row.id, path=Path(row.path), label=row.label, created_at=row.created_at
    )


class WorkspaceStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

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
            async with self._engine.begin() as conn:
                await conn.execute(insert(workspaces).values(**values))
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
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(select(workspaces).where(workspaces.c.path == str(path)))
            ).first()
        return _record(row) if row else None

    async def get(self, workspace_id: str) -> WorkspaceRecord:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(select(workspaces).where(workspaces.c.id == workspace_id))
            ).first()
        if row is None:
            raise NotFoundError(
                f"workspace '{workspace_id}' is not registered",
                hint="list workspaces with GET /api/workspaces or `hive workspace ls`",
            )
        return _record(row)

    async def list(self) -> list[WorkspaceRecord]:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(select(workspaces).order_by(workspaces.c.created_at))).all()
        return [_record(row) for row in rows]
