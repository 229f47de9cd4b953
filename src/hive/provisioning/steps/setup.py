"""`run_setup`: the template's setup commands, in order, in the worktree."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from hive.config.schema import SetupCommand, Template
from hive.core.errors import StepError
from hive.core.steps import Step, substep
from hive.provisioning.engine.context import RunContext
from hive.provisioning.environment import CellEnvironment, CellEnvironments
from hive.services.process_records import ProcessRecords
from hive.services.process_tag import setup_tag
from hive.services.setup_log import append, attempt_line, command_line, setup_log_path
from hive.services.setup_retry import run_tries
from hive.services.shell import ProcessTracker, run_shell_command
from hive.store.cells import CellStore
from hive.store.clock import now_iso


def retry_hint(cell_id: str) -> str:
    return f"then retry: `hive retry {cell_id}` or POST /api/cells/{cell_id}/setup/retry"


class RunSetup:
    def __init__(
        self,
        cells: CellStore,
        environments: CellEnvironments,
        records: ProcessRecords,
        logs_root: Path,
        *,
        timeout_s: float,
        grace_s: float,
    ) -> None:
        self._cells = cells
        self._environments = environments
        self._records = records
        self._logs_root = logs_root
        self._timeout_s = timeout_s
        self._grace_s = grace_s

    async def run(self, ctx: RunContext, metadata: dict[str, Any]) -> None:
        template = ctx.require_template()
        cell = ctx.cell
        environment = await self._environments.of(cell, ctx.workspace.path, template)
        log_path = setup_log_path(self._logs_root, cell.id)
        # The template's commands, then those of the cell's chosen options.
        commands = environment.setup_commands()
        timeout_s = setup_timeout_s(template, self._timeout_s)
        metadata.update(commands=len(commands), log=str(log_path), timeoutS=timeout_s)
        if commands:
            # Every attempt appends to the same log: its own line tells them apart.
            header = attempt_line(ctx.attempt, ctx.run_id, now_iso(), len(commands))
            await asyncio.to_thread(append, log_path, header)
        run = _SetupRun(
            ctx,
            self._cells,
            environment,
            self._records.trackers(cell.id, "setup"),
            log_path=log_path,
            total=len(commands),
            timeout_s=timeout_s,
            grace_s=self._grace_s,
        )
        for index, command in enumerate(commands):
            await run_tries(command, partial(run.once, index, command))


def setup_timeout_s(template: Template, default_s: float) -> float:
    """How long one setup command may run: the template's `setupTimeoutMs`, else the
    server's setting."""
    if template.setup_timeout_ms is None:
        return default_s
    return template.setup_timeout_ms / 1000


class _SetupRun:
    """One run of `run_setup`: runs a try of a command as its own timing row."""

    def __init__(
        self,
        ctx: RunContext,
        cells: CellStore,
        environment: CellEnvironment,
        track: Callable[[str], ProcessTracker],
        *,
        log_path: Path,
        total: int,
        timeout_s: float,
        grace_s: float,
    ) -> None:
        self._ctx, self._cells, self._environment, self._track = ctx, cells, environment, track
        self._env = environment.setup_env()
        self._log_path, self._total = log_path, total
        self._timeout_s, self._grace_s = timeout_s, grace_s

    async def once(self, index: int, command: SetupCommand, number: int) -> None:
        """Try `number` of command `index`: `run_setup:<n>`, then `run_setup:<n>#<try>`."""
        ctx, cell, total, tries = self._ctx, self._ctx.cell, self._total, command.retries + 1
        part = substep(Step.RUN_SETUP, str(index + 1))
        if number > 1:
            part += f"#{number}"
        # Which command runs is known only here; the cell's progress tells readers.
        ctx.cell = await self._cells.update(
            cell.id,
            progress={
                "step": part,
                "done": index,
                "total": total,
                "command": command.run,
                "try": number,
                "tries": tries,
                "runId": ctx.run_id,
                "at": now_iso(),
            },
        )
        async with ctx.timed(part) as meta:
            meta["command"] = command.run
            if tries > 1:
                meta.update({"try": number, "tries": tries})
            mark = command_line(index, total, number, tries)
            await asyncio.to_thread(append, self._log_path, mark)
            result = await run_shell_command(
                self._environment.setup_command(index),
                cwd=cell.worktree_path,
                env=self._env,
                log_path=self._log_path,
                timeout=self._timeout_s,
                grace=self._grace_s,
                track=self._track(command.run),
                tag=setup_tag(cell.id),
            )
            meta["exitCode"] = result.exit_code
            if result.timed_out or result.exit_code != 0:
                what = (
                    f"timed out after {self._timeout_s:g}s"
                    if result.timed_out
                    else f"failed with exit code {result.exit_code}"
                )
                after = f" (try {number} of {tries})" if tries > 1 else ""
                raise StepError(
                    f"setup command {index + 1} of {total} {what}{after}: {command.run}",
                    command=command.run,
                    exit_code=result.exit_code,
                    output_tail=result.output_tail,
                    hint=(
                        f"fix {self._environment.setup_path(index)} in the workspace "
                        f"config, or repair the worktree at {cell.worktree_path} "
                        f"(full log: {self._log_path}); {retry_hint(cell.id)}"
                    ),
                )
