"""Waiting for one started service to be ready, and saying why it was not."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Protocol

from hive.core.errors import StepError
from hive.core.status import ServiceStatus
from hive.services.handle import ServiceHandle
from hive.services.logs import ServiceLogs
from hive.services.plan import ServicePlan
from hive.services.probes import ProbeOutcome, wait_ready
from hive.services.spawn import CWD_MISSING
from hive.services.statuses import ServiceStatuses, service_error


async def probe(handle: ServiceHandle, logs: ServiceLogs) -> ProbeOutcome:
    """Run the handle's readiness check until it passes, the process exits or time is up."""
    plan = handle.plan
    return await wait_ready(
        plan.readiness,
        port=plan.port,
        log_path=logs.path(handle.cell_id, plan.name),
        log_start=handle.log_start,
        env=plan.env,
        cwd=handle.worktree / plan.cwd,
        timeout_s=plan.ready_timeout_s,
        alive=handle.alive,
    )


def not_ready_message(plan: ServicePlan, reason: str, exited: int | None) -> str:
    if exited == CWD_MISSING:
        return f"service '{plan.name}': its working directory {plan.cwd!r} does not exist"
    if exited is not None:
        return f"service '{plan.name}' exited with code {exited} before it was ready"
    return f"service '{plan.name}' did not get ready: {reason}"


def log_hint(plan: ServicePlan, logs: ServiceLogs, cell_id: str) -> str:
    return (
        f"see its log ({logs.path(cell_id, plan.name)}); fix services.{plan.name} "
        "(run, ready, readyTimeoutMs) in hive.config.json, then retry"
    )


class ReadinessOwner(Protocol):
    """What waiting for readiness needs of the supervisor."""

    def is_current(self, handle: ServiceHandle) -> bool: ...

    def now(self) -> float:
        """The supervisor's clock: when a service became ready counts for its budget."""
        ...

    async def discard(self, handle: ServiceHandle, final: ServiceStatus, **fields: Any) -> None: ...


async def wait_until_ready(
    handle: ServiceHandle, owner: ReadinessOwner, statuses: ServiceStatuses, logs: ServiceLogs
) -> str:
    """Wait for the handle's readiness check (a oneshot: exit 0); returns the reason.

    Whoever waits here decides about a failure: the watcher leaves an exit during this
    wait alone. A service that never gets ready is stopped and left in `error`, and
    StepError says why, with its log tail.
    """
    try:
        if handle.plan.oneshot:
            return await _completed(handle, owner, statuses, logs)
        outcome = await probe(handle, logs)
        if outcome.ready and handle.alive() and owner.is_current(handle):
            handle.settle("ready", at=owner.now())
            await statuses.move(handle.cell_id, handle.name, ServiceStatus.READY)
            return outcome.reason
        handle.settle("failed")
        exited = handle.exit_code  # read before it is stopped
        message = not_ready_message(handle.plan, outcome.reason, exited)
        raise await _failed(handle, owner, logs, message, exit_code=exited)
    finally:
        if not handle.settled.is_set():  # cancelled: the canceller stops it
            handle.settle("failed")


async def _completed(
    handle: ServiceHandle, owner: ReadinessOwner, statuses: ServiceStatuses, logs: ServiceLogs
) -> str:
    plan = handle.plan
    code: int | None = None
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(handle.done.wait(), plan.ready_timeout_s)
        code = handle.exit_code
    if code == 0 and owner.is_current(handle):
        handle.settle("completed")
        await statuses.move(
            handle.cell_id, plan.name, ServiceStatus.COMPLETED, pid=None, exit_code=0
        )
        return "completed with exit code 0"
    handle.settle("failed")
    what = "did not finish in time" if not handle.done.is_set() else f"exited with code {code}"
    raise await _failed(
        handle, owner, logs, f"oneshot service '{plan.name}' {what}", exit_code=code
    )


async def _failed(
    handle: ServiceHandle,
    owner: ReadinessOwner,
    logs: ServiceLogs,
    message: str,
    *,
    exit_code: int | None,
) -> StepError:
    """Stop a service that failed its readiness and leave it in `error`; the error."""
    tail = await logs.tail(handle.cell_id, handle.name)
    if not owner.is_current(handle):
        return StepError(f"service '{handle.name}' was stopped before it got ready")
    await owner.discard(
        handle, ServiceStatus.ERROR, exit_code=exit_code, last_error=service_error(message, tail)
    )
    return StepError(
        message,
        command=handle.plan.run,
        exit_code=exit_code,
        output_tail=tail,
        hint=log_hint(handle.plan, logs, handle.cell_id),
    )
