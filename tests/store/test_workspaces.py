"""WorkspaceStore: registration by path, lookups."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hive.core.errors import NotFoundError
from hive.store.database import Database
from hive.store.workspaces import WorkspaceStore


async def test_register_is_idempotent_by_path(db: Database, tmp_path: Path) -> None:
    store = WorkspaceStore(db)
    first = await store.register(tmp_path / "proj", label="Project")
    again = await store.register(tmp_path / "proj", label="Other label")
    assert again == first
    assert first.label == "Project"
    assert await store.list() == [first]


async def test_label_defaults_to_directory_name(db: Database, tmp_path: Path) -> None:
    record = await WorkspaceStore(db).register(tmp_path / "my-app")
    assert record.label == "my-app"
    assert record.path == tmp_path / "my-app"


async def test_concurrent_registration_yields_one(db: Database, tmp_path: Path) -> None:
    store = WorkspaceStore(db)
    records = await asyncio.gather(*(store.register(tmp_path / "same") for _ in range(5)))
    assert len({record.id for record in records}) == 1
    assert len(await store.list()) == 1


async def test_get_and_find(db: Database, tmp_path: Path) -> None:
    store = WorkspaceStore(db)
    a = await store.register(tmp_path / "a")
    b = await store.register(tmp_path / "b")
    assert a.id != b.id
    assert await store.get(b.id) == b
    assert await store.find_by_path(tmp_path / "a") == a
    assert await store.find_by_path(tmp_path / "c") is None


async def test_get_unknown_raises_naming_it(db: Database) -> None:
    with pytest.raises(NotFoundError) as caught:
        await WorkspaceStore(db).get("nope123")
    assert "nope123" in caught.value.message
    assert caught.value.hint
