"""open_database: schema by migrations, idempotent, WAL and foreign keys."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from hive.store.cells import CellStore
from hive.store.database import open_database
from hive.store.workspaces import WorkspaceStore

from .conftest import MakeCell

TABLES = {"workspaces", "cells", "cell_timing_events", "alembic_version"}


def table_names(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
    return {name for (name,) in rows}


def versions(path: Path) -> list[str]:
    with closing(sqlite3.connect(path)) as conn:
        return [v for (v,) in conn.execute("SELECT version_num FROM alembic_version")]


async def test_new_path_gets_schema(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "hive.db"
    engine = await open_database(path)
    await engine.dispose()
    assert path.is_file()
    assert table_names(path) >= TABLES
    assert len(versions(path)) == 1


async def test_reopen_is_idempotent_and_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "hive.db"
    engine = await open_database(path)
    workspace = await WorkspaceStore(engine).register(tmp_path / "ws")
    await engine.dispose()
    first_version = versions(path)

    for _ in range(2):
        engine = await open_database(path)
        try:
            assert await WorkspaceStore(engine).get(workspace.id) == workspace
        finally:
            await engine.dispose()
    assert versions(path) == first_version
    assert table_names(path) >= TABLES


async def test_wal_and_foreign_keys(engine: AsyncEngine, db_path: Path) -> None:
    async with engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    # WAL is a property of the file: a plain connection sees it too.
    with closing(sqlite3.connect(db_path)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


async def test_foreign_key_is_enforced(engine: AsyncEngine, make_cell: MakeCell) -> None:
    with pytest.raises(IntegrityError):
        await CellStore(engine).insert(make_cell("orphan", workspace_id="no-such-workspace"))
