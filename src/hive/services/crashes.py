"""What happens when a service exits on its own: `crashed`, or `backoff` and a restart
(`restart: on-failure`) while its budget lasts, or `error` once the budget is spent."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol

from hive.core.errors import ConflictError, StepError
from hive.core.status import ServiceStatus
from hive.services.handle import ServiceHandle
from hive.services.logs import ServiceLogs
from hive.services.plan import ServicePlan
from hive.services.ready_wait import not_ready_message, probe
from hive.services.restarts import RestartBudgets, RestartPolicy
from hive.services.statuses import ServiceStatuses, service_error

log = logging.getLogger(__name__)


class Restartable(Protocol):
    """What a restart needs of the supervisor."""

    async def spawn(
        self,
        cell_id: str,
        worktree: Path,
        plan: ServicePlan,
        *,
        replacing: ServiceHandle | None = None,
        restarts: int = 0,
    ) -> ServiceHandle: ...

    async def end_process(self, handle: ServiceHandle) -> None: ...

    def is_current(self, handle: ServiceHandle) -> bool: ...


class CrashHandler:
    def __init__(
        self,
        supervisor: Restartable,
        statuses: ServiceStatuses,
        logs: ServiceLogs,
        policy: RestartPolicy,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self._supervisor = supervisor
        self._statuses = statuses
        self._logs = logs
        self._policy = policy
        self.budgets = RestartBudgets(policy)
        self._clock = clock
        self._sleep = sleep

    async def crashed(self, handle: ServiceHandle, code: int | None) -> None:
        """An exit nobody asked for, of the service's current handle."""
        plan, cell_id = handle.plan, handle.cell_id
        tail = await self._logs.tail(cell_id, plan.name)
        message = f"service '{plan.name}' exited" + (
            f" with code {code}" if code is not None else ""
        )
        # code None: an adopted process, its code unknown, counts as a failure.
        if plan.restart_limit == 0 or plan.oneshot or code == 0:
            await self._statuses.move(
                cell_id, plan.name, ServiceStatus.CRASHED, pid=None, exit_code=code,
                last_error=service_error(message, tail),
            )  # fmt: skip
            log.warning("cell %s: %s", cell_id, message)
            return
        failures = self.budgets.crashed(handle.key, handle.uptime(self._clock()))
        if await self._back_off(handle, failures, message, tail, exit_code=code):
            await self._restart(handle, failures)

    async def _back_off(
        self,
        handle: ServiceHandle,
        failures: int,
        message: str,
        tail: str,
        *,
        exit_code: int | None,
    ) -> bool:
        """Record one more failure: `backoff` (True: restart it) or `error` (spent)."""
        plan = handle.plan
        if failures > plan.restart_limit:
            message += f"; gave up after {plan.restart_limit} restart(s)"
            await self._statuses.move(
                handle.cell_id, plan.name, ServiceStatus.ERROR, pid=None, exit_code=exit_code,
                last_error=service_error(message, tail),
            )  # fmt: skip
            log.warning("cell %s: %s", handle.cell_id, message)
            return False
        delay = self._policy.delay_s(failures)
        note = f"restart {failures} of {plan.restart_limit} in {delay:g}s"
        return await self._statuses.move(
            handle.cell_id, plan.name, ServiceStatus.BACKOFF, pid=None, exit_code=exit_code,
            last_error=service_error(f"{message}; {note}", tail, restartInS=delay),
        )  # fmt: skip

    async def _restart(self, failed: ServiceHandle, failures: int) -> None:
        """Start the service again after its pause, until it gets ready or its budget is
        spent. A stop or start by hand meanwhile always wins (`spawn(replacing=…)`)."""
        plan, supervisor = failed.plan, self._supervisor
        while True:
            # A stop of the handle this loop works for calls its pause off.
            failed.recovery = asyncio.current_task()
            await self._sleep(self._policy.delay_s(failures))
            try:
                attempt = await supervisor.spawn(
                    failed.cell_id, failed.worktree, plan, replacing=failed, restarts=failures
                )
            except (ConflictError, StepError):
                return  # stopped or started by hand, its cell closing, or it cannot start
            outcome = await probe(attempt, self._logs)
            if not supervisor.is_current(attempt):
                attempt.settle("failed")
                return  # someone stopped or replaced it
            if outcome.ready and attempt.alive():
                attempt.settle("ready", at=self._clock())
                await self._statuses.move(attempt.cell_id, plan.name, ServiceStatus.READY)
                return
            attempt.settle("failed")
            exited = attempt.exit_code
            if attempt.alive():  # up, but not ready in time: stop it, one more failure
                await supervisor.end_process(attempt)
                if not supervisor.is_current(attempt):
                    return
            tail = await self._logs.tail(attempt.cell_id, plan.name)
            message = not_ready_message(plan, outcome.reason, exited) + " after a restart"
            failures = self.budgets.crashed(attempt.key, attempt.uptime(self._clock()))
            if not await self._back_off(attempt, failures, message, tail, exit_code=exited):
                return
            failed = attempt
