"""`kill -9` of `hive serve` in the middle of a step, then a restart: an interrupted
create resumes on its own, but not forever; an interrupted delete finishes."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from contextlib import closing, suppress
from pathlib import Path

import httpx

from hive.core.steps import Step
from tests.support.crash import alive, check_consistent, rows, settle_all, wait_for
from tests.support.repos import basic_template, make_repo
from tests.support.served import auth_of, free_port, serving

SERVICE = {"web": {"run": "exec python3 -m http.server --bind 127.0.0.1 $PORT"}}


def _kill(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGKILL)
    server.wait(timeout=30)


def _cell(home: Path, cell_id: str) -> tuple[object, ...]:
    [row] = rows(home, "SELECT status, attempt, resume_streak FROM cells WHERE id = ?", cell_id)
    return row


def test_a_create_that_keeps_killing_the_server_is_resumed_three_times_then_explained(
    tmp_path: Path,
) -> None:
    repo = make_repo(tmp_path / "repo", {"basic": basic_template(setup=["true"])})
    home, port = tmp_path / "home", free_port()
    # Every run hangs in run_setup, and every server is killed there.
    hang = {"HIVE_FAULTS": f"{Step.RUN_SETUP}=hang"}
    with serving(repo, home, port, **hang) as server:
        http = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=auth_of(home))
        [workspace] = http.get("/api/workspaces").json()["workspaces"]
        body = {"workspaceId": workspace["id"], "templateId": "basic", "name": "loop"}
        cell_id = http.post("/api/cells", json=body).json()["id"]
        wait_for(lambda: _setup_began(home, cell_id, attempt=1), what="setup began")
        _kill(server)
    for resume in (1, 2, 3):
        with serving(repo, home, port, **hang) as server:
            assert _cell(home, cell_id)[1:] == (1 + resume, resume)
            wait_for(lambda: _setup_began(home, cell_id, 1 + resume), what="setup again")  # noqa: B023
            _kill(server)
    with serving(repo, home, port, **hang), closing(http):
        cell = http.get(f"/api/cells/{cell_id}").json()
        assert cell["status"] == "error" and cell["attempt"] == 4
        failure = cell["lastSetupError"]
        assert failure["step"] == "run_setup"
        assert "4 times in a row" in failure["message"]
        assert "hive retry ID" in failure["hint"]


def _setup_began(home: Path, cell_id: str, attempt: int) -> bool:
    """The run of `attempt` announced run_setup (where the fault holds it)."""
    return bool(
        rows(
            home,
            "SELECT 1 FROM events WHERE cell_id = ? AND kind = 'timing' "
            "AND json_extract(data, '$.step') = ? AND json_extract(data, '$.attempt') = ?",
            cell_id,
            str(Step.RUN_SETUP),
            attempt,
        )
    )


def test_a_delete_killed_in_a_step_finishes_after_the_restart(tmp_path: Path) -> None:
    template = basic_template(setup=["true"], services=SERVICE)
    repo = make_repo(tmp_path / "repo", {"basic": template})
    home, port = tmp_path / "home", free_port()
    url = f"http://127.0.0.1:{port}"
    # The delete hangs in its first step, services still running, when the server dies.
    with serving(repo, home, port, HIVE_FAULTS=f"{Step.STOP_SERVICES}=hang") as server:
        http = httpx.Client(base_url=url, headers=auth_of(home))
        [workspace] = http.get("/api/workspaces").json()["workspaces"]
        body = {"workspaceId": workspace["id"], "templateId": "basic", "name": "doomed"}
        cell = http.post("/api/cells", json=body).json()
        wait_for(lambda: http.get(f"/api/cells/{cell['id']}").json()["status"] == "ready")
        [(pid,)] = rows(home, "SELECT pid FROM cell_services WHERE cell_id = ?", cell["id"])
        deleting = threading.Thread(target=_delete, args=(url, home, cell["id"]))
        deleting.start()
        wait_for(lambda: _cell(home, cell["id"])[0] == "deleting")
        _kill(server)
        deleting.join()
    assert alive(int(str(pid))), "a killed server stops nothing itself"

    with serving(repo, home, port), closing(http):
        settle_all(home)
        assert rows(home, "SELECT id FROM cells") == []
        assert not alive(int(str(pid)))
        assert not Path(cell["workspacePath"]).exists()
        check_consistent(home, repo, {cell["id"]})


def _delete(url: str, home: Path, cell_id: str) -> None:
    with suppress(httpx.TransportError):
        httpx.delete(f"{url}/api/cells/{cell_id}", headers=auth_of(home), timeout=60)


def test_a_create_killed_before_placing_its_copy_resumes_and_leaves_no_staging(
    tmp_path: Path,
) -> None:
    repo = make_repo(tmp_path / "repo", {"basic": basic_template(setup=["true"], services=SERVICE)})
    home, port = tmp_path / "home", free_port()
    place = f"{Step.CREATE_WORKTREE}:place_included"
    with serving(repo, home, port, HIVE_FAULTS=f"{place}=hang") as server:
        http = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=auth_of(home))
        [workspace] = http.get("/api/workspaces").json()["workspaces"]
        body = {"workspaceId": workspace["id"], "templateId": "basic", "name": "staged"}
        cell = http.post("/api/cells", json=body).json()
        staging = Path(cell["workspacePath"]).with_name(f".{cell['id']}.include")
        wait_for(lambda: (staging / ".env").exists(), what="the copy staged")
        _kill(server)
    with serving(repo, home, port), closing(http):
        settle_all(home)
        assert not staging.exists()
        assert (Path(cell["workspacePath"]) / ".env").read_text() == "TOP=1\n"
        check_consistent(home, repo, {cell["id"]})


def test_services_of_a_ready_cell_are_re_adopted_after_a_kill_9(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"basic": basic_template(setup=["true"], services=SERVICE)})
    home, port = tmp_path / "home", free_port()
    with serving(repo, home, port) as server:
        http = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=auth_of(home))
        [workspace] = http.get("/api/workspaces").json()["workspaces"]
        body = {"workspaceId": workspace["id"], "templateId": "basic", "name": "kept"}
        cell = http.post("/api/cells", json=body).json()
        wait_for(lambda: http.get(f"/api/cells/{cell['id']}").json()["status"] == "ready")
        [(pid,)] = rows(home, "SELECT pid FROM cell_services WHERE cell_id = ?", cell["id"])
        _kill(server)
    with serving(repo, home, port), closing(http):
        check_consistent(home, repo, {cell["id"]})
        # The same process, watched again: its exit is seen by the new server.
        assert rows(home, "SELECT pid FROM cell_services WHERE cell_id = ?", cell["id"]) == [(pid,)]
        os.kill(int(str(pid)), signal.SIGKILL)
        wait_for(lambda: _service_status(home, cell["id"]) == "crashed", what="exit seen")


def _service_status(home: Path, cell_id: str) -> object:
    [(status,)] = rows(home, "SELECT status FROM cell_services WHERE cell_id = ?", cell_id)
    return status
