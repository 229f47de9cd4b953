"""A big include-copy through the real server: the API stays responsive, progress moves."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.repos import basic_template, git, make_repo
from tests.support.server import LiveHive


@pytest.fixture(scope="module")
def big_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository whose ignored node_modules holds 20,000 files; shared by the module."""
    template = basic_template(setup=[], includePatterns=["./.env*", "node_modules/**"])
    repo = make_repo(tmp_path_factory.mktemp("big") / "repo", {"basic": template})
    for index in range(20_000):
        package = repo / "node_modules" / f"pkg{index // 100}"
        if index % 100 == 0:
            package.mkdir(parents=True)
        (package / f"f{index}.js").write_text("module.exports = 1\n")
    return repo


def _copying(cell: dict[str, Any]) -> bool:
    progress = cell["progress"]
    return bool(progress) and progress["step"] == "create_worktree:include_copy"


def _wait_for_copy(hive: LiveHive, cell_id: str) -> dict[str, Any]:
    return hive.wait_for(cell_id, lambda c: _copying(c) or c["status"] in ("ready", "error"))


def test_health_answers_and_progress_moves_during_a_20000_file_copy(
    start_hive: Callable[..., LiveHive], big_repo: Path
) -> None:
    hive = start_hive([big_repo])

    cell = hive.create("big copy")
    health_answers, progress_seen = 0, []
    with httpx.Client(base_url=hive.url, timeout=10, headers=hive.auth) as probe:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            detail = probe.get(f"/api/cells/{cell['id']}").json()
            if detail["status"] in ("ready", "error"):
                break
            progress = detail["progress"]
            if progress and progress["step"] == "create_worktree:include_copy":
                progress_seen.append((progress["done"], progress["total"]))
                # the copy is running right now: the server must still answer at once
                assert probe.get("/health").status_code == 200
                health_answers += 1
            time.sleep(0.05)
    assert detail["status"] == "ready", detail
    assert health_answers > 0, "health was probed while files were being copied"
    assert any(done < total for done, total in progress_seen), "progress moved before the end"
    assert Path(detail["workspacePath"], "node_modules", "pkg199", "f19999.js").exists()

    steps = hive.http.get(f"/api/cells/{cell['id']}/timings").json()["steps"]
    copy = next(s for s in steps if s["step"] == "create_worktree:include_copy")
    meta = copy["metadata"]
    assert meta["files"] == 20_001  # node_modules and the top-level .env
    assert meta["staticRoots"] == ["node_modules"]
    assert meta["reflinked"] + meta["fallback"] == meta["files"]
    for key in ("patterns", "bytes", "symlinks", "enumerateMs", "copyMs"):
        assert key in meta


def test_delete_during_the_copy_stops_it_and_leaves_nothing_behind(
    start_hive: Callable[..., LiveHive], big_repo: Path
) -> None:
    hive = start_hive([big_repo])
    cell = hive.create("deleted while copying")
    seen = _wait_for_copy(hive, cell["id"])
    assert seen["status"] in ("pending", "spawning"), "the copy finished before the delete"

    outcome = hive.http.delete(f"/api/cells/{cell['id']}")
    assert outcome.status_code == 200, outcome.text
    assert outcome.json()["branch"]["deleted"] is True
    worktree = Path(cell["workspacePath"])
    assert not worktree.exists()
    time.sleep(1)  # a copy thread still running would recreate files by now
    assert not worktree.exists()
    assert git(big_repo, "branch", "--list", cell["branchName"]) == ""
    assert str(worktree) not in git(big_repo, "worktree", "list")
