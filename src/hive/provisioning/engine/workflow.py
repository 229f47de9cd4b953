"""Workflows as data: an ordered tuple of named steps, each a coroutine with a timeout.

The order lives here and only here: checkpoints, recovery and timings all follow the
workflow's own tuple.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from hive.core.failures import RollbackStep
from hive.core.steps import Step
from hive.provisioning.engine.context import RunContext
from hive.store.records import CellRecord

StepBody = Callable[[RunContext, dict[str, Any]], Awaitable[None]]
"""A step's body: gets the run context and the metadata dict of its timing row."""

DoneCheck = Callable[[RunContext], Awaitable[bool]]
"""Whether a step's work is already there, so a resumed run skips it."""


async def checkpointed(ctx: RunContext, step: Step) -> bool:
    return str(step) in ctx.cell.completed_steps


@dataclass(frozen=True)
class StepSpec:
    step: Step
    run: StepBody
    timeout_s: float | None = None
    """None: the step bounds its own parts (each setup command has its own timeout)."""
    best_effort: bool = False
    """A failure is recorded and the workflow goes on (cleanup steps of a delete)."""
    throttled: bool = False
    """Disk- and CPU-bound: at most `max_parallel_worktrees` run at once across cells."""
    done: DoneCheck | None = None
    """The step's own word on whether it is done; None: done once checkpointed."""

    async def is_done(self, ctx: RunContext) -> bool:
        if self.done is not None:
            return await self.done(ctx)
        return await checkpointed(ctx, self.step)


async def never_done(ctx: RunContext) -> bool:
    """For a step that runs on every attempt (a failed run gave its ports back)."""
    del ctx
    return False


Compensation = Callable[[CellRecord], Awaitable[tuple[RollbackStep, ...]]]
"""Undoes what must not outlive a failed or interrupted run of the cell (processes,
leases); best-effort, and it may find nothing to undo. Says what it undid and how each
undo went (the failure's `rollback`)."""


@dataclass(frozen=True)
class WorkflowSpec:
    steps: tuple[StepSpec, ...]
    compensate: Compensation | None = None
    prepare: Callable[[CellRecord], None] | None = None
    """Called as a run of the cell begins (a new run may start its services again)."""

    def names(self) -> tuple[str, ...]:
        return tuple(str(spec.step) for spec in self.steps)

    def every_attempt(self) -> frozenset[str]:
        """Steps a resumed run does again although checkpointed (`never_done`)."""
        return frozenset(str(spec.step) for spec in self.steps if spec.done is never_done)

    def first_undone(self, completed: tuple[str, ...]) -> str | None:
        """The first step not checkpointed: where an interrupted run stopped."""
        return next((name for name in self.names() if name not in completed), None)
