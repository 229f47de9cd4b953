"""run_progress: the create run's checklist from the cell record and its run's rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hive.core.run_progress import run_progress
from hive.core.status import CellStatus

STEPS = ("create_worktree", "allocate_ports", "run_setup", "ensure_services", "mark_ready")
RERUNS = frozenset({"allocate_ports", "ensure_services"})


@dataclass(frozen=True)
class Row:
    step: str
    started_at: str
    duration_ms: float
    status: str = "ok"


def at(seconds: float) -> str:
    return f"2024-01-01T12:00:{seconds:06.3f}Z"


def moment(seconds: float) -> datetime:
    return datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC) + timedelta(seconds=seconds)


PREAMBLE = [Row("create_request_received", at(0), 2), Row("create_cell_record", at(0.002), 1)]
WORKTREE = [
    Row("create_worktree:base_commit", at(0.5), 5),
    Row("create_worktree:git_add", at(0.505), 100),
    Row("create_worktree", at(0.5), 200),
]
PORTS = [Row("allocate_ports:cell_files", at(0.71), 3), Row("allocate_ports", at(0.7), 10)]
SETUP_1 = [Row("run_setup:1", at(0.711), 1000)]


def setup_progress(part: int, run_id: str = "r2") -> dict[str, Any]:
    return {"step": f"run_setup:{part}", "done": part - 1, "total": 2, "runId": run_id, "at": ""}


# (case, status, completed steps, rows, progress,
#  expected (done, current step, current substep, remaining, current started at))
CASES: list[tuple[str, CellStatus, tuple[str, ...], list[Row], Any, tuple[Any, ...]]] = [
    (
        "pending: nothing runs yet",
        CellStatus.PENDING,
        (),
        PREAMBLE,
        None,
        (0, None, None, STEPS, None),
    ),
    (
        "first step, no part finished: start unknown",
        CellStatus.SPAWNING,
        (),
        PREAMBLE,
        None,
        (0, "create_worktree", None, STEPS, None),
    ),
    (
        "first step: it began with its first part",
        CellStatus.SPAWNING,
        (),
        [*PREAMBLE, *WORKTREE[:2]],
        None,
        (0, "create_worktree", None, STEPS, moment(0.5)),
    ),
    (
        "include-copy running: the progress names it",
        CellStatus.SPAWNING,
        (),
        [*PREAMBLE, *WORKTREE[:2]],
        {"step": "create_worktree:include_copy", "done": 3, "total": 9, "runId": "r2"},
        (0, "create_worktree", "create_worktree:include_copy", STEPS, moment(0.5)),
    ),
    (
        "setup command 2: two done, started when the step before ended",
        CellStatus.SPAWNING,
        ("create_worktree", "allocate_ports"),
        [*PREAMBLE, *WORKTREE, *PORTS, *SETUP_1],
        setup_progress(2),
        (2, "run_setup", "run_setup:2", STEPS[2:], moment(0.71)),
    ),
    (
        "a step's row before its checkpoint: done all the same",
        CellStatus.SPAWNING,
        ("create_worktree",),
        [*WORKTREE, *PORTS],
        None,
        (2, "run_setup", None, STEPS[2:], moment(0.71)),
    ),
    (
        "progress of a part that finished is not current",
        CellStatus.SPAWNING,
        ("create_worktree", "allocate_ports"),
        [*WORKTREE, *PORTS, *SETUP_1],
        setup_progress(1),
        (2, "run_setup", None, STEPS[2:], moment(0.71)),
    ),
    (
        "progress of another run (an earlier attempt) is not current",
        CellStatus.SPAWNING,
        ("create_worktree", "allocate_ports"),
        [*WORKTREE, *PORTS],
        setup_progress(2, run_id="r1"),
        (2, "run_setup", None, STEPS[2:], moment(0.71)),
    ),
    (
        "progress of an earlier step is not current",
        CellStatus.SPAWNING,
        ("create_worktree", "allocate_ports"),
        [*WORKTREE, *PORTS],
        {"step": "create_worktree:include_copy", "runId": "r2"},
        (2, "run_setup", None, STEPS[2:], moment(0.71)),
    ),
    (
        "a retry: create_worktree done on attempt 1 is skipped",
        CellStatus.SPAWNING,
        ("create_worktree", "allocate_ports"),
        PORTS,
        None,
        (2, "run_setup", None, STEPS[2:], moment(0.71)),
    ),
    (
        "a retry after run_setup failed: allocate_ports runs again first",
        CellStatus.SPAWNING,
        ("create_worktree", "allocate_ports"),
        [],
        None,
        (1, "allocate_ports", None, STEPS[1:], None),
    ),
    (
        "a retry after mark_ready failed: services start again, setup stays done",
        CellStatus.SPAWNING,
        ("create_worktree", "allocate_ports", "run_setup", "ensure_services"),
        PORTS,
        None,
        (3, "ensure_services", None, STEPS[3:], moment(0.71)),
    ),
    (
        "a failing step's error row: still the current one until the cell moves",
        CellStatus.SPAWNING,
        ("create_worktree", "allocate_ports"),
        [*WORKTREE, *PORTS, Row("run_setup", at(0.71), 50, status="error")],
        None,
        (2, "run_setup", None, STEPS[2:], moment(0.71)),
    ),
    (
        "ready: all done, even before mark_ready is checkpointed",
        CellStatus.READY,
        ("create_worktree", "allocate_ports", "run_setup", "ensure_services"),
        [],
        None,
        (5, None, None, (), None),
    ),
    (
        "error: what was done, nothing running",
        CellStatus.ERROR,
        ("create_worktree", "allocate_ports"),
        [],
        setup_progress(2),
        (2, None, None, STEPS[2:], None),
    ),
]


@pytest.mark.parametrize(
    ("status", "completed", "rows", "progress", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_run_progress(
    status: CellStatus,
    completed: tuple[str, ...],
    rows: list[Row],
    progress: dict[str, Any] | None,
    expected: tuple[Any, ...],
) -> None:
    got = run_progress(
        STEPS,
        status=status,
        completed_steps=completed,
        reruns=RERUNS,
        run_id="r2",
        rows=rows,
        progress=progress,
    )
    assert got.total == len(STEPS)
    assert (
        got.done,
        got.current_step,
        got.current_substep,
        got.remaining,
        got.current_started_at,
    ) == expected
