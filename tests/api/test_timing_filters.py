"""The global timings by step, and the values their filters can take (deleted cells too)."""

from __future__ import annotations

from dataclasses import replace

from tests.api.test_timings import ROW, insert
from tests.support.server import LiveHive


def test_step_filters_rows_and_summary(hive: LiveHive) -> None:
    insert(
        hive.settings.database_path,
        [
            replace(ROW, step="run_setup", duration_ms=5.0),
            replace(ROW, step="mark_ready", duration_ms=7.0),
            replace(ROW, step="run_setup", duration_ms=9.0, status="error"),
        ],
    )
    params = {"templateId": "synthetic", "step": "run_setup"}
    rows = hive.http.get("/api/cells/timings/global", params=params).json()["steps"]
    assert [(row["step"], row["durationMs"]) for row in rows] == [
        ("run_setup", 5.0),
        ("run_setup", 9.0),
    ]
    summary = hive.http.get("/api/cells/timings/global", params={**params, "summary": 1}).json()
    [template] = summary["templates"]
    assert [(s["step"], s["count"], s["maxMs"], s["failureRate"]) for s in template["steps"]] == [
        ("run_setup", 2, 9.0, 0.5)
    ]


def test_choices_name_every_template_step_and_cell_deleted_ones_too(hive: LiveHive) -> None:
    kept = hive.settle(hive.create("kept")["id"])
    gone = hive.settle(hive.create("gone")["id"])
    assert hive.http.delete(f"/api/cells/{gone['id']}").status_code == 200
    insert(hive.settings.database_path, [replace(ROW, cell_name="old name"), ROW])

    response = hive.http.get("/api/cells/timings/choices")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["templates"] == ["basic", "synthetic"]
    assert {"create_worktree", "run_setup", "mark_ready", "remove_workspace"} <= set(body["steps"])
    assert body["steps"] == sorted(set(body["steps"]))
    cells = {cell["id"]: cell for cell in body["cells"]}
    assert cells[kept["id"]]["deleted"] is False and cells[kept["id"]]["name"] == "kept"
    assert cells[gone["id"]]["deleted"] is True and cells[gone["id"]]["templateId"] == "basic"
    # Never a cell: its rows alone; named as its newest row says, newest activity first.
    synthetic = cells[ROW.cell_id]
    assert synthetic["deleted"] is True and synthetic["name"] == "synthetic"
    assert body["cells"][0]["id"] == ROW.cell_id
    assert body["workspaces"] == [
        {"id": hive.workspace_id(), "label": "repo"},
        {"id": "w", "label": None},
    ]
