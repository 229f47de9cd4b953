"""Summaries of timing rows: one line per run, computed from all its steps."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol


class TimingRow(Protocol):
    @property
    def workflow(self) -> str: ...
    @property
    def run_id(self) -> str: ...
    @property
    def step(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def started_at(self) -> str: ...
    @property
    def duration_ms(self) -> float: ...
    @property
    def attempt(self) -> int: ...


def is_top_level(step: str) -> bool:
    """Sub-steps (``create_worktree:git_add``) are part of their step's duration."""
    return ":" not in step


def summarize_runs(rows: Iterable[TimingRow]) -> list[dict[str, Any]]:
    """Runs in order of first appearance, with total duration of their top-level steps."""
    runs: dict[str, dict[str, Any]] = {}
    for row in rows:
        run = runs.setdefault(
            row.run_id,
            {
                "workflow": row.workflow,
                "runId": row.run_id,
                "attempt": row.attempt,
                "startedAt": row.started_at,
                "totalMs": 0.0,
                "steps": 0,
                "status": "ok",
                "failedStep": None,
            },
        )
        run["startedAt"] = min(run["startedAt"], row.started_at)
        if not is_top_level(row.step):
            continue
        run["steps"] += 1
        run["totalMs"] = round(run["totalMs"] + row.duration_ms, 3)
        if row.status == "error" and run["status"] == "ok":
            run["status"] = "error"
            run["failedStep"] = row.step
    return list(runs.values())
