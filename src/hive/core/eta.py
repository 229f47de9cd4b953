"""How long a cell's provisioning still takes, from recent successful runs of its template.

Pure: the per-step medians of past runs' durations, summed over the steps not done
yet, less what the running step has already spent. No history, no numbers: an
estimate that rests on nothing would be a guess presented as a measurement.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import median
from typing import Literal

#: What a step no past run recorded is expected to take. A guess, and said to be one
#: (`defaulted_steps`): it covers steps the history lacks, e.g. a create_worktree that
#: every past run skipped as a retry.
UNSEEN_STEP_MS = 1000.0

#: How many recent successful runs the medians are taken over: enough to shrug off
#: one slow run, few enough to follow a template whose setup got slower or faster.
RECENT_RUNS = 20


@dataclass(frozen=True)
class StepSample:
    """One top-level step's duration in one past successful run."""

    run_id: str
    step: str
    duration_ms: float


@dataclass(frozen=True)
class StepHistory:
    runs: int
    """How many past runs the medians come from; 0: no history."""
    medians_ms: Mapping[str, float]


@dataclass(frozen=True)
class Eta:
    expected_total_ms: float | None
    """The whole create run, every step, as history has it; None without history."""
    remaining_ms: float | None
    basis: Literal["history", "none"]
    runs: int
    defaulted_steps: tuple[str, ...]
    """Steps no past run recorded, counted at UNSEEN_STEP_MS each."""


def step_history(samples: Iterable[StepSample]) -> StepHistory:
    durations: dict[str, list[float]] = {}
    runs: set[str] = set()
    for sample in samples:
        runs.add(sample.run_id)
        durations.setdefault(sample.step, []).append(sample.duration_ms)
    return StepHistory(len(runs), {step: median(values) for step, values in durations.items()})


def elapsed_ms(started_at: datetime | None, now: datetime) -> float:
    """Time the current step has run; 0 when its start is not known (or clocks disagree)."""
    if started_at is None:
        return 0.0
    return max(0.0, (now - started_at).total_seconds() * 1000)


def estimate(
    steps: Sequence[str],
    remaining: Sequence[str],
    history: StepHistory,
    *,
    current_elapsed_ms: float = 0.0,
) -> Eta:
    """`steps`: the workflow's, in order; `remaining`: those not done, the running one
    first (when `current_elapsed_ms` > 0, it has run that long)."""
    if history.runs == 0:
        return Eta(None, None, "none", 0, ())
    expected = {name: history.medians_ms.get(name, UNSEEN_STEP_MS) for name in steps}
    left = [expected.get(name, UNSEEN_STEP_MS) for name in remaining]
    if left:
        # A step that overruns its median is late, not a reason to expect the steps
        # after it to be quicker: its share stops at 0.
        left[0] = max(0.0, left[0] - current_elapsed_ms)
    defaulted = tuple(name for name in steps if name not in history.medians_ms)
    return Eta(
        expected_total_ms=round(sum(expected.values()), 1),
        remaining_ms=round(sum(left), 1),
        basis="history",
        runs=history.runs,
        defaulted_steps=defaulted,
    )
