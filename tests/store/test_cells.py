"""CellStore: reads hide deleting cells; `transition` obeys the table atomically."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hive.core.errors import NotFoundError, TransitionError
from hive.core.failures import SetupError
from hive.core.status import CellStatus
from hive.store.cells import CellStore
from hive.store.database import Database
from hive.store.records import CellRecord, WorkspaceRecord
from hive.store.workspaces import WorkspaceStore

from .conftest import MakeCell

FAILURE = SetupError(step="run_setup", message="boom", run_id="r", attempt=1, at="t", hint="h")


async def test_insert_and_get_round_trip(cells: CellStore, make_cell: MakeCell) -> None:
    cell = make_cell(
        "c1",
        description="a cell",
        base_ref="main",
        completed_steps=("create_worktree",),
        last_setup_error=SetupError.from_json({"step": "run_setup", "exitCode": 1}),
    )
    await cells.insert(cell)
    assert await cells.get("c1") == cell
    assert await cells.find("c1") == cell


async def test_get_unknown(cells: CellStore) -> None:
    assert await cells.find("missing") is None
    with pytest.raises(NotFoundError, match="missing"):
        await cells.get("missing")


async def test_deleting_cell_is_hidden(cells: CellStore, make_cell: MakeCell) -> None:
    await cells.insert(make_cell("gone", status=CellStatus.DELETING))
    await cells.insert(make_cell("here", status=CellStatus.READY))
    with pytest.raises(NotFoundError):
        await cells.get("gone")
    assert (await cells.get("gone", include_hidden=True)).status == CellStatus.DELETING
    assert [c.id for c in await cells.list()] == ["here"]
    assert {c.id for c in await cells.list(include_hidden=True)} == {"gone", "here"}


async def test_list_filters(
    db: Database,
    cells: CellStore,
    make_cell: MakeCell,
    workspace: WorkspaceRecord,
    tmp_path: Path,
) -> None:
    other = await WorkspaceStore(db).register(tmp_path / "other")
    stamps = iter(f"2024-01-01T00:00:0{i}.000Z" for i in range(9))
    for cell_id, status, ws in [
        ("a", CellStatus.READY, workspace),
        ("b", CellStatus.ERROR, workspace),
        ("c", CellStatus.READY, other),
        ("d", CellStatus.DELETING, workspace),
        ("e", CellStatus.SPAWNING, workspace),
    ]:
        await cells.insert(
            make_cell(cell_id, status=status, workspace_id=ws.id, created_at=next(stamps))
        )

    def ids(records: list[CellRecord]) -> list[str]:
        return [r.id for r in records]

    assert ids(await cells.list()) == ["a", "b", "c", "e"]  # oldest first
    assert ids(await cells.list(workspace_id=workspace.id)) == ["a", "b", "e"]
    assert ids(await cells.list(workspace_id=other.id)) == ["c"]
    assert ids(await cells.list(statuses=[CellStatus.READY])) == ["a", "c"]
    assert ids(
        await cells.list(workspace_id=workspace.id, statuses=[CellStatus.READY, CellStatus.ERROR])
    ) == ["a", "b"]
    # Asking for deleting cells by status finds them (what start-up recovery does).
    assert ids(await cells.list(statuses=[CellStatus.DELETING])) == ["d"]
    assert await cells.list(statuses=[]) == []


async def test_transition_refused_leaves_row_unchanged(
    cells: CellStore, make_cell: MakeCell
) -> None:
    cell = make_cell("c1", status=CellStatus.ERROR)
    await cells.insert(cell)
    with pytest.raises(TransitionError) as caught:
        await cells.transition("c1", CellStatus.READY, run_id="changed", attempt=9)
    assert caught.value.hint and "spawning" in caught.value.hint
    assert await cells.get("c1") == cell


async def test_transition_allowed_writes_fields(cells: CellStore, make_cell: MakeCell) -> None:
    cell = make_cell("c1", status=CellStatus.ERROR, last_setup_error=FAILURE)
    await cells.insert(cell)
    moved = await cells.transition(
        "c1", CellStatus.SPAWNING, attempt=2, run_id="run2", last_setup_error=None
    )
    assert moved.status == CellStatus.SPAWNING
    assert (moved.attempt, moved.run_id, moved.last_setup_error) == (2, "run2", None)
    assert moved.updated_at > cell.updated_at
    assert await cells.get("c1") == moved

    ready = await cells.transition("c1", CellStatus.READY, completed_steps=("a", "b"))
    assert ready.status == CellStatus.READY
    assert ready.completed_steps == ("a", "b")


async def test_transition_of_unknown_cell(cells: CellStore) -> None:
    with pytest.raises(NotFoundError, match="nope"):
        await cells.transition("nope", CellStatus.ERROR)


async def test_transition_to_deleting_then_back_to_error(
    cells: CellStore, make_cell: MakeCell
) -> None:
    await cells.insert(make_cell("c1", status=CellStatus.READY))
    deleting = await cells.transition("c1", CellStatus.DELETING)
    assert deleting.status == CellStatus.DELETING  # returned although hidden
    failed = await cells.transition("c1", CellStatus.ERROR, last_setup_error=FAILURE)
    assert failed.status == CellStatus.ERROR
    assert failed.last_setup_error == FAILURE


async def test_concurrent_deletes_exactly_one_wins(cells: CellStore, make_cell: MakeCell) -> None:
    await cells.insert(make_cell("c1", status=CellStatus.READY))
    results = await asyncio.gather(
        *(cells.transition("c1", CellStatus.DELETING, run_id=f"r{i}") for i in range(2)),
        return_exceptions=True,
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1
    assert len(losers) == 1
    assert isinstance(losers[0], TransitionError)
    stored = await cells.get("c1", include_hidden=True)
    assert stored.status == CellStatus.DELETING
    assert stored.run_id == winners[0].run_id


async def test_update_changes_columns(cells: CellStore, make_cell: MakeCell) -> None:
    await cells.insert(make_cell("c1", status=CellStatus.DELETING))
    updated = await cells.update("c1", completed_steps=["x"], description="d")
    assert updated.completed_steps == ("x",)
    assert updated.description == "d"
    assert updated.status == CellStatus.DELETING


async def test_update_refuses_unknown_or_status_columns(
    cells: CellStore, make_cell: MakeCell
) -> None:
    cell = make_cell("c1")
    await cells.insert(cell)
    with pytest.raises(ValueError, match="bogus"):
        await cells.update("c1", bogus=1)
    with pytest.raises(ValueError, match="status"):
        await cells.update("c1", status="ready")
    with pytest.raises(ValueError, match="id"):
        await cells.transition("c1", CellStatus.SPAWNING, id="other")
    assert await cells.get("c1") == cell


async def test_update_unknown_cell(cells: CellStore) -> None:
    with pytest.raises(NotFoundError):
        await cells.update("nope", name="x")


async def test_delete(cells: CellStore, make_cell: MakeCell) -> None:
    await cells.insert(make_cell("c1"))
    await cells.delete("c1")
    assert await cells.find("c1") is None
    await cells.delete("c1")  # deleting twice is harmless


async def test_cell_without_base_commit(cells: CellStore, make_cell: MakeCell) -> None:
    # Without a baseRef the run resolves HEAD later: the record starts without a commit.
    await cells.insert(make_cell("c1", base_commit=None))
    assert (await cells.get("c1")).base_commit is None
    updated = await cells.update("c1", base_commit="f" * 40)
    assert updated.base_commit == "f" * 40


async def test_only_from_keeps_a_deleting_cell_out_of_error(
    cells: CellStore, make_cell: MakeCell
) -> None:
    store = cells
    await store.insert(make_cell("c9", status=CellStatus.SPAWNING))
    await store.transition("c9", CellStatus.DELETING)
    with pytest.raises(TransitionError):
        await store.transition(
            "c9", CellStatus.ERROR, only_from=(CellStatus.PENDING, CellStatus.SPAWNING)
        )
    assert (await store.get("c9", include_hidden=True)).status == CellStatus.DELETING


async def test_patch_agent_merges_and_removes_keys(cells: CellStore, make_cell: MakeCell) -> None:
    await cells.insert(make_cell("c1"))
    await cells.patch_agent("c1", {"type": "opencode", "sessionId": "s1", "status": "starting"})
    # Two writers at once (a watcher and a step): both changes land.
    await asyncio.gather(
        cells.patch_agent("c1", {"status": "working"}),
        cells.patch_agent("c1", {"attach": "opencode attach"}),
    )
    patched = await cells.patch_agent("c1", {"sessionId": None})
    assert patched is not None
    assert patched.agent == {"type": "opencode", "status": "working", "attach": "opencode attach"}
    assert (await cells.get("c1")).agent == patched.agent
    assert await cells.patch_agent("gone", {"status": "idle"}) is None


async def test_options_round_trip(cells: CellStore, make_cell: MakeCell) -> None:
    cell = make_cell("c1", options={"database": "postgres", "cache": "none"})
    await cells.insert(cell)
    assert (await cells.get("c1")).options == {"database": "postgres", "cache": "none"}
    await cells.insert(make_cell("c2"))
    assert (await cells.get("c2")).options is None  # made before options existed
