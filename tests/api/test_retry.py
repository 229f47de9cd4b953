"""`POST /api/cells/{id}/setup/retry` (alias `/retry`): resuming a failed cell, applying
a changed template to a ready one, one run at a time; setup commands with retries."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psutil

from tests.support.repos import basic_template, git, make_repo, write_config
from tests.support.server import LiveHive


def steps_of(hive: LiveHive, cell: dict[str, Any]) -> list[dict[str, Any]]:
    """Timing rows of the cell's latest run, oldest first."""
    rows = hive.http.get(f"/api/cells/{cell['id']}/timings").json()["steps"]
    latest = max(rows, key=lambda r: (r["attempt"], r["startedAt"]))["runId"]
    return sorted((r for r in rows if r["runId"] == latest), key=lambda r: r["startedAt"])


def setup_log(hive: LiveHive, cell_id: str) -> str:
    return hive.http.get(f"/api/cells/{cell_id}/setup-log").text


def commit_config(repo: Path, templates: dict[str, Any]) -> None:
    write_config(repo, templates)
    git(repo, "commit", "-qam", "change the template")


def test_setup_retry_resumes_a_repaired_cell_at_the_failed_step(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    template = basic_template(setup=["echo one >> ran.txt", "test -f fixed.txt"])
    hive = start_hive([make_repo(tmp_path / "repo", {"basic": template})])
    cell = hive.settle(hive.create("broken")["id"])
    assert cell["status"] == "error" and cell["lastSetupError"]["exitCode"] == 1
    worktree = Path(cell["worktreePath"])
    (worktree / "fixed.txt").write_text("repaired by hand\n")

    answer = hive.http.post(f"/api/cells/{cell['id']}/setup/retry")
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "spawning" and answer.json()["attempt"] == 2
    cell = hive.settle(cell["id"])
    assert cell["status"] == "ready", cell["lastSetupError"]
    rows = steps_of(hive, cell)
    assert {r["attempt"] for r in rows} == {2}
    assert "create_worktree" not in {r["step"] for r in rows}, "the worktree was checkpointed"
    assert (worktree / "ran.txt").read_text() == "one\none\n", "setup resumed at run_setup"


def test_two_simultaneous_retries_give_one_202_and_one_409(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    # Fails at once on create; once `hold` exists its retry runs long, so the race is real.
    template = basic_template(setup=["if [ -f ../hold ]; then sleep 30; fi; test -f ../ok"])
    repo = make_repo(tmp_path / "repo", {"basic": template})
    hive = start_hive([repo])
    cell = hive.settle(hive.create("contested")["id"])
    assert cell["status"] == "error"
    (Path(cell["worktreePath"]).parent / "hold").touch()
    barrier = threading.Barrier(2)

    def retry() -> httpx.Response:
        with httpx.Client(base_url=hive.url, timeout=60, headers=hive.auth) as client:
            barrier.wait()
            return client.post(f"/api/cells/{cell['id']}/setup/retry")

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: retry(), range(2)))
    assert sorted(a.status_code for a in answers) == [202, 409], [a.text for a in answers]
    refused = next(a for a in answers if a.status_code == 409).json()
    assert "retried" in refused["message"] or "spawning" in refused["message"], refused

    during = hive.http.post(f"/api/cells/{cell['id']}/retry")
    assert during.status_code == 409
    assert "spawning" in during.json()["message"] and "wait" in during.json()["hint"]
    assert hive.cell(cell["id"])["attempt"] == 2, "exactly one retry ran"
    assert hive.http.post(f"/api/cells/{cell['id']}/cancel").status_code == 200


