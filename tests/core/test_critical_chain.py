"""critical_chain: which steps and sub-steps decided when a run was done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from hive.core.critical_chain import Span, blocking_path, critical_chain, latest_run

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Row:
    step: str
    at_ms: float
    duration_ms: float
    run_id: str = "r1"
    workflow: str = "create"
    status: str = "ok"
    attempt: int = 1

    @property
    def started_at(self) -> str:
        moment = T0 + timedelta(milliseconds=self.at_ms)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def chain(rows: list[Row]) -> list[tuple[str, float, float]]:
    return [(link.step, link.offset_ms, link.duration_ms) for link in critical_chain(rows).links]


WORKTREE = [
    Row("create_worktree:base_commit", 0, 5),
    Row("create_worktree:git_add", 5, 30),
    Row("create_worktree:include_copy", 5, 80),
    Row("create_worktree:place_included", 85, 10),
    Row("create_worktree", 0, 95),
]

SERVICES = [
    # db and cache start together; api waits for db; cache is ready before api starts.
    Row("ensure_services:start:db", 100, 20),
    Row("ensure_services:start:cache", 100, 10),
    Row("ensure_services:ready:cache", 110, 15),
    Row("ensure_services:ready:db", 120, 200),
    Row("ensure_services:start:api", 320, 30),
    Row("ensure_services:ready:api", 350, 50),
    Row("ensure_services", 100, 300),
]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        pytest.param([], [], id="no rows"),
        pytest.param(
            [Row("create_worktree", 0, 10), Row("run_setup", 10, 40), Row("mark_ready", 50, 1)],
            [("create_worktree", 0, 10), ("run_setup", 10, 40), ("mark_ready", 50, 1)],
            id="sequential steps are all on the chain",
        ),
        pytest.param(
            WORKTREE,
            [
                ("create_worktree", 0, 95),
                ("create_worktree:base_commit", 0, 5),
                ("create_worktree:include_copy", 5, 80),
                ("create_worktree:place_included", 85, 10),
            ],
            id="parallel sub-steps: the longer one",
        ),
        pytest.param(
            SERVICES,
            [
                ("ensure_services", 0, 300),
                ("ensure_services:start:db", 0, 20),
                ("ensure_services:ready:db", 20, 200),
                ("ensure_services:start:api", 220, 30),
                ("ensure_services:ready:api", 250, 50),
            ],
            id="services: the one the last ready waited for",
        ),
        pytest.param(
            [
                Row("ensure_services:ready:a", 0, 100),
                Row("ensure_services:ready:b", 0, 300),
                Row("ensure_services", 0, 300),
            ],
            [("ensure_services", 0, 300), ("ensure_services:ready:b", 0, 300)],
            id="parallel services: the one that finished last",
        ),
        pytest.param(
            [Row("run_setup:1", 0, 10), Row("run_setup:2", 10.4, 20), Row("run_setup", 0, 31)],
            [("run_setup", 0, 31), ("run_setup:1", 0, 10), ("run_setup:2", 10, 20)],
            id="millisecond stamps: a successor seen starting early still follows",
        ),
        pytest.param(
            [
                Row("create_worktree", 0, 10),
                Row("run_setup", 10, 5, status="error"),
                Row("create_worktree", 1000, 3, run_id="r2", workflow="delete"),
                Row("run_setup", 5000, 20, run_id="r3", workflow="retry", attempt=2),
                Row("mark_ready", 5020, 1, run_id="r3", workflow="retry", attempt=2),
                Row("stop_services", 9000, 7, run_id="r4", workflow="delete"),
            ],
            [("run_setup", 0, 20), ("mark_ready", 20, 1)],
            id="the latest create or retry run, not a later delete",
        ),
    ],
)
def test_chain(rows: list[Row], expected: list[tuple[str, float, float]]) -> None:
    assert chain(rows) == expected


def test_chain_run_facts_and_depths() -> None:
    rows = [
        Row("create_request_received", 0, 2),
        *[Row(r.step, r.at_ms + 2, r.duration_ms) for r in WORKTREE],
        Row("mark_ready", 97, 1, status="error"),
    ]
    result = critical_chain(rows)
    assert (result.run_id, result.workflow, result.attempt) == ("r1", "create", 1)
    assert result.status == "error"
    assert result.total_ms == 98
    assert [link.depth for link in result.links] == [0, 0, 1, 1, 1, 0]
    assert critical_chain([]).run_id is None


def test_latest_run() -> None:
    assert latest_run([Row("x", 0, 1, run_id="a"), Row("y", 0, 1, run_id="b")]) == "b"
    assert latest_run([Row("x", 0, 1, workflow="delete")]) is None


def test_blocking_path_ignores_spans_that_overlap_the_current_one() -> None:
    a, b, c = Span("a", 0, 10, "ok"), Span("b", 5, 100, "ok"), Span("c", 10, 20, "ok")
    # b finished last, started at 5: nothing had ended by then.
    assert blocking_path([a, b, c]) == [b]
    assert blocking_path([a, c]) == [a, c]
    assert blocking_path([]) == []
