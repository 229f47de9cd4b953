"""Delete never loses work: uncommitted changes are committed to a private ref first,
without touching the user's index, branches or stash; a snapshot that cannot be made
keeps the cell."""

from __future__ import annotations

from pathlib import Path

import pytest

from hive.core.errors import StepError
from hive.core.status import CellStatus
from hive.provisioning.requests.snapshots import SnapshotRequests
from tests.support.repos import git

from ..conftest import Hive, MakeHive


def _user_state(repo: Path) -> tuple[str, str, str, str]:
    """What a snapshot must leave alone: index, branches, stash, main worktree status."""
    return (
        git(repo, "ls-files", "--stage"),
        git(repo, "for-each-ref", "refs/heads/main", "refs/stash"),  # the cell branch goes
        git(repo, "stash", "list"),
        git(repo, "status", "--porcelain"),
    )


async def _dirty_cell(hive: Hive) -> tuple[str, Path, str]:
    cell = await hive.settle((await hive.create("dirty")).id)
    assert cell.status == CellStatus.READY, cell.last_setup_error
    worktree = cell.worktree_path
    (worktree / "README.md").write_text("# edited by the agent\n")
    (worktree / "notes.txt").write_text("untracked work\n")
    (worktree / ".env.local").write_text("SECRET=1\n")  # ignored by .env*
    git(worktree, "add", "README.md")  # staged in the cell's own index: still kept
    return cell.id, worktree, git(worktree, "rev-parse", "HEAD")


async def test_delete_keeps_edits_and_untracked_files_on_a_snapshot_ref(
    make_hive: MakeHive,
) -> None:
    hive = await make_hive(setup=[])
    (hive.repo / "README.md").write_text("# the user's stashed edit\n")
    git(hive.repo, "stash", "push", "-q")
    (hive.repo / "scratch.txt").write_text("the user's own staged file\n")
    git(hive.repo, "add", "scratch.txt")
    cell_id, worktree, head = await _dirty_cell(hive)
    before = _user_state(hive.repo)

    deletion = await hive.runtime.cells.delete(cell_id)

    assert deletion.snapshot is not None
    snapshot = deletion.snapshot.snapshot
    ref = f"refs/hive/snapshots/{cell_id}"
    assert snapshot.ref == ref and git(hive.repo, "rev-parse", ref) == snapshot.commit
    assert git(hive.repo, "rev-parse", f"{ref}^") == head
    assert git(hive.repo, "show", f"{ref}:README.md") == "# edited by the agent"
    assert git(hive.repo, "show", f"{ref}:notes.txt") == "untracked work"
    files = git(hive.repo, "ls-tree", "-r", "--name-only", ref).splitlines()
    assert ".env.local" not in files and ".env" not in files
    assert (snapshot.files_changed, snapshot.files_added) == (1, 1)
    assert (snapshot.changed, snapshot.added) == (("README.md",), ("notes.txt",))
    assert deletion.snapshot.rescue_command == f"hive rescue {cell_id}"
    assert _user_state(hive.repo) == before
    assert not worktree.exists()
    assert await hive.runtime.stores.cells.find(cell_id) is None


async def test_a_rescue_brings_the_work_back_in_a_new_worktree(
    make_hive: MakeHive, tmp_path: Path
) -> None:
    hive = await make_hive(setup=[])
    cell_id, _worktree, head = await _dirty_cell(hive)
    await hive.runtime.cells.delete(cell_id)

    rescued = await SnapshotRequests(hive.runtime.stores.workspaces).rescue(cell_id[:6])
    assert rescued.path == hive.repo.parent / f"{hive.repo.name}-rescue-{cell_id[:8]}"
    assert (rescued.path / "notes.txt").read_text() == "untracked work\n"
    assert (rescued.path / "README.md").read_text() == "# edited by the agent\n"
    assert git(rescued.path, "rev-parse", "--abbrev-ref", "HEAD") == f"hive/rescue-{cell_id[:8]}"
    assert git(rescued.path, "rev-parse", "HEAD^") == head


async def test_a_clean_worktree_makes_no_snapshot(make_hive: MakeHive) -> None:
    hive = await make_hive(setup=[])
    cell = await hive.settle((await hive.create()).id)
    (cell.worktree_path / ".env.local").write_text("ignored\n")
    deletion = await hive.runtime.cells.delete(cell.id)
    assert deletion.snapshot is None
    assert git(hive.repo, "for-each-ref", "refs/hive") == ""
    row = next(r for r in await hive.steps(cell.id) if r.step == "snapshot_work")
    assert row.metadata == {"snapshot": None, "reason": "no uncommitted changes"}


async def test_a_snapshot_that_cannot_be_made_keeps_the_cell_and_says_why(
    make_hive: MakeHive,
) -> None:
    hive = await make_hive(setup=[])
    cell_id, worktree, _head = await _dirty_cell(hive)
    # A file where the snapshot refs' directory belongs: update-ref cannot write the ref.
    (hive.repo / ".git" / "refs" / "hive").mkdir(parents=True)
    (hive.repo / ".git" / "refs" / "hive" / "snapshots").write_text("in the way\n")

    with pytest.raises(StepError, match="was not deleted: its uncommitted work"):
        await hive.runtime.cells.delete(cell_id)

    cell = await hive.runtime.stores.cells.get(cell_id)
    assert cell.status == CellStatus.ERROR
    assert cell.last_setup_error is not None
    assert "could not be saved" in cell.last_setup_error.message
    assert cell.last_setup_error.step == "snapshot_work"
    assert (worktree / "notes.txt").read_text() == "untracked work\n"
    # The attempt used its own index: the cell's still stages only what it staged.
    assert git(worktree, "diff", "--cached", "--name-only") == "README.md"
    assert git(hive.repo, "branch", "--list", cell.branch_name)
