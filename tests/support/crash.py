"""What a test that kills `hive serve` checks afterwards: every cell settled, ready cells
whole, and nothing left of the others (worktree, branch, lease, process)."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import psutil

from hive.services.process_tag import find_tagged_with_tags

IN_PROGRESS = ("pending", "spawning", "deleting")
_EVER = "SELECT DISTINCT cell_id FROM cell_timing_events"
"""Every cell the home ever ran a step for (timing rows outlive cells)."""


def alive(pid: int | None) -> bool:
    """Running, not just a zombie that its new parent (init) has yet to reap."""
    try:
        return pid is not None and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_for(predicate: Callable[[], object], timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"never reached: {what or predicate}"
        time.sleep(0.05)


def rows(home: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    """A read of the server's database beside it (WAL: readers never block it)."""
    with closing(sqlite3.connect(f"file:{home / 'hive.db'}?mode=ro", uri=True)) as conn:
        return list(conn.execute(sql, params).fetchall())


def unsettled(home: Path) -> list[tuple[object, ...]]:
    marks = ",".join("?" * len(IN_PROGRESS))
    return rows(home, f"SELECT id, status FROM cells WHERE status IN ({marks})", *IN_PROGRESS)


def settle_all(home: Path, timeout: float = 60) -> None:
    """Every cell ends its run on its own: none pending, spawning or deleting."""
    wait_for(lambda: not unsettled(home), timeout, "every cell settled")


@dataclass(frozen=True)
class Consistency:
    ready: int
    gone: int


def check_consistent(home: Path, repo: Path, known: set[str]) -> Consistency:
    """Ready cells are whole (worktree, branch, live services on distinct ports, a
    lease per port); every other cell Hive ever made (`known` ids, plus anything on
    disk or in the process table) left nothing behind."""
    cells = rows(home, "SELECT id, status, worktree_path, branch_name FROM cells")
    statuses = {str(row[1]) for row in cells}
    assert statuses <= {"ready"}, f"cells that did not become ready: {cells}"
    ready = {str(row[0]): (Path(str(row[2])), str(row[3])) for row in cells}
    branches = set(_git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/hive/"))
    worktrees = {Path(line[len("worktree ") :]) for line in _git(repo, "worktree", "list",
                 "--porcelain") if line.startswith("worktree ")}  # fmt: skip
    ports: dict[int, str] = {}
    for cell_id, (path, branch) in ready.items():
        assert path.is_dir() and path in worktrees, f"ready cell {cell_id} has no worktree"
        assert branch in branches, f"ready cell {cell_id} has no branch {branch}"
        services = rows(
            home, "SELECT name, status, port, pid FROM cell_services WHERE cell_id = ?", cell_id
        )
        assert services, f"ready cell {cell_id} has no services"
        for name, status, port, pid in services:
            assert status == "ready" and alive(int(str(pid))), (cell_id, name, status, pid)
            assert isinstance(port, int) and port not in ports, f"port {port} twice"
            ports[port] = cell_id
            with closing(socket.create_connection(("127.0.0.1", port), timeout=5)):
                pass
    leases = {int(str(p)): str(c) for p, c in rows(home, "SELECT port, cell_id FROM port_leases")}
    assert leases == ports, "every lease is a ready cell's service port, and only those"
    # Nothing else on disk: no worktree (or staging copy) of a cell that is gone.
    roots = {path.parent for path, _ in ready.values()} | {home / "cells"}
    on_disk = {entry for root in roots if root.is_dir() for entry in root.iterdir()}
    assert on_disk == {path for path, _ in ready.values()}, "leftovers under the cells root"
    assert worktrees - {repo} == {path for path, _ in ready.values()}, "stale git worktrees"
    assert branches == {branch for _, branch in ready.values()}, "branches of gone cells"
    # No process of a cell that is gone; a ready cell runs exactly its services.
    # (Only this home's cells: other Hive servers may run on the machine.)
    ours = known | set(ready) | {str(c) for (c,) in rows(home, _EVER)}
    running: dict[str, set[int]] = {}
    for process, tag in find_tagged_with_tags("cell/", prefix=True):
        cell_id = tag.split("/")[1]
        if cell_id in ours and alive(process.pid):
            running.setdefault(cell_id, set()).add(process.pid)
    assert set(running) <= set(ready), f"processes of cells that are gone: {running}"
    for cell_id, pids in running.items():
        recorded = rows(home, "SELECT pid FROM cell_services WHERE cell_id = ?", cell_id)
        assert pids == {int(str(pid)) for (pid,) in recorded}, f"strays of {cell_id}"
    return Consistency(ready=len(ready), gone=len(known - set(ready)))


def _git(repo: Path, *args: str) -> list[str]:
    result = subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)
    return result.stdout.decode().splitlines()
