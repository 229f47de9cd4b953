"""A failure's `kind`: where a run failed, in words a user knows.

Derived in one place from the failing step (or sub-step), the exception and its
fields, so no raise site has to name it; a StepError may still say it (a cancel, a
stopped server), because only the engine knows why a run was stopped. Pure.
"""

from __future__ import annotations

import asyncio
from enum import StrEnum

from hive.core.errors import ConfigError, StepError
from hive.core.steps import Step, substep


class FailureKind(StrEnum):
    TEMPLATE_INVALID = "template_invalid"
    WORKSPACE = "workspace"
    """The git worktree (or the cell's files in it)."""
    INCLUDE_COPY = "include_copy"
    SETUP_COMMAND = "setup_command"
    """A template setup command, or a service's own `setup` command."""
    PORT = "port"
    SERVICE_START = "service_start"
    SERVICE_READY = "service_ready"
    PROMPT = "prompt"
    AGENT = "agent"
    TIMEOUT = "timeout"
    """A step, or a setup command, ran out of time."""
    CANCELLED = "cancelled"
    """Someone asked the run to stop (`POST /api/cells/{id}/cancel`)."""
    INTERRUPTED = "interrupted"
    """The Hive server stopped (or was killed) while the run was going on."""
    INTERNAL = "internal"
    """A step of Hive's own bookkeeping (mark_ready, delete_cell_record), or one no
    kind is known for."""


# Sub-steps first: they say more than the step around them.
_PARTS: dict[str, FailureKind] = {
    substep(Step.CREATE_WORKTREE, "include_copy"): FailureKind.INCLUDE_COPY,
    substep(Step.CREATE_WORKTREE, "place_included"): FailureKind.INCLUDE_COPY,
    substep(Step.ALLOCATE_PORTS, "cell_files"): FailureKind.WORKSPACE,
}
# Sub-steps named after a service: `ensure_services:ready:web`.
_SERVICE_PARTS: dict[str, FailureKind] = {
    substep(Step.ENSURE_SERVICES, "setup:"): FailureKind.SETUP_COMMAND,
    substep(Step.ENSURE_SERVICES, "start:"): FailureKind.SERVICE_START,
    substep(Step.ENSURE_SERVICES, "ready:"): FailureKind.SERVICE_READY,
}
_STEPS: dict[str, FailureKind] = {
    Step.CREATE_WORKTREE: FailureKind.WORKSPACE,
    Step.ALLOCATE_PORTS: FailureKind.PORT,
    Step.RUN_SETUP: FailureKind.SETUP_COMMAND,
    Step.ENSURE_SERVICES: FailureKind.SERVICE_START,
    Step.ASSEMBLE_PROMPT: FailureKind.PROMPT,
    Step.ENSURE_AGENT_SESSION: FailureKind.AGENT,
    Step.CLOSE_AGENT_SESSION: FailureKind.AGENT,
    Step.RELEASE_PORTS: FailureKind.PORT,
    Step.SNAPSHOT_WORK: FailureKind.WORKSPACE,
    Step.REMOVE_WORKSPACE: FailureKind.WORKSPACE,
    Step.DELETE_BRANCH: FailureKind.WORKSPACE,
    "remove_worktree": FailureKind.WORKSPACE,  # the delete step's name in older records
}


def step_kind(step: str | None) -> FailureKind:
    """The kind a failure of `step` (a step or sub-step name) has by default."""
    if step is None:
        return FailureKind.INTERNAL
    if step in _PARTS:
        return _PARTS[step]
    for prefix, kind in _SERVICE_PARTS.items():
        if step.startswith(prefix):
            return kind
    return _STEPS.get(step.partition(":")[0], FailureKind.INTERNAL)


def failure_kind(step: str | None, exc: BaseException | None = None) -> FailureKind:
    """The kind of `exc` raised by `step`; the step alone when no exception is known
    (rows stored before kinds existed)."""
    if isinstance(exc, asyncio.CancelledError):
        return FailureKind.CANCELLED
    if isinstance(exc, StepError) and exc.kind is not None:
        return exc.kind
    if isinstance(exc, ConfigError):
        return FailureKind.TEMPLATE_INVALID
    if isinstance(exc, StepError) and _timed_out(exc):
        return FailureKind.TIMEOUT
    return step_kind(step)


def _timed_out(exc: StepError) -> bool:
    # The engine's step timeout raises from the TimeoutError; a command stopped for
    # running out of time has no exit code, and its message says so.
    if isinstance(exc.__cause__, TimeoutError):
        return True
    return exc.command is not None and exc.exit_code is None and "timed out" in exc.message
