"""open_database: schema by migrations, idempotent, WAL and foreign keys."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from hive.store.cells import CellStore
from hive.store.database import Database, open_database
from hive.store.workspaces import WorkspaceStore

from .conftest import MakeCell

TABLES = {"workspaces", "cells", "cell_timing_events", "alembic_version"}

#: The schema a database had at revision 0002 as first released (base_commit NOT NULL).
SCHEMA_0002 = """
CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY);
INSERT INTO alembic_version VALUES ('0002');
CREATE TABLE workspaces (
    id VARCHAR NOT NULL PRIMARY KEY, path VARCHAR NOT NULL UNIQUE,
    label VARCHAR NOT NULL, created_at VARCHAR NOT NULL);
CREATE TABLE cells (
    id VARCHAR NOT NULL PRIMARY KEY,
    workspace_id VARCHAR NOT NULL REFERENCES workspaces (id),
    name VARCHAR NOT NULL, description TEXT, template_id VARCHAR NOT NULL,
    status VARCHAR NOT NULL, worktree_path VARCHAR NOT NULL, branch_name VARCHAR NOT NULL,
    base_ref VARCHAR, base_commit VARCHAR NOT NULL, last_setup_error JSON,
    completed_steps JSON NOT NULL, run_id VARCHAR, attempt INTEGER NOT NULL,
    created_at VARCHAR NOT NULL, updated_at VARCHAR NOT NULL);
CREATE INDEX ix_cells_workspace_id ON cells (workspace_id);
CREATE TABLE cell_timing_events (
    id INTEGER NOT NULL PRIMARY KEY, cell_id VARCHAR NOT NULL, cell_name VARCHAR NOT NULL,
    workspace_id VARCHAR NOT NULL, template_id VARCHAR NOT NULL, workflow VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL, step VARCHAR NOT NULL, status VARCHAR NOT NULL,
    started_at VARCHAR NOT NULL, duration_ms FLOAT NOT NULL, attempt INTEGER NOT NULL,
    error TEXT, metadata JSON, created_at VARCHAR NOT NULL);
CREATE INDEX ix_timing_cell ON cell_timing_events (cell_id, id);
CREATE INDEX ix_timing_template ON cell_timing_events (template_id, id);
CREATE TABLE cell_processes (
    id INTEGER NOT NULL PRIMARY KEY, cell_id VARCHAR NOT NULL, kind VARCHAR NOT NULL,
    pid INTEGER NOT NULL, process_started FLOAT NOT NULL, command TEXT NOT NULL,
    created_at VARCHAR NOT NULL);
CREATE INDEX ix_cell_processes_cell_id ON cell_processes (cell_id);
"""


def table_names(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
    return {name for (name,) in rows}


def versions(path: Path) -> list[str]:
    with closing(sqlite3.connect(path)) as conn:
        return [v for (v,) in conn.execute("SELECT version_num FROM alembic_version")]


async def test_new_path_gets_schema(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "hive.db"
    db = await open_database(path)
    await db.close()
    assert path.is_file()
    assert table_names(path) >= TABLES
    assert len(versions(path)) == 1


async def test_reopen_is_idempotent_and_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "hive.db"
    db = await open_database(path)
    workspace = await WorkspaceStore(db).register(tmp_path / "ws")
    await db.close()
    first_version = versions(path)

    for _ in range(2):
        db = await open_database(path)
        try:
            assert await WorkspaceStore(db).get(workspace.id) == workspace
        finally:
            await db.close()
    assert versions(path) == first_version
    assert table_names(path) >= TABLES


async def test_wal_and_foreign_keys(db: Database, db_path: Path) -> None:
    assert await db.first(text("PRAGMA journal_mode")) == ("wal",)
    assert await db.first(text("PRAGMA foreign_keys")) == (1,)
    # WAL is a property of the file: a plain connection sees it too.
    with closing(sqlite3.connect(db_path)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


async def test_foreign_key_is_enforced(db: Database, make_cell: MakeCell) -> None:
    with pytest.raises(IntegrityError):
        await CellStore(db).insert(make_cell("orphan", workspace_id="no-such-workspace"))


async def test_existing_database_accepts_cell_without_base_commit(
    tmp_path: Path, make_cell: MakeCell
) -> None:
    path = tmp_path / "old" / "hive.db"
    path.parent.mkdir()
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(SCHEMA_0002)
    db = await open_database(path)
    try:
        workspace = await WorkspaceStore(db).register(tmp_path / "ws")
        cell = make_cell("c1", workspace_id=workspace.id, base_commit=None)
        await CellStore(db).insert(cell)
        assert await CellStore(db).get("c1") == cell
    finally:
        await db.close()
