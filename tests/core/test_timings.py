"""summarize_runs: one line per run from its timing rows."""

from __future__ import annotations

from dataclasses import dataclass

from hive.core.timings import is_top_level, summarize_runs


@dataclass(frozen=True)
class Row:
    run_id: str
    step: str
    duration_ms: float
    status: str = "ok"
    started_at: str = "2024-01-01T00:00:00.000Z"
    workflow: str = "create"
    attempt: int = 1


def test_is_top_level() -> None:
    assert is_top_level("create_worktree")
    assert not is_top_level("create_worktree:git_add")


def test_empty() -> None:
    assert summarize_runs([]) == []


def test_substeps_excluded_from_totals() -> None:
    rows = [
        Row("r1", "create_worktree:git_add", 50.0),
        Row("r1", "create_worktree", 100.0),
        Row("r1", "run_setup:command_1", 10.0, status="error"),
        Row("r1", "run_setup", 20.5),
    ]
    [run] = summarize_runs(rows)
    assert run["totalMs"] == 120.5
    assert run["steps"] == 2
    # An error in a sub-step alone does not fail the run.
    assert run["status"] == "ok"
    assert run["failedStep"] is None


def test_failed_step_is_first_failed_top_level_step() -> None:
    rows = [
        Row("r1", "create_worktree", 1.0),
        Row("r1", "run_setup:cmd", 1.0, status="error"),
        Row("r1", "run_setup", 1.0, status="error"),
        Row("r1", "mark_ready", 1.0, status="error"),
    ]
    [run] = summarize_runs(rows)
    assert run["status"] == "error"
    assert run["failedStep"] == "run_setup"


def test_runs_in_order_of_first_appearance() -> None:
    rows = [
        Row("b", "create_worktree", 1.0, started_at="2024-01-01T00:00:05.000Z"),
        Row("a", "delete_cell_record", 2.0, workflow="delete", attempt=3),
        Row("b", "run_setup", 1.0, started_at="2024-01-01T00:00:01.000Z"),
        Row("c", "x:y", 1.0),
    ]
    runs = summarize_runs(rows)
    assert [run["runId"] for run in runs] == ["b", "a", "c"]
    b, a, c = runs
    assert b["startedAt"] == "2024-01-01T00:00:01.000Z"  # earliest row, sub-step or not
    assert b["totalMs"] == 2.0
    assert a["workflow"] == "delete"
    assert a["attempt"] == 3
    assert c == {
        "workflow": "create",
        "runId": "c",
        "attempt": 1,
        "startedAt": "2024-01-01T00:00:00.000Z",
        "totalMs": 0.0,
        "steps": 0,
        "status": "ok",
        "failedStep": None,
    }


def test_total_is_rounded() -> None:
    rows = [Row("r", "s1", 0.1), Row("r", "s2", 0.2)]
    assert summarize_runs(rows)[0]["totalMs"] == 0.3
