"""Live streams through a real server and a real HTTP client reading them: events while
a cell is still being made, strictly increasing ids, exact resumption after
Last-Event-ID, tombstones for deleted cells, subscribers that stall."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.repos import basic_template, make_repo
from tests.support.server import LiveHive
from tests.support.sse import Event, events

# Setup waits for a file the test makes: the cell is held in `run_setup` until then.
HELD = basic_template(setup=['while [ ! -f "$HIVE_CELL_PATH.go" ]; do sleep 0.02; done'])


@pytest.fixture
def held_hive(start_hive: Callable[..., LiveHive], tmp_path: Path) -> LiveHive:
    # Heartbeats (and the re-read that goes with them) far apart: what arrives, arrives
    # because it was published.
    return start_hive([make_repo(tmp_path / "repo", {"basic": HELD})], stream_heartbeat_s=120)


def client(hive: LiveHive, **headers: str) -> httpx.Client:
    return httpx.Client(base_url=hive.url, headers={**hive.http.headers, **headers}, timeout=30)


def release(cell: dict[str, Any]) -> None:
    Path(cell["worktreePath"] + ".go").touch()


def read_until(stream: Any, done: Callable[[Event], bool]) -> list[Event]:
    seen = []
    for event in stream:
        seen.append(event)
        if done(event):
            break
    return seen


def test_steps_arrive_while_the_cell_is_made_and_the_stream_ends_at_ready(
    held_hive: LiveHive,
) -> None:
    hive = held_hive
    cell = hive.create("watched")
    with client(hive) as http, http.stream("GET", f"/api/cells/{cell['id']}/timings/stream") as r:
        assert r.status_code == 200
        stream = events(r)
        early = read_until(stream, lambda e: e.event == "timing" and e.data["step"] == "run_setup")
        # Seen live: setup has begun and cannot end before the test lets it.
        assert early[-1].data["phase"] == "begin"
        assert hive.cell(cell["id"])["status"] == "spawning"
        worktree = [e.data["phase"] for e in early if e.data.get("step") == "create_worktree"]
        assert worktree == ["begin", "end"]
        release(hive.cell(cell["id"]))
        rest = list(stream)  # returns only because the server ends the stream
    seen = early + rest
    ids = [e.id for e in seen]
    assert all(i is not None for i in ids) and ids == sorted(set(ids)), "ids strictly increase"
    assert seen[-1].event == "cell" and seen[-1].data["status"] == "ready"
    assert seen[-1].data["settled"] is True  # the run's last word
    ended = [e.data["step"] for e in seen if e.event == "timing" and e.data["phase"] == "end"]
    assert ended.index("run_setup") < ended.index("mark_ready")


def test_a_reconnect_gets_exactly_the_events_it_missed(held_hive: LiveHive) -> None:
    hive = held_hive
    cell = hive.create("interrupted viewer")
    path = f"/api/cells/{cell['id']}/timings/stream"
    with client(hive) as http, http.stream("GET", path) as r:
        first = read_until(events(r), lambda e: e.event == "timing" and e.data["phase"] == "begin"
                           and e.data["step"] == "run_setup")  # fmt: skip
    last = first[-1].id
    assert last is not None
    release(hive.cell(cell["id"]))  # steps happen while the viewer is away
    hive.settle(cell["id"])
    with client(hive, **{"Last-Event-ID": str(last)}) as http, http.stream("GET", path) as r:
        resumed = list(events(r))
    with client(hive) as http, http.stream("GET", path) as r:
        everything = list(events(r))
    assert [e.id for e in first + resumed] == [e.id for e in everything]
    assert resumed and all(e.id is not None and e.id > last for e in resumed)


def test_the_workspace_stream_has_cells_and_tombstones(hive: LiveHive) -> None:
    workspace = hive.workspace_id()
    with client(hive) as http, http.stream("GET", f"/api/workspaces/{workspace}/stream") as r:
        stream = events(r)
        cell = hive.create("short lived")
        hive.settle(cell["id"])
        assert hive.http.delete(f"/api/cells/{cell['id']}").status_code == 200
        seen = read_until(stream, lambda e: e.event == "cell_removed")
    assert seen[-1].data == {"id": cell["id"]}
    statuses = [e.data["status"] for e in seen if e.event == "cell"]
    assert statuses[0] == "pending" and "ready" in statuses and statuses[-1] == "deleting"


def test_stalled_subscribers_do_not_hold_provisioning_back(hive: LiveHive) -> None:
    # Connections that never read a byte, on the busiest stream of all.
    with ThreadPoolExecutor(3) as pool:
        stalled = [client(hive) for _ in range(3)]
        streams = [c.stream("GET", "/api/cells/timings/stream") for c in stalled]
        opened = list(pool.map(lambda s: s.__enter__(), streams))
        try:
            assert all(r.status_code == 200 for r in opened)
            cells = [hive.create(f"busy {i}") for i in range(3)]
            for cell in cells:
                assert hive.settle(cell["id"])["status"] == "ready"
        finally:
            for stream, http in zip(streams, stalled, strict=True):
                stream.__exit__(None, None, None)
                http.close()


def test_a_bad_last_event_id_is_a_422(hive: LiveHive) -> None:
    response = hive.http.get("/api/cells/timings/stream", headers={"Last-Event-ID": "yesterday"})
    assert response.status_code == 422
    assert "Last-Event-ID" in response.json()["message"]


def test_an_idle_stream_gets_heartbeats(start_hive: Callable[..., LiveHive], repo: Path) -> None:
    hive = start_hive([repo], stream_heartbeat_s=0.2)
    comments: list[str] = []
    with (
        client(hive) as http,
        http.stream("GET", f"/api/workspaces/{hive.workspace_id()}/stream") as r,
    ):
        for line in r.iter_lines():
            if line.startswith(":"):
                comments.append(line)
                break
    assert comments, "a comment came while nothing happened"


def test_the_services_stream_starts_with_a_snapshot_then_changes(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    template = basic_template(setup=[], services={"worker": {"run": "exec sleep 300"}})
    hive = start_hive(
        [make_repo(tmp_path / "repo", {"basic": template})],
        service_start_grace_s=0.1,
        stream_heartbeat_s=120,
    )
    cell = hive.settle(hive.create("served")["id"])
    with client(hive) as http, http.stream("GET", f"/api/cells/{cell['id']}/services/stream") as r:
        stream = events(r)
        snapshot = next(stream)
        assert snapshot.event == "snapshot"
        assert [(s["name"], s["status"]) for s in snapshot.data["services"]] == [
            ("worker", "ready")
        ]
        hive.http.post(f"/api/cells/{cell['id']}/services/worker/stop")
        changes = read_until(stream, lambda e: e.data.get("status") == "stopped")
    assert [e.data["status"] for e in changes] == ["stopping", "stopped"]
    assert all(e.event == "service" and e.id is not None and e.id > (snapshot.id or 0)
               for e in changes)  # fmt: skip


def test_streams_of_unknown_things_and_bad_cursors_are_4xx(hive: LiveHive) -> None:
    for path in (
        "/api/cells/nope/timings/stream",
        "/api/workspaces/nope/stream",
        "/api/cells/nope/services/stream",
    ):
        response = hive.http.get(path)
        assert response.status_code == 404, (path, response.text)
    for bad in ("-1", "x"):
        response = hive.http.get("/api/cells/timings/stream", params={"after": bad})
        assert response.status_code == 422, response.text
        assert "after" in response.json()["message"]
    response = hive.http.get("/api/cells/timings/stream", headers={"Last-Event-ID": "-3"})
    assert response.status_code == 422


def test_the_workspace_stream_with_steps_has_each_cells_steps_too(held_hive: LiveHive) -> None:
    hive = held_hive
    workspace = hive.workspace_id()
    path = f"/api/workspaces/{workspace}/stream"
    cell = hive.create("stepped")
    with client(hive) as http, http.stream("GET", path, params={"steps": "true"}) as r:
        stream = events(r)
        early = read_until(stream, lambda e: e.event == "timing" and e.data["step"] == "run_setup")
        assert early[-1].data["phase"] == "begin" and early[-1].data["cellId"] == cell["id"]
        release(hive.cell(cell["id"]))
        seen = early + read_until(
            stream, lambda e: e.event == "cell" and e.data["status"] == "ready"
        )
    kinds = {e.event for e in seen}
    assert {"cell", "timing"} <= kinds
    # Without it, the stream keeps to the cells themselves.
    with client(hive) as http, http.stream("GET", path) as r:
        plain = read_until(events(r), lambda e: e.event == "cell" and e.data["status"] == "ready")
    assert {e.event for e in plain} == {"cell"}
