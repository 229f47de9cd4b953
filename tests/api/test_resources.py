"""What cells cost, through the real server: real services, a real command agent in
tmux, sampled every 0.2 s."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.repos import basic_template, make_repo
from tests.support.server import LiveHive

PY = shlex.quote(sys.executable)
MB = 1_000_000
#: 50 MB of bytes written (so resident), then idle.
HOG = f"exec {PY} -c 'b = bytes(50_000_000) + bytes(1); import time; time.sleep(600)'"
SPIN = f"exec {PY} -c 'while True: pass'"
# A child that leaves the service's process group (its own session) but keeps the tag.
ESCAPE = "setsid sleep 300 & exec sleep 300"


def wait_resources(
    hive: LiveHive, cell_id: str, predicate: Callable[[dict[str, Any]], bool], timeout: float = 30
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        answer = hive.http.get(f"/api/cells/{cell_id}/resources")
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        if predicate(body):
            return body
        assert time.monotonic() < deadline, f"resources never got there: {body}"
        time.sleep(0.1)


def service(body: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in body["services"] if s["name"] == name)
    return found


def service_now(name: str, key: str, at_least: float) -> Callable[[dict[str, Any]], bool]:
    def check(body: dict[str, Any]) -> bool:
        now = service(body, name)["now"]
        return bool(now and now[key] >= at_least)

    return check


@pytest.fixture
def resource_hive(start_hive: Callable[..., LiveHive], tmp_path: Path) -> LiveHive:
    repo = make_repo(
        tmp_path / "repo",
        {
            "busy": basic_template(
                id="busy",
                setup=[],
                services={"hog": {"run": HOG}, "spin": {"run": SPIN}, "escape": {"run": ESCAPE}},
            ),
            "plain": basic_template(id="plain", setup=[]),
        },
    )
    return start_hive([repo], sample_interval_s=0.2)


def test_memory_cpu_and_escaped_processes_are_measured_per_service(
    resource_hive: LiveHive,
) -> None:
    hive = resource_hive
    cell = hive.settle(hive.create("busy one", template="busy")["id"])
    assert cell["status"] == "ready", cell["lastSetupError"]
    try:
        body = wait_resources(hive, cell["id"], service_now("hog", "rss", 50 * MB))
        hog = service(body, "hog")
        assert 50 * MB <= hog["now"]["rss"] < 150 * MB
        assert hog["status"] == "ready"
        assert body["now"]["rss"] >= hog["now"]["rss"]

        body = wait_resources(hive, cell["id"], service_now("spin", "cpu", 50))
        assert body["now"]["cpu"] >= service(body, "spin")["now"]["cpu"]
        assert service(body, "hog")["now"]["cpu"] < 20

        # The setsid child is in a group of its own, found by its tag.
        escape = service(body, "escape")
        assert escape["now"]["processes"] == 2
        pids = [p["pid"] for p in body["processes"] if p["scope"] == "service:escape"]
        assert len({os.getpgid(pid) for pid in pids}) == 2
        assert all("sleep 300" in p["command"] for p in body["processes"] if p["pid"] in pids)

        # Averages and peaks come from the stored samples.
        body = wait_resources(hive, cell["id"], lambda b: b["averages"].get("1m") is not None)
        assert set(body["averages"]) == {"1m", "5m", "15m", "1h"}
        assert body["peak"]["rss"] >= 50 * MB
        assert service(body, "hog")["peak"]["rss"] >= 50 * MB
        assert body["agent"]["measured"] is False
        assert body["setup"] is None
        # The disk meter measures the cell once its run settled: the same row is here.
        body = wait_resources(hive, cell["id"], lambda b: b["disk"] is not None)
        assert body["disk"]["apparentBytes"] > 0 and body["disk"]["complete"] is True
    finally:
        assert hive.http.delete(f"/api/cells/{cell['id']}").status_code == 200


def test_every_cell_is_listed_sortable_and_bad_input_is_a_4xx(resource_hive: LiveHive) -> None:
    hive = resource_hive
    plain = hive.settle(hive.create("a plain one", template="plain")["id"])
    busy = hive.settle(hive.create("z busy one", template="busy")["id"])
    try:
        wait_resources(hive, busy["id"], service_now("hog", "rss", 50 * MB))
        answer = hive.http.get("/api/resources", params={"sort": "memory"})
        assert answer.status_code == 200
        rows = answer.json()["cells"]
        assert [row["cellId"] for row in rows] == [busy["id"], plain["id"]]
        assert rows[0]["now"]["rss"] >= 50 * MB
        assert {s["name"] for s in rows[0]["services"]} == {"hog", "spin", "escape"}
        assert rows[1]["now"] == {"cpu": 0.0, "rss": 0, "processes": 0}
        assert rows[1]["services"] == []

        by_name = hive.http.get(
            "/api/resources", params={"sort": "name", "workspaceId": hive.workspace_id()}
        ).json()["cells"]
        assert [row["name"] for row in by_name] == ["a plain one", "z busy one"]

        # The footprint kept for estimates: its services' memory, services and ports.
        row = next(
            r for r in hive.http.get("/api/resources").json()["cells"] if r["cellId"] == busy["id"]
        )
        assert row["peakRss"] >= 50 * MB and row["cpuMean"] is not None

        bad = hive.http.get("/api/resources", params={"sort": "size"})
        assert bad.status_code == 422 and "sort" in bad.json()["message"]
        assert hive.http.get("/api/resources", params={"workspaceId": "nope"}).status_code == 404
        assert hive.http.get("/api/cells/nope/resources").status_code == 404
    finally:
        hive.http.delete(f"/api/cells/{busy['id']}")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_a_command_agent_is_measured_with_its_pane(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {"script": basic_template(id="script", setup=[], agent={"type": "command", "run": HOG})},
    )
    hive = start_hive([repo], sample_interval_s=0.2)
    cell = hive.settle(hive.create("scripted", template="script")["id"])
    assert cell["status"] == "ready", cell["lastSetupError"]

    def agent_holds_50_mb(body: dict[str, Any]) -> bool:
        figures = body["agent"]["figures"]
        return bool(figures and figures["now"] and figures["now"]["rss"] >= 50 * MB)

    body = wait_resources(hive, cell["id"], agent_holds_50_mb)
    assert body["agent"]["type"] == "command" and body["agent"]["measured"] is True
    agents = [p for p in body["processes"] if p["scope"] == "agent"]
    # The pane's runner (no tag: tmux's environment) is found through its group.
    assert any("run.sh" in p["command"] for p in agents)
    assert any("time.sleep(600)" in p["command"] for p in agents)
