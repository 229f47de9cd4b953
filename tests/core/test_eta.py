"""estimate: per-step medians of past runs, summed over what is left of this one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hive.core.eta import UNSEEN_STEP_MS, Eta, StepSample, elapsed_ms, estimate, step_history

STEPS = ("create_worktree", "allocate_ports", "run_setup", "ensure_services", "mark_ready")


def run(run_id: str, **durations: float) -> list[StepSample]:
    return [StepSample(run_id, step, ms) for step, ms in durations.items()]


FULL = {
    "create_worktree": 100,
    "allocate_ports": 10,
    "run_setup": 1000,
    "ensure_services": 500,
    "mark_ready": 5,
}

# (case, past runs, steps not done (current first), elapsed of the current, expected Eta)
CASES = [
    ("no history: no numbers", [], STEPS, 0.0, Eta(None, None, "none", 0, ())),
    (
        "no history, even part-way",
        [],
        STEPS[2:],
        250.0,
        Eta(None, None, "none", 0, ()),
    ),
    (
        "one run: its durations",
        run("a", **FULL),
        STEPS,
        0.0,
        Eta(1615, 1615, "history", 1, ()),
    ),
    (
        "medians per step, odd count",
        [
            *run("a", **{**FULL, "run_setup": 900}),
            *run("b", **{**FULL, "run_setup": 5000}),
            *run("c", **{**FULL, "run_setup": 1000}),
        ],
        STEPS,
        0.0,
        Eta(1615, 1615, "history", 3, ()),
    ),
    (
        "medians per step, even count: the mean of the middle two",
        [*run("a", **{**FULL, "run_setup": 800}), *run("b", **{**FULL, "run_setup": 1200})],
        STEPS,
        0.0,
        Eta(1615, 1615, "history", 2, ()),
    ),
    (
        "steps never seen take the default",
        run("a", allocate_ports=10, run_setup=1000, ensure_services=500, mark_ready=5),
        STEPS,
        0.0,
        Eta(1515 + UNSEEN_STEP_MS, 1515 + UNSEEN_STEP_MS, "history", 1, ("create_worktree",)),
    ),
    (
        "a step some runs lack: median of the runs that have it",
        [
            *run("a", **FULL),
            *run("b", allocate_ports=10, run_setup=1000, ensure_services=500, mark_ready=5),
        ],
        STEPS,
        0.0,
        Eta(1615, 1615, "history", 2, ()),
    ),
    (
        "partly done: only the steps left",
        run("a", **FULL),
        STEPS[2:],
        0.0,
        Eta(1615, 1505, "history", 1, ()),
    ),
    (
        "the current step's elapsed time comes off its share",
        run("a", **FULL),
        STEPS[2:],
        400.0,
        Eta(1615, 1105, "history", 1, ()),
    ),
    (
        "an overrunning step counts 0, the later steps in full",
        run("a", **FULL),
        STEPS[2:],
        9000.0,
        Eta(1615, 505, "history", 1, ()),
    ),
    (
        "an overrunning last step: never below 0",
        run("a", **FULL),
        STEPS[4:],
        60.0,
        Eta(1615, 0, "history", 1, ()),
    ),
    ("all done", run("a", **FULL), (), 0.0, Eta(1615, 0, "history", 1, ())),
]


@pytest.mark.parametrize(
    ("samples", "remaining", "elapsed", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_estimate(
    samples: list[StepSample], remaining: tuple[str, ...], elapsed: float, expected: Eta
) -> None:
    history = step_history(samples)
    assert estimate(STEPS, remaining, history, current_elapsed_ms=elapsed) == expected


NOW = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("started", "expected"),
    [
        (None, 0.0),
        (NOW - timedelta(milliseconds=1500), 1500.0),
        (NOW, 0.0),
        (NOW + timedelta(seconds=1), 0.0),  # a clock that stepped back
    ],
    ids=["unknown start", "running 1.5 s", "just began", "start in the future"],
)
def test_elapsed(started: datetime | None, expected: float) -> None:
    assert elapsed_ms(started, NOW) == expected


def test_history_counts_runs_not_rows() -> None:
    history = step_history([*run("a", **FULL), *run("b", run_setup=3000)])
    assert history.runs == 2
    assert history.medians_ms["run_setup"] == 2000
    assert history.medians_ms["create_worktree"] == 100
