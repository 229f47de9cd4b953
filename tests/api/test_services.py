"""Services and ports through the real server: real processes on real ports."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from hive.ports.probe import port_is_free
from hive.services.process_tag import cell_tag, find_tagged
from hive.settings import Settings
from tests.support.repos import basic_template, git, make_repo
from tests.support.server import LiveHive

APP = Path(__file__).parents[1] / "support" / "service_app.py"
PY = sys.executable


def two_services(**api_extra: Any) -> dict[str, Any]:
    return {
        "db": {"run": f"{PY} service_app.py db $PORT", "ready": {"http": "/health"}},
        "api": {
            "run": f"{PY} service_app.py api $PORT",
            "dependsOn": ["db"],
            "env": {"DEP_PORT": "$PORT:db"},
            **api_extra,
        },
    }


def repo_with(tmp_path: Path, services: dict[str, Any], **extra: Any) -> Path:
    template = basic_template(**{"setup": [], "services": services, **extra})
    repo = make_repo(tmp_path / "repo", {"basic": template})
    shutil.copy(APP, repo / "service_app.py")
    git(repo, "add", "service_app.py")
    git(repo, "commit", "-q", "-m", "service app")
    return repo


def services_of(hive: LiveHive, cell_id: str) -> dict[str, dict[str, Any]]:
    body = hive.http.get(f"/api/cells/{cell_id}/services").json()
    return {s["name"]: s for s in body["services"]}


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture
def service_hive(start_hive: Callable[..., LiveHive], tmp_path: Path) -> LiveHive:
    return start_hive([repo_with(tmp_path, two_services())])


def test_three_cells_get_distinct_ports_and_dependencies_are_honoured(
    service_hive: LiveHive,
) -> None:
    hive = service_hive
    cells = [hive.create(f"svc {i}") for i in range(3)]
    ports: list[int] = []
    for created in cells:
        cell = hive.settle(created["id"])
        assert cell["status"] == "ready", cell["lastSetupError"]
        services = services_of(hive, cell["id"])
        assert {s["status"] for s in services.values()} == {"ready"}
        db, api = services["db"]["port"], services["api"]["port"]
        ports += [db, api]
        worktree = Path(cell["workspacePath"])
        assert (worktree / "api-saw-dependency.txt").read_text() == "listening"
        env = httpx.get(f"http://127.0.0.1:{api}/env").json()
        assert env["DEP_PORT"] == str(db), "$PORT:db resolved in env"
        assert env["PORT"] == env["SERVICE_PORT"] == str(api)
        assert env["DB_PORT"] == str(db) and env["API_PORT"] == str(api)
        assert env["HIVE_SERVICE"] == "api" and env["HIVE_CELL_ID"] == cell["id"]
        assert "HIVE_HOME" not in env
        dotenv = (worktree / ".hive" / "env").read_text()
        assert f'DB_PORT="{db}"' in dotenv and f'API_URL="http://127.0.0.1:{api}"' in dotenv
        described = json.loads((worktree / ".hive" / "cell.json").read_text())
        assert described["services"]["db"]["port"] == db
        assert ".hive" not in git(worktree, "status", "--porcelain", "--untracked-files=all")
    assert len(set(ports)) == 6


def test_restart_keeps_the_port_with_a_new_process(service_hive: LiveHive) -> None:
    hive = service_hive
    cell = hive.settle(hive.create("restartable")["id"])
    before = services_of(hive, cell["id"])["api"]
    after = hive.http.post(f"/api/cells/{cell['id']}/services/api/restart").json()
    assert after["status"] == "ready"
    assert after["port"] == before["port"] and after["pid"] != before["pid"]
    assert not alive(before["pid"])
    assert httpx.get(f"{after['url']}/health").status_code == 200
    logs = hive.http.get(f"/api/cells/{cell['id']}/services/api/logs", params={"tail": 5})
    assert "api listening on" in logs.text


def test_a_killed_service_is_reported_crashed(service_hive: LiveHive) -> None:
    hive = service_hive
    cell = hive.settle(hive.create("victim")["id"])
    db = services_of(hive, cell["id"])["db"]
    os.kill(db["pid"], signal.SIGKILL)
    hive.wait_for(cell["id"], lambda _c: services_of(hive, cell["id"])["db"]["status"] == "crashed")
    crashed = services_of(hive, cell["id"])["db"]
    assert crashed["exitCode"] == -signal.SIGKILL and crashed["pid"] is None
    assert "exited" in crashed["lastError"]["message"]


def test_delete_leaves_no_process_and_no_port(service_hive: LiveHive) -> None:
    hive = service_hive
    cell = hive.settle(hive.create("short lived")["id"])
    services = services_of(hive, cell["id"])
    pids = [s["pid"] for s in services.values()]
    children = [c.pid for pid in pids for c in psutil.Process(pid).children(recursive=True)]
    assert hive.http.delete(f"/api/cells/{cell['id']}").status_code == 200
    for pid in pids + children:
        assert not alive(pid), f"process {pid} survived the delete"
    for service in services.values():
        assert port_is_free(service["port"])


def test_server_restart_re_adopts_running_services_without_duplicates(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    repo = repo_with(tmp_path, two_services())
    first = start_hive([repo])
    cell = first.settle(first.create("durable")["id"])
    before = services_of(first, cell["id"])
    first.stop()
    assert all(alive(s["pid"]) for s in before.values()), "services outlive the server"

    second = start_hive([])
    after = services_of(second, cell["id"])
    for name in ("db", "api"):
        assert after[name]["pid"] == before[name]["pid"]
        assert after[name]["status"] == "ready"
    listeners = [c for c in psutil.net_connections("inet") if c.status == "LISTEN"
                 and c.laddr.port == before["api"]["port"]]  # fmt: skip
    assert len(listeners) == 1
    restarted = second.http.post(f"/api/cells/{cell['id']}/services/api/restart").json()
    assert restarted["port"] == before["api"]["port"] and restarted["status"] == "ready"
    assert second.http.delete(f"/api/cells/{cell['id']}").status_code == 200
    assert not alive(before["db"]["pid"])


def escaping(command: str, marker: str) -> str:
    """`command`, after starting a daemon that has left the process group (`setsid`)."""
    daemon = f"setsid sh -c 'echo $$ > {marker}; exec sleep 300' &"
    return f"{daemon} until [ -s {marker} ]; do sleep 0.01; done; {command}"


def test_processes_that_left_their_group_go_with_their_service_or_cell(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    services = {
        "db": {
            "run": escaping(f"exec {PY} service_app.py db $PORT", "db-daemon.pid"),
            "ready": {"http": "/health"},
        },
        "api": {"run": escaping(f"exec {PY} service_app.py api $PORT", "api-daemon.pid")},
    }
    repo = repo_with(tmp_path, services, setup=[escaping("true", "setup-daemon.pid")])
    hive = start_hive([repo])
    cell = hive.settle(hive.create("daemons")["id"])
    assert cell["status"] == "ready", cell["lastSetupError"]
    worktree = Path(cell["workspacePath"])

    def daemon(name: str) -> int:
        return int((worktree / f"{name}-daemon.pid").read_text())

    setup_daemon = daemon("setup")
    assert alive(setup_daemon), "a daemon a setup command started stays while the cell does"
    assert alive(daemon("db")) and alive(daemon("api"))
    os.kill(services_of(hive, cell["id"])["db"]["pid"], signal.SIGKILL)
    hive.wait_for(cell["id"], lambda _c: services_of(hive, cell["id"])["db"]["status"] == "crashed")
    hive.wait_for(cell["id"], lambda _c: not alive(daemon("db")))
    api_daemon = daemon("api")
    assert alive(api_daemon), "only the crashed service's own processes go"
    assert hive.http.delete(f"/api/cells/{cell['id']}").status_code == 200
    assert not alive(api_daemon) and not alive(setup_daemon)
    assert not find_tagged(cell_tag(cell["id"]), prefix=True)


@pytest.mark.parametrize(
    ("api", "expected"),
    [
        ({"env": {"CRASH_AFTER_START": "1"}}, "exited with code 3"),
        ({"run": "sleep 30", "ready": {"tcp": True}, "readyTimeoutMs": 800}, "did not get ready"),
    ],
)
def test_a_service_that_never_gets_ready_fails_the_cell_and_leaves_nothing(
    start_hive: Callable[..., LiveHive], tmp_path: Path, api: dict[str, Any], expected: str
) -> None:
    services = two_services(**api)
    hive = start_hive([repo_with(tmp_path, services)])
    cell = hive.settle(hive.create("doomed")["id"])
    assert cell["status"] == "error"
    error = cell["lastSetupError"]
    assert error["step"] == "ensure_services" and expected in error["message"]
    assert "api" in error["message"]
    states = services_of(hive, cell["id"])
    assert all(s["pid"] is None for s in states.values()), "no process left behind"
    assert all(s["port"] is None or port_is_free(s["port"]) for s in states.values())


def test_a_fixed_port_in_use_names_the_port(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        services = {"web": {"run": f"{PY} service_app.py web $PORT", "port": port}}
        hive = start_hive([repo_with(tmp_path, services)])
        # Forced past the create's port check: the lease itself must say it too.
        cell = hive.settle(hive.create("clash", force=True)["id"])
    assert cell["status"] == "error"
    assert cell["lastSetupError"]["step"] == "allocate_ports"
    assert str(port) in cell["lastSetupError"]["message"]


def test_unknown_dependency_makes_the_template_invalid(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    services = {"api": {"run": "true", "dependsOn": ["ghost"]}}
    hive = start_hive([repo_with(tmp_path, services)])
    body = {"workspaceId": hive.workspace_id(), "templateId": "basic", "name": "x"}
    response = hive.http.post("/api/cells", json=body)
    assert response.status_code == 422
    assert "ghost" in response.json()["message"]


def test_on_failure_restarts_a_crashed_service_on_the_same_port(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    services = {"web": {"run": f"{PY} service_app.py web $PORT", "restart": "on-failure:2"}}
    hive = start_hive([repo_with(tmp_path, services)])
    cell = hive.settle(hive.create("phoenix")["id"])
    before = services_of(hive, cell["id"])["web"]
    os.kill(before["pid"], signal.SIGKILL)

    def back_up(_cell: dict[str, Any]) -> bool:
        web = services_of(hive, cell["id"])["web"]
        return web["status"] == "ready" and web["pid"] not in (None, before["pid"])

    hive.wait_for(cell["id"], back_up)
    after = services_of(hive, cell["id"])["web"]
    assert after["port"] == before["port"] and after["restarts"] == 1
    assert httpx.get(f"{after['url']}/health").status_code == 200
    manual = hive.http.post(f"/api/cells/{cell['id']}/services/web/restart").json()
    assert manual["restarts"] == 0, "a manual restart renews the on-failure budget"


def crash_a_flaky_web(
    start_hive: Callable[..., LiveHive], tmp_path: Path, *, when: str, then: str, limit: int
) -> tuple[LiveHive, dict[str, Any], dict[str, Any]]:
    """A ready cell whose `web` (restart: on-failure) has just been killed. `web` counts
    its starts in `starts`; while `[ "$n" <when> ]` holds (n: earlier starts) it runs
    `then` instead of serving. Returns the server, the cell and the killed `web`."""
    run = (
        "n=$(cat starts 2>/dev/null || echo 0); echo $((n + 1)) > starts; "
        f'if [ "$n" {when} ]; then {then}; fi; exec {PY} service_app.py web $PORT'
    )
    services = {"web": {"run": run, "restart": f"on-failure:{limit}", "readyTimeoutMs": 1500}}
    hive = start_hive([repo_with(tmp_path, services)])
    cell = hive.settle(hive.create("flaky")["id"])
    assert cell["status"] == "ready", cell["lastSetupError"]
    before = services_of(hive, cell["id"])["web"]
    os.kill(before["pid"], signal.SIGKILL)
    return hive, cell, before


@pytest.mark.parametrize("second_start", ["exec sleep 300", "exit 4"])
def test_a_restart_that_fails_is_retried_within_the_limit(
    start_hive: Callable[..., LiveHive], tmp_path: Path, second_start: str
) -> None:
    # The first restart hangs without listening (or exits at once); the next one works.
    hive, cell, before = crash_a_flaky_web(
        start_hive, tmp_path, when="= 1", then=second_start, limit=3
    )

    def back_up(_cell: dict[str, Any]) -> bool:
        web = services_of(hive, cell["id"])["web"]
        return web["status"] == "ready" and web["restarts"] == 2

    hive.wait_for(cell["id"], back_up)
    after = services_of(hive, cell["id"])["web"]
    assert after["port"] == before["port"]
    assert httpx.get(f"{after['url']}/health").status_code == 200
    assert (Path(cell["workspacePath"]) / "starts").read_text().strip() == "3"


@pytest.mark.parametrize(
    ("later_starts", "why"),
    [("exec sleep 300", "did not get ready"), ("exit 5", "exited with code 5")],
)
def test_restarts_stop_at_the_limit(
    start_hive: Callable[..., LiveHive], tmp_path: Path, later_starts: str, why: str
) -> None:
    hive, cell, _ = crash_a_flaky_web(start_hive, tmp_path, when="!= 0", then=later_starts, limit=2)

    def given_up(_cell: dict[str, Any]) -> bool:
        web = services_of(hive, cell["id"])["web"]
        return web["status"] == "error" and web["restarts"] == 2

    hive.wait_for(cell["id"], given_up)
    web = services_of(hive, cell["id"])["web"]
    assert web["pid"] is None and why in web["lastError"]["message"]
    assert "gave up after 2 restart(s)" in web["lastError"]["message"]
    assert (Path(cell["workspacePath"]) / "starts").read_text().strip() == "3"
    assert not find_tagged(cell_tag(cell["id"]), prefix=True), "nothing of it left running"


def test_a_oneshot_job_completes_before_its_dependent_starts(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    services = {
        "migrate": {"run": "sleep 0.3; echo migrated > migrated.txt", "oneshot": True},
        "api": {
            "run": f"test -f migrated.txt && exec {PY} service_app.py api $PORT",
            "dependsOn": {"migrate": "completed"},
        },
    }
    hive = start_hive([repo_with(tmp_path, services)])
    cell = hive.settle(hive.create("migrated")["id"])
    assert cell["status"] == "ready", cell["lastSetupError"]
    states = services_of(hive, cell["id"])
    assert states["migrate"]["status"] == "completed" and states["migrate"]["port"] is None
    assert states["api"]["status"] == "ready"


def test_a_failing_oneshot_fails_the_cell_with_its_output(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    services = {
        "migrate": {"run": "echo 'relation users already exists' >&2; exit 4", "oneshot": True},
        "api": {"run": f"{PY} service_app.py api $PORT", "dependsOn": {"migrate": "completed"}},
    }
    hive = start_hive([repo_with(tmp_path, services)])
    cell = hive.settle(hive.create("bad migration")["id"])
    error = cell["lastSetupError"]
    assert cell["status"] == "error" and error["exitCode"] == 4
    assert "relation users already exists" in error["outputTail"]
    assert services_of(hive, cell["id"])["api"]["status"] == "not started"


def test_a_dependency_cycle_makes_the_template_invalid(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    services = {
        "a": {"run": "true", "dependsOn": ["b"]},
        "b": {"run": "true", "dependsOn": ["a"]},
    }
    hive = start_hive([repo_with(tmp_path, services)])
    body = hive.http.get("/api/templates", params={"workspaceId": hive.workspace_id()}).json()
    [template] = body["templates"]
    assert not template["valid"]
    assert "cycle" in template["errors"][0]["message"]


def test_services_start_with_default_signals_and_no_inherited_descriptors(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    services = {
        "web": {
            "run": "trap -p > traps.txt; ls /proc/$$/fd > fds.txt; "
            f"exec {PY} service_app.py web $PORT"
        }
    }
    hive = start_hive([repo_with(tmp_path, services, env={"SELF": "http://x:$PORT:web/"})])
    cell = hive.settle(hive.create("clean start")["id"])
    worktree = Path(cell["workspacePath"])
    assert "SIGPIPE" not in (worktree / "traps.txt").read_text()
    fds = {int(fd) for fd in (worktree / "fds.txt").read_text().split()}
    assert fds <= {0, 1, 2, 3, 255}, fds  # bash's own script and tty-less duplicates only
    web = services_of(hive, cell["id"])["web"]
    assert f'SELF="http://x:{web["port"]}/"' in (worktree / ".hive" / "env").read_text()


def test_a_service_setup_run_by_start_is_on_record_while_it_runs(
    start_hive: Callable[..., LiveHive], tmp_path: Path, settings: Settings
) -> None:
    # On record, a server killed during it would stop it at its next start.
    setup = "if [ -f again ]; then echo $$ > setup.pid; sleep 2; fi"
    services = {"web": {"run": f"exec {PY} service_app.py web $PORT", "setup": [setup]}}
    hive = start_hive([repo_with(tmp_path, services)])
    cell = hive.settle(hive.create("set up twice")["id"])
    worktree = Path(cell["workspacePath"])
    hive.http.post(f"/api/cells/{cell['id']}/services/web/stop")
    (worktree / "again").touch()

    def recorded() -> list[tuple[str, int]]:
        with closing(sqlite3.connect(settings.database_path)) as conn:
            return conn.execute("SELECT kind, pid FROM cell_processes").fetchall()

    with ThreadPoolExecutor(1) as pool:
        started = pool.submit(hive.http.post, f"/api/cells/{cell['id']}/services/web/start")
        hive.wait_for(cell["id"], lambda _c: (worktree / "setup.pid").exists())
        pid = int((worktree / "setup.pid").read_text())
        assert ("service-setup", pid) in recorded()
        assert started.result().json()["status"] == "ready"
    assert recorded() == []


def test_following_a_log_ends_when_the_service_stops(service_hive: LiveHive) -> None:
    hive = service_hive
    cell = hive.settle(hive.create("followed")["id"])
    path = f"/api/cells/{cell['id']}/services/api/logs"
    lines: list[str] = []
    params = {"follow": "true", "tail": 1}
    with (
        httpx.Client(base_url=hive.url, timeout=30, headers=hive.auth) as client,
        client.stream("GET", path, params=params) as response,
    ):
        chunks = response.iter_lines()
        lines.append(next(chunks))
        hive.http.post(f"/api/cells/{cell['id']}/services/api/stop")
        lines.extend(chunks)  # returns only because the server ends the stream
    assert "api listening on" in lines[0]


def test_a_failed_restart_answers_502_with_the_log_tail(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    services = {"web": {"run": f"test ! -f broken && exec {PY} service_app.py web $PORT"}}
    hive = start_hive([repo_with(tmp_path, services)])
    cell = hive.settle(hive.create("breakable")["id"])
    (Path(cell["workspacePath"]) / "broken").touch()
    response = hive.http.post(f"/api/cells/{cell['id']}/services/web/restart")
    assert response.status_code == 502
    body = response.json()
    assert "exited with code 1" in body["message"] and "command" in body
