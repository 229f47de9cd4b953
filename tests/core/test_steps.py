"""Step names and sub-step naming."""

from __future__ import annotations

from hive.core.steps import Step, substep
from hive.core.timings import is_top_level


def test_substep_name() -> None:
    assert substep(Step.CREATE_WORKTREE, "git_add") == "create_worktree:git_add"
    assert not is_top_level(substep(Step.RUN_SETUP, "x"))


def test_step_names_are_top_level() -> None:
    assert all(is_top_level(str(step)) for step in Step)
