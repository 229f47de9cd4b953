"""A service's own commands besides `run`: `setup` before it starts, `stop` before its
process group is ended; both write into its log."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from hive.config.schema import SetupCommand
from hive.core.errors import StepError
from hive.core.status import ServiceStatus
from hive.services.plan import ServicePlan
from hive.services.process_tag import setup_tag
from hive.services.setup_log import append, command_line
from hive.services.setup_retry import run_tries
from hive.services.shell import ProcessTracker, run_shell_command
from hive.services.statuses import ServiceStatuses, service_error

_STOP_COMMAND_TIMEOUT_S = 15.0

TimedTry = Callable[[str], AbstractAsyncContextManager[dict[str, Any]]]
"""Times one try of a setup command (the part's name given) and yields its metadata."""


@contextlib.asynccontextmanager
async def _untimed() -> AsyncIterator[dict[str, Any]]:
    yield {}


async def run_service_setup(
    cell_id: str,
    cwd: Path,
    plan: ServicePlan,
    statuses: ServiceStatuses,
    *,
    log_path: Path,
    timeout_s: float,
    grace_s: float,
    track: Callable[[str], ProcessTracker] | None,
    still_wanted: Callable[[], None],
    timed: TimedTry | None = None,
) -> None:
    """Run the commands in order, each with its retries; StepError naming the command
    when its last try fails, and the service is then in `error` with its output.

    `track(command)` keeps each command's process group on record, so a server killed
    mid-setup leaves nothing a restart cannot stop; `still_wanted()` raises when the
    service's cell is being stopped, so no further command starts. `timed(part)`, when
    given, times each try as its own row: `1` for command 1, `1#2` for its second try.
    """
    timeout_s = plan.setup_timeout_s or timeout_s
    total = len(plan.setup)
    for index, command in enumerate(plan.setup):

        async def once(number: int, index: int = index, command: SetupCommand = command) -> None:
            part = f"{index + 1}" if number == 1 else f"{index + 1}#{number}"
            async with timed(part) if timed else _untimed() as meta:
                meta["command"] = command.run
                if command.retries:
                    meta.update({"try": number, "tries": command.retries + 1})
                await try_once(number, index, command, meta)

        async def try_once(
            number: int, index: int, command: SetupCommand, meta: dict[str, Any]
        ) -> None:
            still_wanted()
            tries = command.retries + 1
            if number > 1:
                mark = command_line(index, total, number, tries)
                await asyncio.to_thread(append, log_path, mark)
            result = await run_shell_command(
                command.run,
                cwd=cwd,
                env=plan.env,
                log_path=log_path,
                timeout=timeout_s,
                grace=grace_s,
                track=track(command.run) if track else None,
                tag=setup_tag(cell_id, plan.name),
            )
            meta["exitCode"] = result.exit_code
            if result.exit_code != 0:
                what = (
                    "timed out" if result.timed_out else f"failed with exit code {result.exit_code}"
                )
                after = f" (try {number} of {tries})" if tries > 1 else ""
                where = f"service '{plan.name}': setup command {index + 1}"
                raise StepError(
                    f"{where} {what}{after}: {command.run}",
                    command=command.run,
                    exit_code=result.exit_code,
                    output_tail=result.output_tail,
                    hint=f"fix services.{plan.name}.setup[{index}] in hive.config.json, then retry",
                )

        try:
            await run_tries(command, once)
        except StepError as exc:
            await statuses.move(
                cell_id, plan.name, ServiceStatus.ERROR, pid=None, port=plan.port,
                last_error=service_error(exc.message, exc.output_tail),
            )  # fmt: skip
            raise


async def run_stop_command(
    plan: ServicePlan, worktree: Path, log_path: Path, *, grace_s: float
) -> None:
    """The service's `stop` command, best-effort: the group is ended after it anyway."""
    if not plan.stop:
        return
    with contextlib.suppress(Exception):
        await run_shell_command(
            plan.stop,
            cwd=worktree / plan.cwd,
            env=plan.env,
            log_path=log_path,
            timeout=_STOP_COMMAND_TIMEOUT_S,
            grace=grace_s,
        )
