"""Workflows as data: an ordered tuple of named steps, each a coroutine with a timeout."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from hive.core.steps import Step
from hive.provisioning.context import RunContext

StepFunction = Callable[[RunContext, dict[str, Any]], Awaitable[None]]
"""A step's body: gets the run context and the metadata dict of its timing row."""


@dataclass(frozen=True)
class StepSpec:
    step: Step
    run: StepFunction
    timeout_s: float | None = None
    """None: the step bounds its own parts (each setup command has its own timeout)."""
    best_effort: bool = False
    """A failure is recorded and the workflow goes on (cleanup steps of a delete)."""
    rerun: bool = False
    """Runs again on a retry even when an earlier attempt completed it."""
    throttled: bool = False
    """Disk- and CPU-bound: at most `max_parallel_worktrees` run at once across cells."""
