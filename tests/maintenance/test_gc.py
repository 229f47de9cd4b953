"""`hive gc` against a real server and real repositories: it lists what no cell
accounts for, removes what is safe with --apply, and what could hold work only with
--force; a live cell's worktree, branch and lease are never touched."""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.support.cli import hive_cli
from tests.support.repos import git, make_repo
from tests.support.server import LiveHive


def sql(hive: LiveHive, statement: str, *args: Any) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(hive.settings.database_path)) as db, db:
        return db.execute(statement, args).fetchall()


@contextmanager
def sleeper() -> Iterator[psutil.Process]:
    process = subprocess.Popen(["sleep", "600"], start_new_session=True)
    try:
        yield psutil.Process(process.pid)
    finally:
        process.kill()
        process.wait()


@pytest.fixture
def stray_process() -> Iterator[psutil.Process]:
    with sleeper() as process:
        yield process


@pytest.fixture
def stray_setup() -> Iterator[psutil.Process]:
    with sleeper() as process:
        yield process


def by_target(findings: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {finding["target"]: finding for finding in findings}


def test_gc_lists_leftovers_removes_the_safe_ones_and_the_rest_only_forced(
    start_hive: Callable[..., LiveHive],
    tmp_path: Path,
    stray_process: psutil.Process,
    stray_setup: psutil.Process,
) -> None:
    repo = make_repo(tmp_path / "repo")
    hive = start_hive([repo])
    live = hive.settle(hive.create("keep me")["id"])
    root = hive.settings.worktrees_root
    # Leftovers of every kind.
    (root / "0ddba11").mkdir()
    (root / "0ddba11" / "junk.txt").write_text("x")
    dirty = root / "dirty"
    git(repo, "worktree", "add", "-q", "-b", "hive/dirty-1", str(dirty))
    (dirty / "README.md").write_text("unsaved work\n")
    gone = tmp_path / "gone"
    git(repo, "worktree", "add", "-q", "-b", "hive/gone-2", str(gone))
    subprocess.run(["rm", "-rf", str(gone)], check=True)
    git(repo, "branch", "hive/unique-3")
    git(repo, "checkout", "-q", "hive/unique-3")
    (repo / "new.txt").write_text("only here\n")
    git(repo, "add", "new.txt")
    git(repo, "commit", "-q", "-m", "only on this branch")
    git(repo, "checkout", "-q", "main")
    # Not garbage: rescued work, and a branch checked out somewhere.
    git(repo, "branch", "hive/rescue-0ddba11a")
    git(repo, "worktree", "add", "-q", "-b", "hive/checked-4", str(tmp_path / "mine"))
    sql(hive, "INSERT INTO port_leases VALUES (?, 'ghost', 'web', '2026-01-01T00:00:00Z')", 45999)
    # Hive's own lease (the OpenCode server's) belongs to no cell and is no garbage.
    sql(
        hive,
        "INSERT INTO port_leases VALUES (?, 'hive', 'opencode', '2026-01-01T00:00:00Z')",
        45998,
    )
    sql(
        hive,
        "INSERT INTO cell_services (cell_id, name, status, pid, process_started, restarts, "
        "updated_at) VALUES ('ghost', 'web', 'ready', ?, ?, 0, '2026-01-01T00:00:00Z')",
        stray_process.pid,
        stray_process.create_time(),
    )

    # A setup command on record, still running, though no run of its cell is going.
    sql(
        hive,
        "INSERT INTO cell_processes (cell_id, kind, pid, process_started, command, created_at) "
        "VALUES (?, 'setup', ?, ?, 'sleep 600', '2026-01-01T00:00:00Z')",
        live["id"],
        stray_setup.pid,
        stray_setup.create_time(),
    )

    listed = hive.http.get("/api/gc").json()["findings"]
    found = by_target(listed)
    assert found[str(root / "0ddba11")]["kind"] == "worktree"
    assert found[str(root / "0ddba11")]["keptUnlessForced"] is None
    assert found[str(dirty)]["keptUnlessForced"] == "1 uncommitted change(s)"
    assert found[str(gone)]["kind"] == "worktree_entry"
    assert found["hive/gone-2"]["keptUnlessForced"] is None
    assert found["hive/unique-3"]["keptUnlessForced"] == "1 commit(s) on no other branch"
    assert found["45999"]["kind"] == "lease" and "gone" in found["45999"]["reason"]
    assert "45998" not in found
    assert found[str(stray_process.pid)]["kind"] == "process"
    assert "no run going" in found[str(stray_setup.pid)]["reason"]
    assert live["worktreePath"] not in found and live["branchName"] not in found
    assert "hive/rescue-0ddba11a" not in found and "hive/checked-4" not in found
    assert (root / "0ddba11").exists(), "a scan touches nothing"

    out = hive_cli("gc", hive=hive, cwd=repo)
    assert out.returncode == 0 and "--apply" in out.stdout and "hive/unique-3" in out.stdout

    applied = by_target(hive.http.post("/api/gc", json={}).json()["findings"])
    assert applied[str(root / "0ddba11")]["outcome"] == "removed"
    assert not (root / "0ddba11").exists()
    assert applied[str(dirty)]["outcome"].startswith("kept: ")
    assert (dirty / "README.md").read_text() == "unsaved work\n"
    assert applied["hive/unique-3"]["outcome"].startswith("kept: ")
    assert applied["hive/gone-2"]["outcome"] == "removed"
    assert sql(hive, "SELECT port FROM port_leases WHERE cell_id = 'ghost'") == []
    assert sql(hive, "SELECT port FROM port_leases WHERE cell_id = 'hive'") == [(45998,)]
    stray_process.wait(timeout=10)
    stray_setup.wait(timeout=10)
    worktrees = subprocess.run(
        ["git", "-C", str(repo), "worktree", "list"], capture_output=True, text=True, check=True
    ).stdout
    assert str(gone) not in worktrees, "the stale entry was pruned"

    forced = hive_cli("gc", "--apply", "--force", hive=hive, cwd=repo)
    assert forced.returncode == 0, forced.stderr
    assert not dirty.exists()
    branches = subprocess.run(
        ["git", "-C", str(repo), "branch", "--list", "hive/*"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "hive/unique-3" not in branches and live["branchName"] in branches
    assert hive.cell(live["id"])["status"] == "ready"
    assert Path(live["worktreePath"], "README.md").exists()
