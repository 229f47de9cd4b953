"""Bodies of the delete workflow's steps: each cleanup is best-effort with a timeout."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from hive.core.errors import HiveError, StepError
from hive.core.steps import Step, substep
from hive.provisioning.context import RunContext
from hive.provisioning.workflow import StepSpec
from hive.services.identity import is_same_process
from hive.services.process_group import stop_tagged
from hive.services.process_tag import cell_tag
from hive.workspace.git import branch_exists, commits_beyond, delete_branch, run_git
from hive.workspace.worktree import remove_worktree


async def stop_services(ctx: RunContext, metadata: dict[str, Any]) -> None:
    # A create or retry still running owns setup processes: stopping it stops them.
    metadata["cancelledRun"] = await ctx.runs.cancel(ctx.cell.id)
    metadata["stopped"] = await ctx.supervisor.stop_cell(ctx.cell.id)
    # Anything else started for the cell that left its process group (a `setsid`
    # daemon of a service that crashed earlier, say) goes too.
    metadata["strays"] = await stop_tagged(
        cell_tag(ctx.cell.id), grace=ctx.settings.kill_grace_s, prefix=True
    )


async def release_ports(ctx: RunContext, metadata: dict[str, Any]) -> None:
    # After stop_services, and only if it worked: a port is never handed out while a
    # process that may use it is alive.
    for record in await ctx.stores.services.for_cell(ctx.cell.id):
        if (
            record.pid is not None
            and record.process_started is not None
            and await asyncio.to_thread(is_same_process, record.pid, record.process_started)
        ):
            raise StepError(
                f"service '{record.name}' (pid {record.pid}) is still running: its port "
                f"{record.port} stays leased",
                hint=f"stop process group {record.pid} by hand; the lease goes with the "
                "next delete or server start",
            )
    metadata["released"] = await ctx.allocator.release_cell(ctx.cell.id)


async def _uncommitted(worktree: Path) -> list[str]:
    """Paths `git status` reports in the worktree (changes a delete throws away)."""
    if not await asyncio.to_thread(worktree.is_dir):
        return []
    result = await run_git(worktree, "status", "--porcelain", check=False)
    if result.returncode != 0:
        return []
    return [line[3:] for line in result.stdout.splitlines() if len(line) > 3]


async def remove_workspace(ctx: RunContext, metadata: dict[str, Any]) -> None:
    repo, cell = ctx.workspace.path, ctx.cell
    warnings: list[str] = ctx.outcome.setdefault("warnings", [])
    removed = False
    async with ctx.timed(substep(Step.REMOVE_WORKSPACE, "worktree")) as meta:
        meta["path"] = str(cell.worktree_path)
        discarded = await _uncommitted(cell.worktree_path)
        if discarded:
            shown = ", ".join(discarded[:10]) + (" …" if len(discarded) > 10 else "")
            meta["discarded"] = discarded[:50]
            warnings.append(f"discarded {len(discarded)} uncommitted change(s): {shown}")
        try:
            await remove_worktree(repo, cell.worktree_path)
            removed = True
        except HiveError as exc:
            # Still decide about the branch below; the error is on this sub-step's row.
            meta["error"] = exc.message
            warnings.append(f"the worktree {cell.worktree_path} was not removed: {exc.message}")
    async with ctx.timed(substep(Step.REMOVE_WORKSPACE, "branch")) as meta:
        branch: dict[str, Any] = {"name": cell.branch_name, "deleted": False}
        if cell.base_commit is None or not await branch_exists(repo, cell.branch_name):
            branch["reason"] = "the branch does not exist (it was never made or is gone)"
        elif not removed:
            branch["reason"] = "kept: its worktree could not be removed"
        else:
            ahead = await commits_beyond(repo, cell.branch_name, cell.base_commit)
            branch["commitsBeyondBase"] = ahead
            if ahead == 0:
                await delete_branch(repo, cell.branch_name)
                branch["deleted"] = True
            else:
                branch["reason"] = (
                    f"kept: {ahead} commit(s) beyond the base commit {cell.base_commit[:12]}; "
                    f"delete it yourself with `git branch -D {cell.branch_name}` when done"
                )
        meta.update(branch=branch)
        ctx.outcome["branch"] = branch
    metadata["branchDeleted"] = branch["deleted"]


async def delete_cell_record(ctx: RunContext, metadata: dict[str, Any]) -> None:
    await ctx.stores.services.delete_cell(ctx.cell.id)
    await ctx.stores.cells.delete(ctx.cell.id)
    metadata["deleted"] = True


def delete_workflow(cleanup_timeout_s: float) -> tuple[StepSpec, ...]:
    return (
        StepSpec(Step.STOP_SERVICES, stop_services, cleanup_timeout_s, best_effort=True),
        StepSpec(Step.RELEASE_PORTS, release_ports, cleanup_timeout_s, best_effort=True),
        StepSpec(Step.REMOVE_WORKSPACE, remove_workspace, cleanup_timeout_s, best_effort=True),
        StepSpec(Step.DELETE_CELL_RECORD, delete_cell_record, 30),
    )
