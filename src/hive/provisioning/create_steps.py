"""Bodies of the create workflow's steps, and the workflow itself as data."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

from hive.config.schema import Template
from hive.core.errors import StepError
from hive.core.status import CellStatus
from hive.core.steps import Step, substep
from hive.provisioning.context import RunContext, require_template
from hive.provisioning.environment import command_environment
from hive.provisioning.service_steps import (
    allocate_ports,
    cell_ports,
    ensure_services,
    resolve_template_command,
    template_env,
)
from hive.provisioning.workflow import StepSpec
from hive.services.plan import port_variables
from hive.services.process_tag import setup_tag
from hive.services.shell import run_shell_command
from hive.workspace.git import branch_exists, head_commit
from hive.workspace.include_copy import CopyProgress, copy_included
from hive.workspace.placement import move_into
from hive.workspace.worktree import add_worktree, attach_worktree, worktree_exists


def retry_hint(ctx: RunContext) -> str:
    return f"then retry: `hive retry {ctx.cell.id}` or POST /api/cells/{ctx.cell.id}/retry"


async def create_worktree(ctx: RunContext, metadata: dict[str, Any]) -> None:
    template = require_template(ctx)
    repo, path = ctx.workspace.path, ctx.cell.worktree_path
    metadata.update(path=str(path), branch=ctx.cell.branch_name)
    async with ctx.timed(substep(Step.CREATE_WORKTREE, "base_commit")) as meta:
        if ctx.cell.base_commit is None:
            ctx.cell = await ctx.stores.cells.update(
                ctx.cell.id, base_commit=await head_commit(repo)
            )
        meta.update(baseCommit=ctx.cell.base_commit, baseRef=ctx.cell.base_ref or "HEAD")
    # On a retry the worktree may already be there; git is asked only in that case.
    if await asyncio.to_thread(path.exists) and await worktree_exists(repo, path):
        metadata["reused"] = True
        await _include_copy(ctx, template, path)
        return
    # Check out and copy at once: the copy goes to a staging directory (git wants an
    # empty target) and is renamed into the worktree afterwards.
    staging = path.parent / f".{path.name}.include"
    await asyncio.to_thread(_empty_directory, staging)
    try:
        await _both(_git_add(ctx), _include_copy(ctx, template, staging))
        async with ctx.timed(substep(Step.CREATE_WORKTREE, "place_included")) as meta:
            meta["renames"] = await asyncio.to_thread(move_into, staging, path)
    finally:
        await asyncio.shield(asyncio.to_thread(shutil.rmtree, staging, True))


async def _git_add(ctx: RunContext) -> None:
    repo, path, branch = ctx.workspace.path, ctx.cell.worktree_path, ctx.cell.branch_name
    async with ctx.timed(substep(Step.CREATE_WORKTREE, "git_add")) as meta:
        meta.update(branch=branch, startCommit=ctx.cell.base_commit)
        if await branch_exists(repo, branch):
            # A retry whose worktree was removed by hand: keep the branch and its work.
            meta["reattached"] = True
            await attach_worktree(repo, path, branch)
        else:
            await add_worktree(repo, path, branch, ctx.cell.base_commit or "")


async def _include_copy(ctx: RunContext, template: Template, dest: Path) -> None:
    step = substep(Step.CREATE_WORKTREE, "include_copy")

    async def progress(update: CopyProgress) -> None:
        await ctx.report_progress(step, done=update.done, total=update.total, bytes=update.bytes)

    async with ctx.timed(step) as meta:
        report = await copy_included(
            ctx.workspace.path,
            dest,
            template.include_patterns,
            template.ignore_patterns,
            on_progress=progress,
            threads=ctx.settings.copy_workers,
            worker_pool=ctx.copy_workers,
        )
        meta.update(report.metadata())


async def _both(first: Awaitable[None], second: Awaitable[None]) -> None:
    """Run two coroutines at once; if one fails (or we are cancelled), stop the other."""
    tasks = [asyncio.ensure_future(first), asyncio.ensure_future(second)]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in tasks:
            task.cancel()  # no-op for a finished task
        await asyncio.shield(asyncio.wait(tasks))
    for task in tasks:
        if not task.cancelled() and (error := task.exception()) is not None:
            raise error


def _empty_directory(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)


async def run_setup(ctx: RunContext, metadata: dict[str, Any]) -> None:
    template = require_template(ctx)
    ports = await cell_ports(ctx)
    env = command_environment(
        ctx.environ, ctx.cell, str(ctx.workspace.path), template_env(template, ports)
    )
    env.update(port_variables(ports))
    log_path = ctx.settings.logs_root / ctx.cell.id / "setup.log"
    metadata.update(commands=len(template.setup), log=str(log_path))
    for index, command in enumerate(template.setup):
        async with ctx.timed(substep(Step.RUN_SETUP, str(index + 1))) as meta:
            meta["command"] = command
            where = f"templates.{ctx.cell.template_id}.setup[{index}]"
            result = await run_shell_command(
                resolve_template_command(template, command, ports, where),
                cwd=ctx.cell.worktree_path,
                env=env,
                log_path=log_path,
                timeout=ctx.settings.setup_timeout_s,
                grace=ctx.settings.kill_grace_s,
                track=ctx.trackers("setup")(command),
                tag=setup_tag(ctx.cell.id),
            )
            meta["exitCode"] = result.exit_code
            if result.timed_out or result.exit_code != 0:
                what = (
                    f"timed out after {ctx.settings.setup_timeout_s:g}s"
                    if result.timed_out
                    else f"failed with exit code {result.exit_code}"
                )
                raise StepError(
                    f"setup command {index + 1} of {len(template.setup)} {what}: {command}",
                    command=command,
                    exit_code=result.exit_code,
                    output_tail=result.output_tail,
                    hint=(
                        f"fix templates.{ctx.cell.template_id}.setup[{index}] in the workspace "
                        f"config, or repair the worktree at {ctx.cell.worktree_path} "
                        f"(full log: {log_path}); {retry_hint(ctx)}"
                    ),
                )


async def mark_ready(ctx: RunContext, metadata: dict[str, Any]) -> None:
    ctx.cell = await ctx.stores.cells.transition(
        ctx.cell.id, CellStatus.READY, last_setup_error=None, run_id=None
    )
    metadata["status"] = str(ctx.cell.status)


CREATE_WORKFLOW: tuple[StepSpec, ...] = (
    StepSpec(Step.CREATE_WORKTREE, create_worktree, throttled=True),
    # Re-run on every attempt: a failed run gave its ports back.
    StepSpec(Step.ALLOCATE_PORTS, allocate_ports, timeout_s=120, rerun=True),
    StepSpec(Step.RUN_SETUP, run_setup),
    StepSpec(Step.ENSURE_SERVICES, ensure_services),
    StepSpec(Step.MARK_READY, mark_ready, timeout_s=30),
)
