"""Requests that meet each other: concurrent deletes, retries after hand repairs."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.support.repos import basic_template, git, make_repo
from tests.support.server import LiveHive


def test_concurrent_deletes_of_one_cell_agree(hive: LiveHive, repo: Path) -> None:
    cell = hive.settle(hive.create("popular")["id"])

    def delete() -> int:
        with httpx.Client(base_url=hive.url, timeout=60, headers=hive.auth) as client:
            return client.delete(f"/api/cells/{cell['id']}").status_code

    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(lambda _: delete(), range(6)))
    assert 200 in statuses
    assert set(statuses) <= {200, 404}, statuses  # 404 only once it is gone
    assert not Path(cell["workspacePath"]).exists()
    assert git(repo, "branch", "--list", cell["branchName"]) == ""


def test_retry_remakes_a_worktree_removed_by_hand_and_keeps_the_branch(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"basic": basic_template(setup=["test -f ../allowed"])})
    hive = start_hive([repo])
    cell = hive.settle(hive.create("repaired")["id"])
    assert cell["status"] == "error"
    worktree = Path(cell["workspacePath"])
    (worktree / "work.txt").write_text("agent work\n")
    git(worktree, "add", "work.txt")
    git(worktree, "commit", "-q", "-m", "work in progress")
    shutil.rmtree(worktree)
    (worktree.parent / "allowed").touch()

    assert hive.http.post(f"/api/cells/{cell['id']}/retry").status_code == 202
    cell = hive.settle(cell["id"])
    assert cell["status"] == "ready", cell["lastSetupError"]
    assert (worktree / "work.txt").read_text() == "agent work\n", "the branch's work is back"


def test_delete_says_which_uncommitted_changes_it_kept(hive: LiveHive) -> None:
    cell = hive.settle(hive.create("dirty")["id"])
    (Path(cell["workspacePath"]) / "unsaved.txt").write_text("not committed\n")
    outcome = hive.http.delete(f"/api/cells/{cell['id']}").json()
    assert "unsaved.txt" in outcome["snapshot"]["added"]
    assert not any("uncommitted" in w for w in outcome["warnings"]), "nothing was discarded"
