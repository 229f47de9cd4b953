"""Step names and sub-step naming."""

from __future__ import annotations

from hive.core.steps import CREATE_STEPS, DELETE_STEPS, Step, substep
from hive.core.timings import is_top_level


def test_substep_name() -> None:
    assert substep(Step.CREATE_WORKTREE, "git_add") == "create_worktree:git_add"
    assert substep(Step.RUN_SETUP, "command_2") == "run_setup:command_2"
    assert not is_top_level(substep(Step.RUN_SETUP, "x"))


def test_step_names_are_top_level() -> None:
    assert all(is_top_level(str(step)) for step in Step)


def test_workflow_orders() -> None:
    assert CREATE_STEPS == (
        Step.CREATE_WORKTREE,
        Step.ALLOCATE_PORTS,
        Step.RUN_SETUP,
        Step.ENSURE_SERVICES,
        Step.MARK_READY,
    )
    # ports go back only once the processes that used them are stopped
    assert DELETE_STEPS.index(Step.STOP_SERVICES) < DELETE_STEPS.index(Step.RELEASE_PORTS)
    assert DELETE_STEPS[-1] == Step.DELETE_CELL_RECORD
