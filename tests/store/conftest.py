"""A real, migrated SQLite database per test, and helpers to fill it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from hive.store.cells import CellStore
from hive.store.database import Database, open_database
from hive.store.records import CellRecord, WorkspaceRecord
from hive.store.workspaces import WorkspaceStore
from tests.support.records import cell_record

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

    def make(cell_id: str, **fields: Any) -> CellRecord:
        owner = fields.pop("workspace_id", workspace.id)
        return cell_record(owner, tmp_path / "cells", cell_id, **fields)

    return make
