"""A cell's disk through the real server: measured once it is ready (apparent and
allocated bytes, logs), again when a retry settles or the interval passes; the cloned
share on a file system that clones."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.btrfs import btrfs_mount
from tests.support.repos import basic_template, git, make_repo
from tests.support.server import LiveHive

MB = 1_000_000


def disk_of(
    hive: LiveHive,
    cell_id: str,
    done: Callable[[dict[str, Any]], bool] = lambda _disk: True,
    timeout: float = 30,
) -> dict[str, Any]:
    """The cell's measurement once there is one for which `done` holds."""
    deadline = time.monotonic() + timeout
    while True:
        response = hive.http.get(f"/api/cells/{cell_id}/disk")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["cellId"] == cell_id
        if body["disk"] is not None and done(body["disk"]):
            return dict(body["disk"])
        assert time.monotonic() < deadline, f"no such measurement: {body}"
        time.sleep(0.05)


def include_copy_meta(hive: LiveHive, cell_id: str) -> dict[str, Any]:
    steps = hive.http.get(f"/api/cells/{cell_id}/timings").json()["steps"]
    return dict(next(s for s in steps if s["step"] == "create_worktree:include_copy")["metadata"])


def test_a_ready_cell_is_measured_sparse_and_dense_files_and_its_logs(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    setup = ["truncate -s 50M sparse.img", "head -c 1000000 /dev/urandom > dense.bin"]
    repo = make_repo(tmp_path / "repo", {"basic": basic_template(setup=setup)})
    hive = start_hive([repo])
    assert hive.http.get("/api/cells/nope/disk").status_code == 404

    cell = hive.settle(hive.create("measured")["id"])
    assert cell["status"] == "ready", cell
    disk = disk_of(hive, cell["id"])
    assert disk["complete"] is True
    assert disk["apparentBytes"] >= 51 * MB
    assert MB <= disk["allocatedBytes"] < 10 * MB, "the sparse file holds no blocks"
    # README, .gitignore, config, index.js, .env, the two files, .hive's files
    assert disk["files"] >= 7
    assert disk["logsBytes"] > 0, "the setup log"
    assert disk["clonedBytes"] == include_copy_meta(hive, cell["id"])["reflinkedBytes"]
    assert disk["ownBytes"] == disk["allocatedBytes"] - disk["clonedBytes"]
    assert disk["addedBytes"] == disk["ownBytes"] + disk["logsBytes"]
    assert disk["measuredAt"] > cell["createdAt"]


def test_a_retry_that_settles_is_measured_again(hive: LiveHive) -> None:
    cell = hive.settle(hive.create("again")["id"])
    first = disk_of(hive, cell["id"])
    (Path(cell["worktreePath"]) / "grown.bin").write_bytes(os.urandom(2 * MB))
    assert hive.http.post(f"/api/cells/{cell['id']}/retry").status_code == 202
    hive.wait_for(cell["id"], lambda c: c["status"] == "ready" and c["runId"] is None)
    again = disk_of(hive, cell["id"], lambda d: d["measuredAt"] != first["measuredAt"])
    assert again["allocatedBytes"] >= first["allocatedBytes"] + 2 * MB


def test_cells_are_measured_again_when_the_interval_passes(
    start_hive: Callable[..., LiveHive], repo: Path
) -> None:
    hive = start_hive([repo], disk_interval_s=0.3)
    cell = hive.settle(hive.create("hourly")["id"])
    first = disk_of(hive, cell["id"])
    (Path(cell["worktreePath"]) / "later.bin").write_bytes(os.urandom(2 * MB))
    later = disk_of(hive, cell["id"], lambda d: d["allocatedBytes"] > first["allocatedBytes"])
    assert later["allocatedBytes"] >= first["allocatedBytes"] + 2 * MB


def test_on_a_file_system_that_clones_the_copied_share_costs_nothing(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    # 2 GB (a sparse image): room for a cell, but low, so the create says so.
    with btrfs_mount(tmp_path, size="2G") as mount:
        template = basic_template(setup=[], includePatterns=["node_modules/**"])
        repo = make_repo(mount / "repo", {"basic": template})
        (repo / "node_modules" / "pkg").mkdir(parents=True)
        (repo / "node_modules" / "pkg" / "big.bin").write_bytes(os.urandom(2 * MB))
        git(repo, "status")  # the repository is fine with its ignored tree
        os.sync()
        hive = start_hive([repo], worktrees_root=mount / "cells")
        created = hive.create("cloned")
        assert [w.split(":")[0] for w in created["warnings"]] == ["low disk space"]
        cell = hive.settle(created["id"])
        assert cell["status"] == "ready", cell
        meta = include_copy_meta(hive, cell["id"])
        assert meta["reflinked"] == 1 and meta["reflinkedBytes"] == 2 * MB
        disk = disk_of(hive, cell["id"])
        assert disk["clonedBytes"] == 2 * MB
        assert disk["allocatedBytes"] >= 2 * MB, "shared blocks are still the file's blocks"
        assert disk["ownBytes"] == disk["allocatedBytes"] - 2 * MB
        hive.stop()
