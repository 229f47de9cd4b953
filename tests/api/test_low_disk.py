"""Low disk through the real server, its free-space reading replaced (Settings.free_space):
creates go ahead with a warning when space is low and are refused, naming the biggest
cells and the commands that free space, when it is nearly gone."""

from __future__ import annotations

import errno
from collections.abc import Callable
from pathlib import Path

from hive.core.disk_space import DiskSpace
from hive.core.sizes import GB, MB
from tests.api.test_disk import disk_of
from tests.support.cli import hive_cli
from tests.support.repos import basic_template, make_repo
from tests.support.server import LiveHive


class FakeDisk:
    """What the cells root's file system has free, as the test says; and who asked."""

    def __init__(self, free: int, total: int = 100 * GB) -> None:
        self.space = DiskSpace(free, total)
        self.error: OSError | None = None
        self.paths: list[Path] = []

    def __call__(self, path: Path) -> DiskSpace:
        self.paths.append(path)
        if self.error is not None:
            raise self.error
        return self.space


def test_low_space_creates_with_a_warning(start_hive: Callable[..., LiveHive], repo: Path) -> None:
    disk = FakeDisk(free=50 * GB)
    hive = start_hive([repo], free_space=disk)
    assert hive.create("roomy")["warnings"] == []
    assert disk.paths == [hive.settings.worktrees_root]

    disk.space = DiskSpace(3 * GB, 100 * GB)  # 3%, and under 5 GB
    created = hive.create("squeezed")
    [warning] = created["warnings"]
    assert warning.startswith("low disk space: 3.0 GB free (3%) of 100 GB")
    assert str(hive.settings.worktrees_root) in warning
    assert hive.settle(created["id"])["status"] == "ready", "a warning stops nothing"

    disk.space = DiskSpace(400 * GB, 10_000 * GB)  # plenty of bytes, but under 10%
    assert len(hive.create("big disk, small share")["warnings"]) == 1

    result = hive_cli("new", "basic", "from the cli", "--no-wait", cwd=repo, hive=hive)
    assert result.returncode == 0, result.stderr
    assert "warning: low disk space: 400 GB free (4%)" in result.stderr

    # A reading that fails refuses nothing; the answer says it could not look.
    disk.error = OSError(errno.EIO, "Input/output error")
    [warning] = hive.create("unread")["warnings"]
    assert warning.startswith("could not read the free space of ") and "Input/output" in warning


def test_nearly_full_refuses_naming_the_biggest_cells_and_what_frees_space(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    setup = ['if [ "$HIVE_CELL_NAME" = big ]; then head -c 3000000 /dev/urandom > blob; fi']
    repo = make_repo(tmp_path / "repo", {"basic": basic_template(setup=setup)})
    disk = FakeDisk(free=50 * GB)
    hive = start_hive([repo], free_space=disk)
    small, big = (hive.settle(hive.create(name)["id"]) for name in ("small", "big"))
    disk_of(hive, small["id"])
    big_disk = disk_of(hive, big["id"])
    assert big_disk["ownBytes"] > 3 * MB

    disk.space = DiskSpace(800 * MB, 100 * GB)
    response = hive.http.post(
        "/api/cells",
        json={"workspaceId": hive.workspace_id(), "templateId": "basic", "name": "third"},
    )
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["error"] == "InsufficientSpaceError"
    assert body["message"].startswith("not enough disk space to create a cell: 800 MB free (1%)")
    assert f"biggest cells: big ({big['id'][:12]}) " in body["message"]
    assert body["message"].index("big (") < body["message"].index("small (")
    assert f"`hive rm {big['id'][:12]}`" in body["hint"] and "`hive gc`" in body["hint"]
    assert [c["id"] for c in body["biggestCells"]] == [big["id"], small["id"]]
    assert body["biggestCells"][0]["ownBytes"] == big_disk["ownBytes"]
    assert (body["freeBytes"], body["totalBytes"]) == (800 * MB, 100 * GB)
    cells = hive.http.get("/api/cells").json()["cells"]
    assert sorted(c["name"] for c in cells) == ["big", "small"], "nothing was made"

    result = hive_cli("new", "basic", "third", cwd=repo, hive=hive)
    assert result.returncode != 0
    said = " ".join(result.stderr.split())
    assert "not enough disk space" in said and f"hive rm {big['id'][:12]}" in said

    # Space freed: creates go ahead again.
    disk.space = DiskSpace(60 * GB, 100 * GB)
    assert hive.create("third")["warnings"] == []
