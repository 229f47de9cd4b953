"""`hive rm` of several cells, `hive rescue` and `hive gc --snapshots-older-than`, as a
user runs them against a real server."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import hive_cli
from tests.support.repos import git
from tests.support.server import LiveHive


def test_rm_reports_each_cell_then_rescue_brings_the_work_back(
    hive: LiveHive, repo: Path, tmp_path: Path
) -> None:
    cells = [hive.settle(hive.create(name)["id"]) for name in ("one", "two")]
    worktree = Path(cells[0]["workspacePath"])
    (worktree / "README.md").write_text("# agent edit\n")

    removed = hive_cli("rm", cells[0]["id"][:8], "nosuchcell", cells[1]["id"], hive=hive, cwd=repo)
    assert removed.returncode == 1, removed.stdout
    assert removed.stdout.count("deleted cell") == 2
    assert "uncommitted work kept" in removed.stdout and "1 changed, 1 added" in removed.stdout
    assert f"hive rescue {cells[0]['id']}" in removed.stdout
    assert "not deleted: cell nosuchcell" in removed.stdout

    target = tmp_path / "rescued"
    rescued = hive_cli("rescue", cells[0]["id"][:8], "--path", str(target), hive=hive, cwd=repo)
    assert rescued.returncode == 0, rescued.stderr
    assert str(target) in rescued.stdout
    assert (target / "README.md").read_text() == "# agent edit\n"
    assert (target / "setup-ran.txt").exists()
    again = hive_cli("rescue", cells[0]["id"][:8], hive=hive, cwd=repo)
    assert again.returncode == 1 and "already exists" in again.stderr


def test_gc_lists_old_snapshots_and_deletes_them_only_with_apply(
    hive: LiveHive, repo: Path
) -> None:
    cell = hive.settle(hive.create("old")["id"])
    hive_cli("rm", cell["id"], hive=hive, cwd=repo)
    future = "2999-01-01T00:00:00Z"

    young = hive_cli("gc", "--snapshots-older-than", "30d", hive=hive, cwd=repo)
    assert young.returncode == 0 and "no snapshots older than 30d" in young.stdout
    dry = hive_cli("gc", "--snapshots-older-than", future, hive=hive, cwd=repo)
    assert cell["id"][:12] in dry.stdout and "would delete 1 snapshot" in dry.stdout
    assert git(repo, "for-each-ref", "refs/hive") != ""
    applied = hive_cli("gc", "--snapshots-older-than", future, "--apply", hive=hive, cwd=repo)
    assert applied.returncode == 0 and "deleted 1 snapshot" in applied.stdout
    assert git(repo, "for-each-ref", "refs/hive") == ""
