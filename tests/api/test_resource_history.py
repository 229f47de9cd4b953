"""Every cell's CPU and memory minute by minute, and the room left where cells live."""

from __future__ import annotations

import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hive.core.disk_space import DiskSpace
from hive.core.sizes import GB
from tests.api.test_low_disk import FakeDisk
from tests.support.repos import basic_template, make_repo
from tests.support.server import LiveHive

#: 30 MB resident, then idle: a cell whose memory the samples see.
HOLD = (
    f"exec {shlex.quote(sys.executable)} -c "
    "'b = bytes(30_000_000) + bytes(1); import time; time.sleep(600)'"
)


def wait_history(hive: LiveHive, cell_id: str, timeout: float = 30) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        answer = hive.http.get("/api/resources/history")
        assert answer.status_code == 200, answer.text
        cells = {cell["cellId"]: cell for cell in answer.json()["cells"]}
        minutes: list[dict[str, Any]] = cells[cell_id]["minutes"]
        if minutes and minutes[-1]["rss"] > 20_000_000:
            return minutes
        assert time.monotonic() < deadline, f"no history came: {cells}"
        time.sleep(0.1)


def test_history_has_each_cells_minutes(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {
            "held": basic_template(id="held", setup=[], services={"hold": {"run": HOLD}}),
            "plain": basic_template(id="plain", setup=[]),
        },
    )
    hive = start_hive([repo], sample_interval_s=0.2)
    held = hive.settle(hive.create("held", template="held")["id"])
    plain = hive.settle(hive.create("plain", template="plain")["id"])
    assert held["status"] == plain["status"] == "ready"

    [minute, *_] = wait_history(hive, held["id"])
    assert minute["at"].endswith(":00.000Z")
    assert minute["rssPeak"] >= minute["rss"] and minute["cpuPeak"] >= minute["cpu"] >= 0
    body = hive.http.get("/api/resources/history", params={"minutes": 5}).json()
    assert body["windowS"] == 300.0
    cells = {cell["cellId"]: cell for cell in body["cells"]}
    assert cells[held["id"]]["name"] == "held" and cells[held["id"]]["minutes"]
    assert cells[plain["id"]]["minutes"] == [], "no process, no samples"

    by_workspace = hive.http.get(
        "/api/resources/history", params={"workspaceId": hive.workspace_id()}
    ).json()
    assert {cell["cellId"] for cell in by_workspace["cells"]} == {held["id"], plain["id"]}
    assert hive.http.get("/api/resources/history", params={"minutes": 0}).status_code == 422
    unknown = hive.http.get("/api/resources/history", params={"workspaceId": "nope"})
    assert unknown.status_code == 404


def test_free_space_of_the_cells_root(start_hive: Callable[..., LiveHive], repo: Path) -> None:
    disk = FakeDisk(free=50 * GB, total=200 * GB)
    hive = start_hive([repo], free_space=disk)
    body = hive.http.get("/api/disk/free").json()
    root = str(hive.settings.worktrees_root)
    assert body == {
        "path": root,
        "freeBytes": 50 * GB,
        "totalBytes": 200 * GB,
        "level": "ok",
        "warning": None,
    }
    assert disk.paths == [hive.settings.worktrees_root]

    disk.space = DiskSpace(3 * GB, 100 * GB)
    low = hive.http.get("/api/disk/free").json()
    assert low["level"] == "low" and low["warning"].startswith("low disk space: 3.0 GB free")
    disk.space = DiskSpace(GB // 2, 100 * GB)
    assert hive.http.get("/api/disk/free").json()["level"] == "refused"

    disk.error = PermissionError(13, "Permission denied")
    failed = hive.http.get("/api/disk/free")
    assert failed.status_code == 500
    assert failed.json()["message"] == f"could not read the free space of {root}: Permission denied"


def test_free_space_reads_the_real_file_system(hive: LiveHive) -> None:
    body = hive.http.get("/api/disk/free").json()
    assert 0 < body["freeBytes"] <= body["totalBytes"]
