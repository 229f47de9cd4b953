"""The checkout a create_worktree step makes: copy-on-write on btrfs (said in its timing
metadata), `git worktree add` on the ordinary disk (with the reason); delete, retry and
start-up recovery treat a copy-on-write worktree like any other."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from hive.core.disk_space import DiskSpace
from hive.core.status import CellStatus
from hive.provisioning.requests.workspaces import register_workspace
from hive.runtime import HiveRuntime
from hive.settings import Settings
from hive.workspace.clone_support import REFUSED
from hive.workspace.worktree import worktree_git_dir
from tests.conftest import stop_leftover_services
from tests.support.btrfs import btrfs_mount, disk_clones, shares_extents
from tests.support.ports import worker_port_range
from tests.support.repos import basic_template, git, make_repo

from ..conftest import Hive

StartHive = Callable[..., Awaitable[Hive]]
"""Starts Hive with its home (and cells) under `root`, on a repository there; a second
call restarts it on the same home."""


def _aged(repo: Path) -> None:
    """Files written a while ago, as in a checkout someone works in: the index then
    vouches for them (a file the index was written in the same second as is racy)."""
    (repo / "data.bin").write_bytes(os.urandom(128 * 1024))
    git(repo, "add", "data.bin")
    git(repo, "commit", "-q", "-m", "data")
    past = time.time_ns() - 60 * 1_000_000_000
    for path in repo.rglob("*"):
        if ".git" not in path.parts and path.is_file():
            os.utime(path, ns=(past, past))
    git(repo, "update-index", "-q", "--refresh")


def _roomy(_path: Path) -> DiskSpace:
    """A small loop file system is no reason to refuse a create here."""
    return DiskSpace(free_bytes=100 << 30, total_bytes=200 << 30)


@pytest.fixture
async def start_hive(tmp_path: Path) -> AsyncIterator[StartHive]:
    started: list[HiveRuntime] = []
    homes: list[Path] = []

    async def start(root: Path, **template: Any) -> Hive:
        while started:
            await started.pop().close()
        repo = root / "repo"
        if not repo.exists():
            make_repo(repo, {"basic": basic_template(**{"setup": ["true"], **template})})
            _aged(repo)
        settings = Settings(
            hive_home=root / "home", port=0, setup_timeout_s=30, kill_grace_s=1,
            service_start_grace_s=0.2, cleanup_step_timeout_s=5, free_space=_roomy,
            port_range=worker_port_range(),
        )  # fmt: skip
        homes.append(settings.hive_home)
        runtime = await HiveRuntime.start(settings)
        started.append(runtime)
        workspace, _ = await register_workspace(runtime.stores.workspaces, repo)
        return Hive(runtime, workspace.id, repo)

    yield start
    for runtime in started:
        await runtime.close()
    for home in homes:
        stop_leftover_services(home / "hive.db")


@pytest.fixture
def mount(tmp_path: Path) -> AsyncIterator[Path]:
    with btrfs_mount(tmp_path, "400M") as mounted:
        yield mounted  # type: ignore[misc]


async def _checkout(hive: Hive, cell_id: str, run_id: str | None = None) -> dict[str, Any]:
    rows = await hive.steps(cell_id, run_id)
    [row] = [r for r in rows if r.step == "create_worktree" and r.status == "ok"]
    return row.metadata or {}


def _clean(path: Path) -> bool:
    tracked = subprocess.run(["git", "-C", str(path), "diff-files", "--quiet"], check=False)
    staged = subprocess.run(
        ["git", "-C", str(path), "diff-index", "--cached", "--quiet", "HEAD"], check=False
    )
    return tracked.returncode == 0 and staged.returncode == 0


async def test_a_cell_on_btrfs_is_a_cow_checkout_and_deletes_like_any(
    mount: Path, start_hive: StartHive
) -> None:
    hive = await start_hive(mount)
    cell = await hive.settle((await hive.create()).id)
    assert cell.status == CellStatus.READY, cell.last_setup_error
    meta = await _checkout(hive, cell.id)
    assert meta["checkout"] == "cow", meta
    assert meta["filesCloned"] == 5 and meta["filesCheckedOut"] == 0
    os.sync()
    assert shares_extents(cell.worktree_path / "data.bin")
    assert _clean(cell.worktree_path)
    assert (cell.worktree_path / ".env").read_text() == "TOP=1\n", "include-copy ran too"
    # A cell's disk counts the clones as shared: they cost nothing until changed.
    cloned = await hive.runtime.stores.disk.cloned_bytes(cell.id)
    assert meta["reflinkedBytes"] >= 128 * 1024
    assert cloned == meta["reflinkedBytes"] + len("TOP=1\n"), "the checkout and the .env"

    (cell.worktree_path / "README.md").write_text("uncommitted\n")
    deletion = await hive.runtime.cells.delete(cell.id)
    assert deletion.snapshot is not None
    assert deletion.snapshot.snapshot.changed == ("README.md",)
    assert (hive.repo / "README.md").read_text() == "# repo\n", "the edit stayed in the cell"
    assert deletion.branch is not None and deletion.branch.deleted
    assert not cell.worktree_path.exists()
    assert str(cell.worktree_path) not in git(hive.repo, "worktree", "list")
    assert (hive.repo / "data.bin").stat().st_size == 128 * 1024


async def test_on_the_ordinary_disk_the_checkout_is_git_with_the_reason(
    tmp_path: Path, start_hive: StartHive
) -> None:
    if disk_clones(tmp_path):
        pytest.skip("this disk clones (btrfs/XFS): nothing to fall back from")
    hive = await start_hive(tmp_path)
    cell = await hive.settle((await hive.create()).id)
    assert cell.status == CellStatus.READY, cell.last_setup_error
    meta = await _checkout(hive, cell.id)
    assert meta["checkout"] == "git"
    assert meta["checkoutReason"] == REFUSED
    assert meta["filesCloned"] == 0 and meta["filesCheckedOut"] == 5
    assert _clean(cell.worktree_path)
    # The next cell: the refusal is remembered, so nothing is read before git runs.
    second = await hive.settle((await hive.create("second")).id)
    again = await _checkout(hive, second.id)
    assert (again["checkout"], again["checkoutReason"]) == ("git", REFUSED)
    assert again["filesCheckedOut"] == 5


async def test_a_retry_keeps_the_cow_worktree(
    mount: Path, start_hive: StartHive, tmp_path: Path
) -> None:
    flag = tmp_path / "setup-may-pass"
    hive = await start_hive(mount, setup=[f"test -e {flag}"])
    cell = await hive.settle((await hive.create()).id)
    assert cell.status == CellStatus.ERROR
    flag.touch()
    await hive.runtime.cells.retry(cell.id)
    cell = await hive.settle(cell.id)
    assert cell.status == CellStatus.READY, cell.last_setup_error
    assert cell.attempt == 2
    retried = {row.step for row in await hive.steps(cell.id) if row.attempt == 2}
    assert "run_setup" in retried
    assert "create_worktree" not in retried, "the checkpointed worktree is kept"
    assert (await _checkout(hive, cell.id))["checkout"] == "cow"
    assert _clean(cell.worktree_path)


async def test_recovery_makes_a_cut_short_cow_checkout_again(
    mount: Path, start_hive: StartHive
) -> None:
    hive = await start_hive(mount)
    made = await hive.settle((await hive.create()).id)
    await hive.wait(made.id, lambda _cell: not hive.runtime.runner.is_running(made.id))
    first_runs = {row.run_id for row in await hive.steps(made.id)}
    # Where a server killed in the middle of the checkout leaves it: the worktree
    # registered, some files cloned, no index yet; nothing checkpointed.
    (worktree_git_dir(made.worktree_path) / "index").unlink()
    (made.worktree_path / "data.bin").unlink()
    await hive.runtime.stores.cells.transition(
        made.id, CellStatus.SPAWNING, completed_steps=[], run_id="killedrun"
    )
    hive = await start_hive(mount)  # the restart
    cell = await hive.settle(made.id)
    assert cell.status == CellStatus.READY, cell.last_setup_error
    resumed = [r for r in await hive.steps(cell.id) if r.run_id not in first_runs]
    rows = [r for r in resumed if r.step == "create_worktree" and r.workflow == "retry"]
    assert rows and (rows[-1].metadata or {}).get("checkout") == "cow"
    assert not (rows[-1].metadata or {}).get("reused"), "made again, not reused"
    assert (cell.worktree_path / "data.bin").read_bytes() == (hive.repo / "data.bin").read_bytes()
    assert _clean(cell.worktree_path)


async def test_archive_and_restore_keep_the_cow_worktree_and_its_work(
    mount: Path, start_hive: StartHive
) -> None:
    hive = await start_hive(mount)
    cell = await hive.settle((await hive.create()).id)
    assert (await _checkout(hive, cell.id))["checkout"] == "cow"
    (cell.worktree_path / "README.md").write_text("work in progress\n")
    await hive.runtime.archive.archive(cell.id)
    await hive.wait(cell.id, lambda _cell: not hive.runtime.runner.is_running(cell.id))
    restored = await hive.runtime.archive.restore(cell.id)
    cell = await hive.settle(cell.id)
    assert cell.status == CellStatus.READY, cell.last_setup_error
    rerun = {row.step for row in await hive.steps(cell.id, restored.run_id)}
    assert "create_worktree" not in rerun, "the worktree is kept, not checked out again"
    assert (cell.worktree_path / "README.md").read_text() == "work in progress\n"
    assert (hive.repo / "README.md").read_text() == "# repo\n"
    status = git(cell.worktree_path, "status", "--porcelain")
    assert status == "M README.md", "only the cell's own edit"
    os.sync()
    assert shares_extents(cell.worktree_path / "data.bin"), "the clones still share"
