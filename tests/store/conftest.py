"""A real, migrated SQLite database per test, and helpers to fill it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from hive.core.status import CellStatus
from hive.store.cells import CellStore
from hive.store.database import Database, open_database
from hive.store.records import CellRecord, WorkspaceRecord
from hive.store.workspaces import WorkspaceStore

MakeCell = Callable[..., CellRecord]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "hive.db"


@pytest.fixture
async def db(db_path: Path) -> AsyncIterator[Database]:
    db = await open_database(db_path)
    yield db
    await db.close()


@pytest.fixture
def cells(db: Database) -> CellStore:
    return CellStore(db)


@pytest.fixture
async def workspace(db: Database, tmp_path: Path) -> WorkspaceRecord:
    return await WorkspaceStore(db).register(tmp_path / "ws")


@pytest.fixture
def make_cell(workspace: WorkspaceRecord, tmp_path: Path) -> MakeCell:
    """`make_cell(id, **fields)`: a cell record in the test workspace (not inserted)."""
    base = CellRecord(
        id="c",
        workspace_id=workspace.id,
        name="cell",
        description=None,
        template_id="basic",
        status=CellStatus.PENDING,
        worktree_path=tmp_path / "cells" / "c",
        branch_name="hive/cell",
        base_ref=None,
        base_commit="0" * 40,
        last_setup_error=None,
        completed_steps=(),
        run_id="run1",
        attempt=1,
        created_at="2024-01-01T00:00:00.000Z",
        updated_at="2024-01-01T00:00:00.000Z",
    )

    def make(cell_id: str, **fields: Any) -> CellRecord:
        return replace(base, id=cell_id, worktree_path=tmp_path / "cells" / cell_id, **fields)

    return make
