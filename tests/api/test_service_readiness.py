"""What the API says about services: the check each one is ready by (a service that
never listens needs no port), config faults as 422 naming the field, and log follows
that last through quiet spells."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.support.repos import basic_template, git, make_repo
from tests.support.server import LiveHive


def repo_with(tmp_path: Path, services: dict[str, Any]) -> Path:
    return make_repo(tmp_path / "repo", {"basic": basic_template(setup=[], services=services)})


def services_of(hive: LiveHive, cell_id: str) -> dict[str, dict[str, Any]]:
    response = hive.http.get(f"/api/cells/{cell_id}/services")
    assert response.status_code == 200, response.text
    return {s["name"]: s for s in response.json()["services"]}


def test_a_service_that_never_listens_is_ready_without_a_port(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    services = {
        "worker": {"run": "exec sleep 300"},
        "web": {"run": "exec python3 -m http.server --bind 127.0.0.1 $PORT"},
        "checked": {"run": "exec sleep 300", "ready": {"command": "true"}},
    }
    hive = start_hive([repo_with(tmp_path, services)], service_start_grace_s=0.3)
    cell = hive.settle(hive.create("workers")["id"])
    assert cell["status"] == "ready", cell["lastSetupError"]
    listed = services_of(hive, cell["id"])
    worker, web, checked = listed["worker"], listed["web"], listed["checked"]
    assert worker["status"] == "ready" and worker["port"] is None and worker["url"] is None
    assert worker["readiness"] == "started, still alive after 0.3s"
    assert web["port"] is not None and web["readiness"] == f"tcp :{web['port']}"
    assert checked["port"] is None and checked["readiness"] == "command `true` exits 0"
    env = (Path(cell["worktreePath"]) / ".hive" / "env").read_text()
    assert "WEB_PORT=" in env and "WORKER_PORT" not in env


def test_a_service_without_a_port_that_exits_at_once_fails_the_cell(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    services = {"worker": {"run": "echo 'cannot connect to the queue' >&2; exit 7"}}
    hive = start_hive([repo_with(tmp_path, services)], service_start_grace_s=5)
    cell = hive.settle(hive.create("broken worker")["id"])
    assert cell["status"] == "error"
    error = cell["lastSetupError"]
    assert "exited with code 7 before it was ready" in error["message"]
    assert "cannot connect to the queue" in error["outputTail"]


def test_a_config_fault_in_a_service_is_422_naming_the_field(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    services = {"worker": {"run": "exec sleep 300"}}
    repo = repo_with(tmp_path, services)
    hive = start_hive([repo], service_start_grace_s=0.1)
    cell = hive.settle(hive.create("reconfigured")["id"])
    assert cell["status"] == "ready", cell["lastSetupError"]
    # The config changes under the running cell: the worker now refers to the port of
    # a oneshot that has none.
    config = json.loads((repo / "hive.config.json").read_text())
    config["templates"]["basic"]["services"] = {
        "migrate": {"run": "true", "oneshot": True},
        "worker": {"run": "exec sleep 300", "env": {"DB": "127.0.0.1:$PORT:migrate"}},
    }
    (repo / "hive.config.json").write_text(json.dumps(config))
    git(repo, "commit", "-qam", "break the config")
    response = hive.http.post(f"/api/cells/{cell['id']}/services/worker/restart")
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "ConfigError"
    assert body["path"] == "templates.basic.services.worker.env.DB"
    assert "$PORT:migrate" in body["message"]
    # The listing still answers, without the check it cannot work out.
    assert services_of(hive, cell["id"])["worker"]["status"] == "ready"


def test_one_route_per_action_and_typed_answers(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    hive = start_hive([repo_with(tmp_path, {"worker": {"run": "exec sleep 300"}})])
    cell = hive.settle(hive.create("acted on")["id"])
    base = f"/api/cells/{cell['id']}/services/worker"
    stopped = hive.http.post(f"{base}/stop").json()
    assert (stopped["status"], stopped["pid"]) == ("stopped", None)
    started = hive.http.post(f"{base}/start").json()
    assert started["status"] == "ready" and started["readyReason"].startswith("still running")
    assert hive.http.post(f"{base}/explode").status_code in (404, 405)
    schema = hive.http.get("/openapi.json").json()
    paths = schema["paths"]
    for action in ("start", "stop", "restart"):
        operation = paths[f"/api/cells/{{cell_id}}/services/{{name}}/{action}"]["post"]
        ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok == {"$ref": "#/components/schemas/ServiceOut"}
    assert "lastError" in schema["components"]["schemas"]["ServiceOut"]["properties"]
    delete = paths["/api/cells/{cell_id}"]["delete"]["responses"]["200"]
    assert delete["content"]["application/json"]["schema"]["$ref"].endswith("DeletedCell")


def test_a_log_follow_streams_through_quiet_spells(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    # Quiet for longer than any poll or keep-alive interval, twice, then talks again.
    run = "echo first; sleep 2.5; echo second; sleep 2.5; echo third; exec sleep 300"
    hive = start_hive([repo_with(tmp_path, {"talker": {"run": run}})], service_start_grace_s=0.1)
    cell = hive.settle(hive.create("talker")["id"])
    path = f"/api/cells/{cell['id']}/services/talker/logs"
    seen: list[str] = []
    with (
        httpx.Client(base_url=hive.url, headers=hive.http.headers, timeout=30) as client,
        client.stream("GET", path, params={"follow": "true", "tail": 50}) as response,
    ):
        assert response.status_code == 200
        for line in response.iter_lines():
            seen.append(line)
            if line == "third":
                break
    assert [line for line in seen if line in ("first", "second", "third")] == [
        "first",
        "second",
        "third",
    ]


def test_following_a_service_that_is_not_running_ends_at_once(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    hive = start_hive([repo_with(tmp_path, {"job": {"run": "echo done", "oneshot": True}})])
    cell = hive.settle(hive.create("finished")["id"])
    # Returns at all only because the server ends the stream.
    response = hive.http.get(
        f"/api/cells/{cell['id']}/services/job/logs", params={"follow": "true"}
    )
    assert response.status_code == 200 and "done" in response.text
