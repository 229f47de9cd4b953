"""The delete workflow: stop everything, give ports back, remove the worktree (the
branch only when it holds no new commits), drop the record. Cleanups are best-effort
with a timeout, so a cell can always be deleted."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hive.core.errors import HiveError
from hive.core.steps import Step, substep
from hive.ports.allocator import PortAllocator
from hive.provisioning.engine.context import RunContext
from hive.provisioning.engine.workflow import StepSpec, WorkflowSpec
from hive.services.backend import ProcessBackend
from hive.services.cell_release import release_if_stopped
from hive.services.process_group import stop_tagged
from hive.services.process_tag import cell_tag
from hive.services.supervisor import Supervisor
from hive.store.cells import CellStore
from hive.store.services import ServiceStore
from hive.workspace.git import branch_exists, commits_beyond, delete_branch, run_git
from hive.workspace.worktree import remove_worktree

CancelRun = Callable[[str], Awaitable[bool]]
"""Stops the cell's running create or retry; True when there was one."""


@dataclass(frozen=True)
class BranchOutcome:
    name: str
    deleted: bool
    reason: str | None = None
    commits_beyond_base: int | None = None

    def metadata(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


class StopServices:
    def __init__(self, cancel: CancelRun, supervisor: Supervisor, grace_s: float) -> None:
        self._cancel = cancel
        self._supervisor = supervisor
        self._grace_s = grace_s

    async def run(self, ctx: RunContext, metadata: dict[str, Any]) -> None:
        # A create or retry still running owns setup processes: stopping it stops them.
        metadata["cancelledRun"] = await self._cancel(ctx.cell.id)
        metadata["stopped"] = await self._supervisor.stop_cell(ctx.cell.id)
        # Anything else started for the cell that left its process group (a `setsid`
        # daemon of a setup command, say) goes too.
        metadata["strays"] = await stop_tagged(
            cell_tag(ctx.cell.id), grace=self._grace_s, prefix=True
        )


class ReleasePorts:
    """After stop_services, and only if it worked: a port is never handed out while a
    process that may use it is alive."""

    def __init__(
        self, services: ServiceStore, backend: ProcessBackend, allocator: PortAllocator
    ) -> None:
        self._services = services
        self._backend = backend
        self._allocator = allocator

    async def run(self, ctx: RunContext, metadata: dict[str, Any]) -> None:
        metadata["released"] = await release_if_stopped(
            self._services, self._backend, self._allocator, ctx.cell.id
        )


async def _uncommitted(worktree: Path) -> list[str]:
    """Paths `git status` reports in the worktree (changes a delete throws away)."""
    if not await asyncio.to_thread(worktree.is_dir):
        return []
    result = await run_git(worktree, "status", "--porcelain", check=False)
    if result.returncode != 0:
        return []
    return [line[3:] for line in result.stdout.splitlines() if len(line) > 3]


async def remove_cell_worktree(ctx: RunContext, metadata: dict[str, Any]) -> None:
    repo, cell = ctx.workspace.path, ctx.cell
    warnings: list[str] = ctx.outcome.setdefault("warnings", [])
    removed = False
    async with ctx.timed(substep(Step.REMOVE_WORKTREE, "worktree")) as meta:
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
    async with ctx.timed(substep(Step.REMOVE_WORKTREE, "branch")) as meta:
        branch = await _settle_branch(repo, cell.branch_name, cell.base_commit, removed)
        meta.update(branch=branch.metadata())
        ctx.outcome["branch"] = branch
    metadata["branchDeleted"] = branch.deleted


async def _settle_branch(
    repo: Path, name: str, base_commit: str | None, worktree_removed: bool
) -> BranchOutcome:
    """Delete the cell's branch when it holds nothing beyond its base commit."""
    if base_commit is None or not await branch_exists(repo, name):
        return BranchOutcome(
            name, False, "the branch does not exist (it was never made or is gone)"
        )
    if not worktree_removed:
        return BranchOutcome(name, False, "kept: its worktree could not be removed")
    ahead = await commits_beyond(repo, name, base_commit)
    if ahead == 0:
        await delete_branch(repo, name)
        return BranchOutcome(name, True, commits_beyond_base=0)
    return BranchOutcome(
        name,
        False,
        f"kept: {ahead} commit(s) beyond the base commit {base_commit[:12]}; "
        f"delete it yourself with `git branch -D {name}` when done",
        commits_beyond_base=ahead,
    )


class DeleteCellRecord:
    def __init__(self, cells: CellStore, services: ServiceStore) -> None:
        self._cells = cells
        self._services = services

    async def run(self, ctx: RunContext, metadata: dict[str, Any]) -> None:
        await self._services.delete_cell(ctx.cell.id)
        await self._cells.delete(ctx.cell.id)
        metadata["deleted"] = True


def delete_workflow(
    *,
    cancel: CancelRun,
    supervisor: Supervisor,
    cells: CellStore,
    services: ServiceStore,
    backend: ProcessBackend,
    allocator: PortAllocator,
    cleanup_timeout_s: float,
    grace_s: float,
) -> WorkflowSpec:
    """stop_services → release_ports → remove_worktree → delete_cell_record."""
    timeout = cleanup_timeout_s
    return WorkflowSpec(
        steps=(
            StepSpec(
                Step.STOP_SERVICES, StopServices(cancel, supervisor, grace_s).run, timeout,
                best_effort=True,
            ),
            StepSpec(
                Step.RELEASE_PORTS, ReleasePorts(services, backend, allocator).run, timeout,
                best_effort=True,
            ),
            StepSpec(Step.REMOVE_WORKTREE, remove_cell_worktree, timeout, best_effort=True),
            StepSpec(Step.DELETE_CELL_RECORD, DeleteCellRecord(cells, services).run, 30),
        )
    )  # fmt: skip
