"""Cells through the real HTTP API: create, follow, fail, retry, restart, delete."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hive.settings import Settings
from tests.support.repos import basic_template, git, make_repo, write_config
from tests.support.server import LiveHive


def test_create_answers_201_at_once_then_provisions_to_ready(hive: LiveHive, repo: Path) -> None:
    created = hive.create("Fix the login bug", description="make login work")
    assert created["status"] in ("pending", "spawning")
    assert created["name"] == "Fix the login bug"
    assert created["branchName"].startswith("hive/fix-the-login-bug-")

    cell = hive.settle(created["id"])
    assert cell["status"] == "ready", cell
    worktree = Path(cell["workspacePath"])
    assert worktree.parent == hive.settings.worktrees_root
    assert (worktree / "README.md").exists()
    # include-copy: the rooted pattern copies the top-level .env only
    assert (worktree / ".env").read_text() == "TOP=1\n"
    assert not (worktree / "apps" / "web" / ".env").exists()
    # setup ran in the worktree with the cell's environment
    assert (worktree / "setup-ran.txt").read_text() == "setup for Fix the login bug\n"
    assert cell["baseCommit"] == git(repo, "rev-parse", "HEAD")
    assert git(worktree, "rev-parse", "--abbrev-ref", "HEAD") == cell["branchName"]
    assert cell["lastSetupError"] is None
    assert cell["description"] == "make login work"


def test_lists_cells_of_a_workspace(hive: LiveHive) -> None:
    first, second = hive.create("one"), hive.create("two")
    body = hive.http.get("/api/cells", params={"workspaceId": hive.workspace_id()}).json()
    assert {c["id"] for c in body["cells"]} == {first["id"], second["id"]}
    for cell in (first, second):
        hive.settle(cell["id"])


def test_timings_cover_every_step_of_the_create(hive: LiveHive) -> None:
    cell = hive.settle(hive.create("timed")["id"])
    body = hive.http.get(f"/api/cells/{cell['id']}/timings").json()
    steps = [row["step"] for row in body["steps"]]
    for expected in (
        "create_request_received",
        "create_cell_record",
        "create_worktree:git_add",
        "create_worktree:include_copy",
        "create_worktree:base_commit",
        "create_worktree",
        "run_setup:1",
        "run_setup",
        "mark_ready",
    ):
        assert expected in steps
    assert all(row["status"] == "ok" and row["durationMs"] >= 0 for row in body["steps"])
    copy = next(r for r in body["steps"] if r["step"] == "create_worktree:include_copy")
    assert copy["metadata"]["files"] == 1
    [run] = body["runs"]
    assert run["workflow"] == "create" and run["status"] == "ok" and run["attempt"] == 1


def test_failing_setup_puts_the_cell_in_error_and_retry_resumes(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    template = basic_template(
        setup=["echo preparing", "echo 'cannot reach registry' >&2; test -f fixed.txt"]
    )
    repo = make_repo(tmp_path / "repo", {"basic": template})
    hive = start_hive([repo])
    cell = hive.settle(hive.create("flaky")["id"])

    assert cell["status"] == "error"
    error = cell["lastSetupError"]
    assert error["step"] == "run_setup" and error["kind"] == "setup_command"
    assert error["occurredAt"] == error["at"]
    assert error["rollback"] == [
        {"step": "stop_services", "status": "ok"},
        {"step": "release_ports", "status": "ok"},
    ]
    assert error["command"] == "echo 'cannot reach registry' >&2; test -f fixed.txt"
    assert error["exitCode"] == 1
    assert "cannot reach registry" in error["outputTail"]
    assert "setup[1]" in error["hint"] and "retry" in error["hint"]
    worktree = Path(cell["workspacePath"])
    assert worktree.is_dir(), "the worktree is kept for inspection"
    assert cell["completedSteps"] == ["create_worktree", "allocate_ports"]

    (worktree / "fixed.txt").write_text("repaired by hand\n")
    retried = hive.http.post(f"/api/cells/{cell['id']}/retry")
    assert retried.status_code == 202, retried.text
    cell = hive.settle(cell["id"])
    assert cell["status"] == "ready", cell
    assert cell["attempt"] == 2 and cell["lastSetupError"] is None

    runs = hive.http.get(f"/api/cells/{cell['id']}/timings").json()["runs"]
    assert [(r["workflow"], r["status"]) for r in runs] == [("create", "error"), ("retry", "ok")]
    assert runs[0]["failedStep"] == "run_setup"


def test_retry_of_a_ready_cell_runs_it_again(hive: LiveHive) -> None:
    cell = hive.settle(hive.create("fine")["id"])
    response = hive.http.post(f"/api/cells/{cell['id']}/retry")
    assert response.status_code == 202, response.text
    again = hive.settle(cell["id"])
    assert again["status"] == "ready" and again["attempt"] == 2


def test_ready_cell_survives_a_server_restart_then_delete_removes_it(
    start_hive: Callable[..., LiveHive], repo: Path
) -> None:
    first = start_hive([repo])
    cell = first.settle(first.create("durable")["id"])
    assert cell["status"] == "ready"
    first.stop()

    second = start_hive([])
    again = second.cell(cell["id"])
    assert again["status"] == "ready"
    assert again["workspacePath"] == cell["workspacePath"]

    outcome = second.http.delete(f"/api/cells/{cell['id']}")
    assert outcome.status_code == 200, outcome.text
    assert outcome.json()["branch"]["deleted"] is True
    assert second.http.get(f"/api/cells/{cell['id']}").status_code == 404
    assert not Path(cell["workspacePath"]).exists()
    assert git(repo, "branch", "--list", cell["branchName"]) == ""


def test_delete_keeps_a_branch_that_holds_new_commits(hive: LiveHive, repo: Path) -> None:
    cell = hive.settle(hive.create("agent work")["id"])
    worktree = Path(cell["workspacePath"])
    (worktree / "feature.txt").write_text("new work\n")
    git(worktree, "add", "feature.txt")
    git(worktree, "commit", "-q", "-m", "agent's work")

    outcome = hive.http.delete(f"/api/cells/{cell['id']}").json()
    assert outcome["branch"]["deleted"] is False
    assert "1 commit" in outcome["branch"]["reason"]
    assert git(repo, "branch", "--list", cell["branchName"]).strip().endswith(cell["branchName"])
    assert git(repo, "show", f"{cell['branchName']}:feature.txt") == "new work"
    assert hive.http.get(f"/api/cells/{cell['id']}").status_code == 404


def test_deleting_a_cell_hides_it_at_once_and_history_survives(hive: LiveHive) -> None:
    cell = hive.settle(hive.create("short lived")["id"])
    hive.http.delete(f"/api/cells/{cell['id']}")
    listed = hive.http.get("/api/cells").json()["cells"]
    assert cell["id"] not in {c["id"] for c in listed}

    body = hive.http.get("/api/cells/timings/global", params={"cellId": cell["id"]}).json()
    workflows = {row["workflow"] for row in body["steps"]}
    assert workflows == {"create", "delete"}
    delete_steps = [r["step"] for r in body["steps"] if r["workflow"] == "delete"]
    assert delete_steps == [
        "cancel_provisioning",
        "close_agent_session",
        "stop_services",
        "release_ports",
        "snapshot_work",
        "remove_workspace",
        "delete_branch",
        "delete_cell_record",
    ]
    errors = hive.http.get("/api/cells/timings/global", params={"status": "error"}).json()
    assert errors["steps"] == []


def test_delete_during_setup_stops_the_setup_process(hive: LiveHive, tmp_path: Path) -> None:
    marker = tmp_path / "setup-pid"
    write_config(
        Path(hive.http.get("/api/workspaces").json()["workspaces"][0]["path"]),
        {"basic": basic_template(setup=[f"echo $$ > {marker}; sleep 300"])},
    )
    cell = hive.create("slow")
    hive.wait_for(cell["id"], lambda _c: marker.exists() and marker.read_text().strip() != "")
    pid = int(marker.read_text())

    outcome = hive.http.delete(f"/api/cells/{cell['id']}").json()
    assert outcome["deleted"] is True
    assert not _alive(pid), "the setup command's process group must be stopped"
    assert hive.http.get(f"/api/cells/{cell['id']}").status_code == 404


def test_cells_created_at_once_get_distinct_worktrees_and_branches(hive: LiveHive) -> None:
    cells = [hive.create("same name") for _ in range(6)]
    settled = [hive.settle(c["id"]) for c in cells]
    assert all(c["status"] == "ready" for c in settled), settled
    assert len({c["branchName"] for c in settled}) == 6
    assert len({c["workspacePath"] for c in settled}) == 6


def test_base_ref_starts_the_cell_from_a_tag(hive: LiveHive, repo: Path) -> None:
    old = git(repo, "rev-parse", "HEAD")
    git(repo, "tag", "v1")
    (repo / "later.txt").write_text("later\n")
    git(repo, "add", "later.txt")
    git(repo, "commit", "-q", "-m", "later")

    cell = hive.settle(hive.create("from tag", baseRef="v1")["id"])
    assert cell["status"] == "ready"
    assert cell["baseCommit"] == old and cell["baseRef"] == "v1"
    assert not (Path(cell["workspacePath"]) / "later.txt").exists()


def test_config_changes_are_picked_up_without_restart(hive: LiveHive, repo: Path) -> None:
    write_config(repo, {"basic": basic_template(), "second": basic_template(label="Second")})
    body = hive.http.get("/api/templates", params={"workspaceId": hive.workspace_id()}).json()
    assert {t["id"] for t in body["templates"]} == {"basic", "second"}
    cell = hive.settle(hive.create("uses new template", template="second")["id"])
    assert cell["status"] == "ready"


def test_interrupted_provisioning_is_marked_error_after_restart(
    start_hive: Callable[..., LiveHive], tmp_path: Path, settings: Settings
) -> None:
    marker = tmp_path / "started"
    repo = make_repo(
        tmp_path / "repo", {"basic": basic_template(setup=[f"touch {marker}; sleep 300"])}
    )
    first = start_hive([repo])
    cell = first.create("interrupted")
    before = first.wait_for(cell["id"], lambda _c: marker.exists())
    first.stop()

    second = start_hive([])
    again = second.cell(cell["id"])
    assert again["status"] == "error"
    assert "server stopped" in again["lastSetupError"]["message"]
    assert again["lastSetupError"]["step"] == "run_setup"
    assert again["lastSetupError"]["kind"] == "interrupted"
    assert again["lastSetupError"]["runId"] == before["runId"]
    assert "retry" in again["lastSetupError"]["hint"]
    # Nothing else is lost across the restart: the cell is the one the first server had.
    changed = {"status", "lastSetupError", "runId", "progress", "provisioning", "eta", "updatedAt"}
    assert {k: v for k, v in again.items() if k not in changed} == {
        k: v for k, v in before.items() if k not in changed
    }
    assert before["completedSteps"] == ["create_worktree", "allocate_ports"]


def _alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