def test_a_retry_while_the_cell_is_deleting_is_a_conflict(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    web = {"run": "exec python3 -m http.server --bind 127.0.0.1 $PORT", "stop": "sleep 4"}
    template = basic_template(services={"web": web})
    hive = start_hive([make_repo(tmp_path / "repo", {"basic": template})])
    cell = hive.settle(hive.create("leaving")["id"])
    assert cell["status"] == "ready"

    with ThreadPoolExecutor(1) as pool:
        deleted = pool.submit(hive.http.delete, f"/api/cells/{cell['id']}")
        # Hidden (404 on a read) as soon as it is deleting; the stop command holds it there.
        while hive.http.get(f"/api/cells/{cell['id']}").status_code != 404:
            time.sleep(0.02)
        answer = hive.http.post(f"/api/cells/{cell['id']}/setup/retry")
        assert not deleted.done(), "the delete was still running"
        assert deleted.result().status_code == 200
    assert answer.status_code == 409, answer.text
    assert "deleting" in answer.json()["message"]


def test_retry_of_a_ready_cell_applies_the_changed_template(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    def template(version: str) -> dict[str, Any]:
        server = "exec python3 -m http.server --bind 127.0.0.1 $PORT"
        return basic_template(
            setup=[f"echo {version} > version.txt"],
            services={"web": {"run": f"echo {version} > web-version.txt; {server}"}},
        )

    repo = make_repo(tmp_path / "repo", {"basic": template("v1")})
    hive = start_hive([repo])
    cell = hive.settle(hive.create("evolving")["id"])
    assert cell["status"] == "ready"
    worktree = Path(cell["worktreePath"])
    [web] = hive.http.get(f"/api/cells/{cell['id']}/services").json()["services"]
    old = psutil.Process(web["pid"])
    assert (worktree / "version.txt").read_text() == "v1\n"

    commit_config(repo, {"basic": template("v2")})
    answer = hive.http.post(f"/api/cells/{cell['id']}/setup/retry")
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "spawning"
    assert answer.json()["completedSteps"] == ["create_worktree"]
    cell = hive.settle(cell["id"])
    assert cell["status"] == "ready", cell["lastSetupError"]
    assert (worktree / "version.txt").read_text() == "v2\n"
    assert (worktree / "web-version.txt").read_text() == "v2\n"
    old.wait(timeout=10)  # the v1 service is gone, not running beside the new one
    [web] = hive.http.get(f"/api/cells/{cell['id']}/services").json()["services"]
    assert web["status"] == "ready" and web["pid"] != old.pid
    assert httpx.get(f"http://127.0.0.1:{web['port']}/version.txt").text == "v2\n"
    ran = [r["step"] for r in steps_of(hive, cell) if ":" not in r["step"]]
    assert ran == [
        "allocate_ports",
        "run_setup",
        "ensure_services",
        "assemble_prompt",
        "ensure_agent_session",
        "mark_ready",
    ]
    assert cell["attempt"] == 2 and cell["completedSteps"][-1] == "mark_ready"


def test_a_flaky_setup_command_succeeds_on_its_second_try(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    flaky = "test -f marker || { echo 'ECONNRESET' >&2; touch marker; exit 1; }"
    service_flaky = "test -f smarker || { touch smarker; exit 4; }"
    server = "exec python3 -m http.server --bind 127.0.0.1 $PORT"
    template = basic_template(
        setup=["echo first", {"run": flaky, "retries": 1, "retryDelayMs": 100}],
        services={"web": {"run": server, "setup": [{"run": service_flaky, "retries": 1}]}},
    )
    hive = start_hive([make_repo(tmp_path / "repo", {"basic": template})])
    cell = hive.settle(hive.create("flaky")["id"])
    assert cell["status"] == "ready", cell["lastSetupError"]

    rows = {r["step"]: r for r in steps_of(hive, cell)}
    first, second = rows["run_setup:2"], rows["run_setup:2#2"]
    assert (first["status"], first["metadata"]["exitCode"]) == ("error", 1)
    assert (second["status"], second["metadata"]["exitCode"]) == ("ok", 0)
    assert (first["metadata"]["try"], second["metadata"]["try"]) == (1, 2)
    assert "try" not in rows["run_setup:1"]["metadata"], "plain strings run once"
    # A service's setup command: each try its own row too.
    first, second = rows["ensure_services:setup:web:1"], rows["ensure_services:setup:web:1#2"]
    assert (first["status"], first["metadata"]["exitCode"]) == ("error", 4)
    assert (second["status"], second["metadata"]["exitCode"]) == ("ok", 0)
    assert (first["metadata"]["try"], second["metadata"]["try"]) == (1, 2)
    log = setup_log(hive, cell["id"])
    assert "[hive] setup 2/2\n" in log and "[hive] setup 2/2 · try 2/2\n" in log


def test_retries_exhausted_end_in_error_with_the_last_exit_code(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    command = "n=$(cat tries 2>/dev/null || echo 0); echo $((n+1)) > tries; exit $((n+3))"
    template = basic_template(setup=[{"run": command, "retries": 2, "retryDelayMs": 10}])
    hive = start_hive([make_repo(tmp_path / "repo", {"basic": template})])
    cell = hive.settle(hive.create("hopeless")["id"])
    assert cell["status"] == "error"
    error = cell["lastSetupError"]
    assert error["exitCode"] == 5 and "try 3 of 3" in error["message"], error
    rows = [r for r in steps_of(hive, cell) if r["step"].startswith("run_setup:")]
    assert [(r["step"], r["metadata"]["exitCode"]) for r in rows] == [
        ("run_setup:1", 3),
        ("run_setup:1#2", 4),
        ("run_setup:1#3", 5),
    ]


def test_a_cancel_during_the_delay_between_tries_is_prompt(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    template = basic_template(setup=[{"run": "exit 1", "retries": 1, "retryDelayMs": 60000}])
    hive = start_hive([make_repo(tmp_path / "repo", {"basic": template})])
    cell = hive.create("patient")

    def first_try_failed(_cell: dict[str, Any]) -> bool:
        rows = hive.http.get(f"/api/cells/{cell['id']}/timings").json()["steps"]
        return any(r["step"] == "run_setup:1" for r in rows)

    hive.wait_for(cell["id"], first_try_failed)
    began = time.monotonic()
    answer = hive.http.post(f"/api/cells/{cell['id']}/cancel")
    assert answer.status_code == 200, answer.text
    assert time.monotonic() - began < 5
    assert "cancelled" in answer.json()["lastSetupError"]["message"]
    assert "run_setup:1#2" not in {r["step"] for r in steps_of(hive, answer.json())}


def test_setup_timeout_ms_stops_a_command_that_hangs(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    template = basic_template(setup=["sleep 60"], setupTimeoutMs=500)
    hive = start_hive([make_repo(tmp_path / "repo", {"basic": template})])
    began = time.monotonic()
    cell = hive.settle(hive.create("stuck")["id"])
    assert cell["status"] == "error"
    assert "timed out after 0.5s" in cell["lastSetupError"]["message"]
    assert time.monotonic() - began < 20


def test_cancel_with_discard_removes_the_worktree_and_its_unused_branch(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    template = basic_template(setup=["test -f ../go || exec sleep 60"])
    repo = make_repo(tmp_path / "repo", {"basic": template})
    hive = start_hive([repo])
    cell = hive.create("unwanted")
    hive.wait_for(cell["id"], lambda c: (c.get("progress") or {}).get("step") == "run_setup:1")
    worktree = Path(cell["worktreePath"])
    assert worktree.is_dir()

    answer = hive.http.post(f"/api/cells/{cell['id']}/cancel", params={"discard": 1})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "error" and body["completedSteps"] == []
    assert "discarded" in body["lastSetupError"]["message"]
    assert not worktree.exists()
    assert git(repo, "branch", "--list", cell["branchName"]) == ""
    assert str(worktree) not in git(repo, "worktree", "list")

    (worktree.parent / "go").touch()
    assert hive.http.post(f"/api/cells/{cell['id']}/setup/retry").status_code == 202
    assert hive.settle(cell["id"])["status"] == "ready"
    assert (worktree / "README.md").exists(), "a retry makes the worktree again"


def test_a_plain_cancel_keeps_the_worktree(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    template = basic_template(setup=["exec sleep 60"])
    hive = start_hive([make_repo(tmp_path / "repo", {"basic": template})])
    cell = hive.create("kept")
    hive.wait_for(cell["id"], lambda c: (c.get("progress") or {}).get("step") == "run_setup:1")
    answer = hive.http.post(f"/api/cells/{cell['id']}/cancel", params={"discard": 0})
    assert answer.status_code == 200, answer.text
    assert Path(cell["worktreePath"], "README.md").exists()
    assert json.dumps(answer.json()["completedSteps"]) != "[]"
