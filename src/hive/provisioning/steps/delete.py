"""The delete workflow: cancel a running create, stop everything, give ports back, keep
uncommitted work as a snapshot, remove the worktree (the branch only when it holds no
new commits), drop the record. Cleanups are best-effort with a timeout, so a cell can
always be deleted; only the snapshot stops a delete, because work it cannot save would
be lost."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hive.core.errors import HiveError, StepError
from hive.core.steps import Step
from hive.ports.allocator import PortAllocator
from hive.provisioning.agent_sessions import AgentSessions
from hive.provisioning.engine.context import RunContext
from hive.provisioning.engine.workflow import StepSpec, WorkflowSpec
from hive.provisioning.steps.agent import CloseAgentSession
from hive.provisioning.steps.snapshot_work import snapshot_work
from hive.services.backend import ProcessBackend
from hive.services.cell_release import release_if_stopped
from hive.services.process_group import stop_tagged
from hive.services.process_tag import cell_tag
from hive.services.supervisor import Supervisor
from hive.store.cells import CellStore
from hive.store.services import ServiceStore
from hive.workspace.git import branch_exists, commits_beyond, delete_branch
from hive.workspace.worktree import remove_worktree

CancelRun = Callable[[str], Awaitable[bool]]
"""Stops the cell's running create or retry; True when there was one."""

#: `git add -A` of a large worktree may hash many files; a slow snapshot beats lost work.
SNAPSHOT_TIMEOUT_S = 300.0

_WORKTREE_REMOVED = "worktreeRemoved"
"""Outcome key: remove_workspace worked, so the branch may go."""


@dataclass(frozen=True)
class BranchOutcome:
    name: str
    deleted: bool
    reason: str | None = None
    commits_beyond_base: int | None = None

    def metadata(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


class CancelProvisioning:
    def __init__(self, cancel: CancelRun) -> None:
        self._cancel = cancel

    async def run(self, ctx: RunContext, metadata: dict[str, Any]) -> None:
        # A create or retry still running owns setup processes: stopping it stops them.
        metadata["cancelledRun"] = await self._cancel(ctx.cell.id)


class StopServices:
    def __init__(self, supervisor: Supervisor, grace_s: float) -> None:
        self._supervisor = supervisor
        self._grace_s = grace_s

    async def run(self, ctx: RunContext, metadata: dict[str, Any]) -> None:
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


async def remove_workspace(ctx: RunContext, metadata: dict[str, Any]) -> None:
    path = ctx.cell.worktree_path
    metadata["path"] = str(path)
    try:
        await remove_worktree(ctx.workspace.path, path)
    except HiveError as exc:
        raise StepError(
            f"the worktree {path} was not removed: {exc.message}", hint=exc.hint
        ) from exc
    ctx.outcome[_WORKTREE_REMOVED] = True


async def delete_cell_branch(ctx: RunContext, metadata: dict[str, Any]) -> None:
    cell = ctx.cell
    removed = bool(ctx.outcome.get(_WORKTREE_REMOVED))
    branch = await _settle_branch(ctx.workspace.path, cell.branch_name, cell.base_commit, removed)
    metadata.update(branch.metadata())
    ctx.outcome["branch"] = branch


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
    """The record goes last, and never while something started for the cell still runs:
    an earlier step that failed or timed out (stop_services, release_ports) would
    otherwise leave processes and leases nothing accounts for."""

    def __init__(
        self, cells: CellStore, services: ServiceStore, allocator: PortAllocator, grace_s: float
    ) -> None:
        self._cells = cells
        self._services = services
        self._allocator = allocator
        self._grace_s = grace_s

    async def run(self, ctx: RunContext, metadata: dict[str, Any]) -> None:
        cell_id = ctx.cell.id
        metadata["leftovers"] = await stop_tagged(
            cell_tag(cell_id), grace=self._grace_s, prefix=True
        )
        metadata["leasesReleased"] = await self._allocator.release_cell(cell_id)
        await self._services.delete_cell(cell_id)
        await self._cells.delete(cell_id)
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
    agents: AgentSessions,
) -> WorkflowSpec:
    """cancel_provisioning → close_agent_session → stop_services → release_ports →
    snapshot_work → remove_workspace → delete_branch → delete_cell_record."""
    timeout = cleanup_timeout_s
    record = DeleteCellRecord(cells, services, allocator, grace_s)
    return WorkflowSpec(
        steps=(
            StepSpec(
                Step.CANCEL_PROVISIONING, CancelProvisioning(cancel).run, timeout,
                best_effort=True,
            ),
            StepSpec(
                Step.CLOSE_AGENT_SESSION, CloseAgentSession(agents, keep=False).run, timeout,
                best_effort=True,
            ),
            StepSpec(
                Step.STOP_SERVICES, StopServices(supervisor, grace_s).run, timeout,
                best_effort=True,
            ),
            StepSpec(
                Step.RELEASE_PORTS, ReleasePorts(services, backend, allocator).run, timeout,
                best_effort=True,
            ),
            # Not best-effort: a delete that cannot keep the work stops, the cell kept.
            StepSpec(Step.SNAPSHOT_WORK, snapshot_work, SNAPSHOT_TIMEOUT_S),
            StepSpec(Step.REMOVE_WORKSPACE, remove_workspace, timeout, best_effort=True),
            StepSpec(Step.DELETE_BRANCH, delete_cell_branch, timeout, best_effort=True),
            StepSpec(Step.DELETE_CELL_RECORD, record.run, 30),
        )
    )  # fmt: skip
