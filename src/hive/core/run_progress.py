"""Where a cell's create run is: steps done of the workflow's steps, the one running.

Pure: derived from the cell record (status, completed steps, progress) and the timing
rows of its current run, so a client can draw a checklist without parsing step names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from hive.core.status import CellStatus

IN_PROGRESS: frozenset[CellStatus] = frozenset({CellStatus.PENDING, CellStatus.SPAWNING})


class RunRow(Protocol):
    """A timing row of the current run (a finished step or sub-step)."""

    @property
    def step(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def started_at(self) -> str: ...
    @property
    def duration_ms(self) -> float: ...


@dataclass(frozen=True)
class RunProgress:
    done: int
    total: int
    current_step: str | None
    """The step running now; None while waiting (pending) or once the run is over."""
    current_substep: str | None
    """Its running part when the step says (`run_setup:2`, `create_worktree:include_copy`)."""
    remaining: tuple[str, ...]
    """Steps not done yet, in order, the current one first."""
    current_started_at: datetime | None
    """When the current step began, as far as the rows tell; None: not known yet."""
    steps: tuple[str, ...] = ()
    """Every step of the workflow, in order: done ones are those not `remaining`."""


def parse_time(stamp: str) -> datetime:
    """Stored timestamps end in `Z` (store/clock.py)."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def run_progress(
    steps: Sequence[str],
    *,
    status: CellStatus,
    completed_steps: Iterable[str],
    reruns: Set[str],
    run_id: str | None,
    rows: Iterable[RunRow],
    progress: Mapping[str, Any] | None,
) -> RunProgress:
    """`steps`: the create workflow's step names in order; `reruns`: those a resumed
    run does again although checkpointed; `rows`: the current run's."""
    completed = set(completed_steps)
    if status in IN_PROGRESS:
        # A checkpoint of a step that runs on every attempt says nothing of this run.
        completed -= reruns
    if status == CellStatus.READY:
        # mark_ready moves the cell before the runner checkpoints it: ready is all done.
        return RunProgress(len(steps), len(steps), None, None, (), None, tuple(steps))
    rows = list(rows)
    ran = {row.step for row in rows if row.status == "ok"}
    # A run goes through the steps in order, so every step up to the last one that ran
    # in this run is behind it (run, or skipped as done). Later ones are done when
    # checkpointed on an earlier attempt (a retry skips them).
    last = max((i for i, name in enumerate(steps) if name in ran), default=-1)
    remaining = tuple(name for i, name in enumerate(steps) if i > last and name not in completed)
    done = len(steps) - len(remaining)
    if status != CellStatus.SPAWNING or not remaining:
        return RunProgress(done, len(steps), None, None, remaining, None, tuple(steps))
    current = remaining[0]
    return RunProgress(
        done=done,
        total=len(steps),
        current_step=current,
        current_substep=_current_substep(current, run_id, ran, progress),
        remaining=remaining,
        current_started_at=_started_at(steps, current, rows),
        steps=tuple(steps),
    )


def _current_substep(
    current: str, run_id: str | None, ran: set[str], progress: Mapping[str, Any] | None
) -> str | None:
    """The part the step last said it began, if it is of this run and not yet finished
    (the progress field is kept after its step ends, and across runs)."""
    if progress is None or run_id is None or progress.get("runId") != run_id:
        return None
    part = progress.get("step")
    if not isinstance(part, str) or not part.startswith(f"{current}:") or part in ran:
        return None
    return part


def _started_at(steps: Sequence[str], current: str, rows: list[RunRow]) -> datetime | None:
    """The end of the step before it in this run; for the run's first step, the start
    of its earliest finished part. The step's own row only comes when it ends."""
    before = set(steps[: steps.index(current)])
    ends = [
        parse_time(row.started_at) + timedelta(milliseconds=row.duration_ms)
        for row in rows
        if row.step in before
    ]
    if ends:
        return max(ends)
    parts = [parse_time(row.started_at) for row in rows if row.step.startswith(f"{current}:")]
    return min(parts, default=None)
