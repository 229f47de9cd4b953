"""Bodies of the delete workflow's steps: each cleanup is best-effort with a timeout."""

from __future__ import annotations

from typing import Any

from hive.core.steps import Step, substep
from hive.provisioning.context import RunContext
from hive.provisioning.workflow import StepSpec
from hive.workspace.git import branch_exists, commits_beyond, delete_branch
from hive.workspace.worktree import remove_worktree


async def stop_services(ctx: RunContext, metadata: dict[str, Any]) -> None:
    # A create or retry still running owns setup processes: stopping it stops them.
    metadata["cancelledRun"] = await ctx.runs.cancel(ctx.cell.id)


async def remove_workspace(ctx: RunContext, metadata: dict[str, Any]) -> None:
    repo, cell = ctx.workspace.path, ctx.cell
    async with ctx.timed(substep(Step.REMOVE_WORKSPACE, "worktree")) as meta:
        meta["path"] = str(cell.worktree_path)
        await remove_worktree(repo, cell.worktree_path)
    async with ctx.timed(substep(Step.REMOVE_WORKSPACE, "branch")) as meta:
        branch: dict[str, Any] = {"name": cell.branch_name, "deleted": False}
        if cell.base_commit is None or not await branch_exists(repo, cell.branch_name):
            branch["reason"] = "the branch does not exist (it was never made or is gone)"
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
    await ctx.stores.cells.delete(ctx.cell.id)
    metadata["deleted"] = True


def delete_workflow(cleanup_timeout_s: float) -> tuple[StepSpec, ...]:
    return (
        StepSpec(Step.STOP_SERVICES, stop_services, cleanup_timeout_s, best_effort=True),
        StepSpec(Step.REMOVE_WORKSPACE, remove_workspace, cleanup_timeout_s, best_effort=True),
        StepSpec(Step.DELETE_CELL_RECORD, delete_cell_record, 30),
    )
