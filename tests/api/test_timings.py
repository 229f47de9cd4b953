"""Timing analytics through a real server: pages, bounds, summary, chain, deleted cells."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from hive.store.database import open_database
from hive.store.records import TimingEvent
from hive.store.timings import TimingStore
from tests.support.server import LiveHive

ROW = TimingEvent(
    cell_id="c" * 32,
    cell_name="synthetic",
    workspace_id="w",
    template_id="synthetic",
    workflow="create",
    run_id="r",
    step="run_setup",
    status="ok",
    started_at="2026-01-01T00:00:00.000Z",
    duration_ms=1.0,
    attempt=1,
)


def insert(database: Path, events: list[TimingEvent]) -> list[int]:
    """Rows written through Hive's own store into the server's database."""

    async def write() -> list[int]:
        db = await open_database(database)
        try:
            store = TimingStore(db)
            return [(await store.add(event)).id or 0 for event in events]
        finally:
            await db.close()

    return asyncio.run(write())


def test_pages_are_stable_while_rows_are_inserted(hive: LiveHive) -> None:
    ids = insert(hive.settings.database_path, [replace(ROW, run_id=f"r{n}") for n in range(7)])
    params = {"templateId": "synthetic", "limit": 3}
    first = hive.http.get("/api/cells/timings/global", params=params).json()
    assert [row["id"] for row in first["steps"]] == ids[4:]

    # New rows arrive between pages: they are newer than the cursor and never shift it.
    insert(hive.settings.database_path, [replace(ROW, run_id="late")] * 3)
    seen = [row["id"] for row in first["steps"]]
    cursor = first["nextCursor"]
    while cursor is not None:
        page = hive.http.get(
            "/api/cells/timings/global", params={**params, "cursor": cursor}
        ).json()
        seen = [row["id"] for row in page["steps"]] + seen
        cursor = page["nextCursor"]
    assert seen == ids


def test_bad_bounds_and_cursors_are_422_naming_the_field(hive: LiveHive) -> None:
    for params, field in (
        ({"since": "yesterday"}, "query.since"),
        ({"until": "3 weeks"}, "query.until"),
        ({"cursor": "not-a-cursor"}, "query.cursor"),
        ({"since": "1h", "until": "2h"}, "query.until"),
    ):
        response = hive.http.get("/api/cells/timings/global", params=params)
        assert response.status_code == 422, (params, response.text)
        assert [e["path"] for e in response.json()["errors"]] == [field]
    ok = hive.http.get("/api/cells/timings/global", params={"since": "1d", "until": "1m"})
    assert ok.status_code == 200


def test_since_keeps_only_recent_rows(hive: LiveHive) -> None:
    [old] = insert(hive.settings.database_path, [ROW])
    assert hive.http.get("/api/cells/timings/global", params={"since": "2999-01-01"}).json() == {
        "steps": [],
        "runs": [],
        "nextCursor": None,
    }
    recent = hive.http.get("/api/cells/timings/global", params={"since": "1h"}).json()
    assert old in [row["id"] for row in recent["steps"]]


def test_summary_numbers_on_known_durations(hive: LiveHive) -> None:
    events = []
    # run_setup 1..19 ms, every fifth run failed at it. Nearest rank on 19 values:
    # p50 = ceil(9.5) = 10th, p90 = ceil(17.1) = 18th (a floored rank would be 9, 17).
    for n in range(1, 20):
        run = replace(ROW, run_id=f"r{n}")
        events.append(replace(run, duration_ms=float(n), status="error" if n % 5 == 0 else "ok"))
        events.append(replace(run, step="mark_ready", duration_ms=1000.0))
    insert(hive.settings.database_path, events)
    body = hive.http.get(
        "/api/cells/timings/global", params={"summary": "1", "templateId": "synthetic"}
    ).json()
    assert body["percentiles"] == "nearest-rank"
    [template] = body["templates"]
    assert template["templateId"] == "synthetic"
    setup, ready = template["steps"]
    assert setup == {
        "step": "run_setup",
        "count": 19,
        "p50Ms": 10.0,
        "p90Ms": 18.0,
        "maxMs": 19.0,
        "failureRate": 0.1579,
    }
    assert ready["step"] == "mark_ready" and ready["p90Ms"] == 1000.0
    assert template["runs"] == [
        {"workflow": "create", "count": 19, "p50Ms": 1010.0, "p90Ms": 1018.0, "failureRate": 0.1579}
    ]


def test_a_deleted_cells_timings_stay_readable(hive: LiveHive) -> None:
    cell = hive.settle(hive.create("gone soon")["id"])
    assert hive.http.delete(f"/api/cells/{cell['id']}").status_code == 200
    assert hive.http.get(f"/api/cells/{cell['id']}").status_code == 404

    response = hive.http.get(f"/api/cells/{cell['id']}/timings")
    assert response.status_code == 200, response.text
    body = response.json()
    assert [run["workflow"] for run in body["runs"]] == ["create", "delete"]
    chain = hive.http.get(f"/api/cells/{cell['id']}/timings", params={"view": "chain"}).json()
    assert chain["workflow"] == "create" and chain["links"]
    assert hive.http.get(f"/api/cells/{'0' * 32}/timings").status_code == 404


def test_chain_of_a_ready_cell(hive: LiveHive) -> None:
    cell = hive.settle(hive.create("chained")["id"])
    body = hive.http.get(f"/api/cells/{cell['id']}/timings", params={"view": "chain"}).json()
    assert body["runId"] and body["status"] == "ok" and body["attempt"] == 1
    top = [link["step"] for link in body["links"] if link["depth"] == 0]
    assert top[0] == "create_request_received" and top[-1] == "mark_ready"
    assert "create_worktree" in top and "run_setup" in top
    offsets = [link["offsetMs"] for link in body["links"] if link["depth"] == 0]
    assert offsets == sorted(offsets) and offsets[0] == 0
    last = body["links"][-1]
    assert body["totalMs"] >= last["offsetMs"] + last["durationMs"] - 1
    bad = hive.http.get(f"/api/cells/{cell['id']}/timings", params={"view": "gantt"})
    assert bad.status_code == 422
