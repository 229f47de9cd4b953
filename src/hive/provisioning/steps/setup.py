"""`run_setup`: the template's setup commands, in order, in the worktree."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from hive.core.errors import StepError
from hive.core.steps import Step, substep
from hive.provisioning.engine.context import RunContext
from hive.provisioning.environment import CellEnvironments
from hive.services.process_records import ProcessRecords
from hive.services.process_tag import setup_tag
from hive.services.setup_log import append, attempt_line, command_line, setup_log_path
from hive.services.shell import run_shell_command
from hive.store.cells import CellStore
from hive.store.clock import now_iso


def retry_hint(cell_id: str) -> str:
    return f"then retry: `hive retry {cell_id}` or POST /api/cells/{cell_id}/retry"


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
        env = environment.setup_env()
        log_path = setup_log_path(self._logs_root, cell.id)
        track = self._records.trackers(cell.id, "setup")
        total = len(template.setup)
        metadata.update(commands=total, log=str(log_path))
        if total:
            # Every attempt appends to the same log: its own line tells them apart.
            header = attempt_line(ctx.attempt, ctx.run_id, now_iso(), total)
            await asyncio.to_thread(append, log_path, header)
        for index, command in enumerate(template.setup):
            part = substep(Step.RUN_SETUP, str(index + 1))
            # Which command runs is known only here; the cell's progress tells readers.
            ctx.cell = await self._cells.update(
                cell.id,
                progress={
                    "step": part,
                    "done": index,
                    "total": total,
                    "command": command,
                    "runId": ctx.run_id,
                    "at": now_iso(),
                },
            )
            async with ctx.timed(part) as meta:
                meta["command"] = command
                await asyncio.to_thread(append, log_path, command_line(index, total))
                result = await run_shell_command(
                    environment.setup_command(index),
                    cwd=cell.worktree_path,
                    env=env,
                    log_path=log_path,
                    timeout=self._timeout_s,
                    grace=self._grace_s,
                    track=track(command),
                    tag=setup_tag(cell.id),
                )
                meta["exitCode"] = result.exit_code
                if result.timed_out or result.exit_code != 0:
                    what = (
                        f"timed out after {self._timeout_s:g}s"
                        if result.timed_out
                        else f"failed with exit code {result.exit_code}"
                    )
                    raise StepError(
                        f"setup command {index + 1} of {total} {what}: {command}",
                        command=command,
                        exit_code=result.exit_code,
                        output_tail=result.output_tail,
                        hint=(
                            f"fix templates.{cell.template_id}.setup[{index}] in the workspace "
                            f"config, or repair the worktree at {cell.worktree_path} "
                            f"(full log: {log_path}); {retry_hint(cell.id)}"
                        ),
                    )
