"""Requests on cells: create (validate, insert, start the run), retry and delete."""

from __future__ import annotations

import asyncio
import logging
import time
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from hive.agents.choice import AgentRequest
from hive.config.cache import ConfigCache
from hive.core.errors import (
    ConflictError,
    HiveError,
    InvalidInputError,
    TransitionError,
)
from hive.core.failures import describe_error
from hive.core.run_progress import IN_PROGRESS
from hive.core.status import CellStatus
from hive.core.steps import Step, Workflow
from hive.provisioning.agent_sessions import AgentSessions
from hive.provisioning.engine.context import StepTiming
from hive.provisioning.engine.runner import Runner
from hive.provisioning.options import apply_options, choose_options
from hive.provisioning.requests.disk_space import SpaceCheck
from hive.provisioning.steps.delete import BranchOutcome
from hive.provisioning.steps.snapshot_work import SNAPSHOT_OUTCOME, KeptSnapshot
from hive.provisioning.template_checks import ChecksFailedError, TemplateChecks
from hive.provisioning.templates import usable_template
from hive.store.cells import CellStore
from hive.store.clock import now_iso
from hive.store.records import CellRecord
from hive.store.workspaces import WorkspaceStore
from hive.workspace.git import REF_HINT, resolve_commit
from hive.workspace.worktree import branch_name_for

MAX_NAME_LENGTH = 120
_RETRYABLE = (CellStatus.ERROR, CellStatus.READY)
_KEPT_ON_RERUN = [str(Step.CREATE_WORKTREE)]
_RETRY_HINTS = {
    CellStatus.PENDING: "it is being provisioned: wait for it, or cancel it",
    CellStatus.SPAWNING: "it is being provisioned: wait for it, or cancel it",
    CellStatus.DELETING: "it is being deleted",
}

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CreateCellRequest:
    workspace_id: str
    template_id: str
    name: str
    description: str | None = None
    base_ref: str | None = None
    constraints: tuple[str, ...] = ()
    success_criteria: tuple[str, ...] = ()
    agent: AgentRequest = field(default_factory=AgentRequest)
    """The model (`providerId`, `modelId`) and `startMode` chosen over the template's."""
    options: dict[str, str] = field(default_factory=dict)
    """Values of the template's options; the others take their defaults."""
    force: bool = False
    """Create it even if the template fails its checks here."""


def clean_name(name: str) -> str:
    """A cell name is free text for people; refuse only what cannot be shown."""
    cleaned = name.strip()
    if not cleaned:
        raise InvalidInputError("name: a cell needs a non-empty name")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise InvalidInputError(f"name: at most {MAX_NAME_LENGTH} characters")
    # Cc: controls (newline, tab); Zl/Zp: line and paragraph separators, shown as breaks.
    if any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in cleaned):
        raise InvalidInputError("name: control characters (newlines, tabs) are not allowed")
    return cleaned


__all__ = [
    "BranchOutcome",
    "CellDeletion",
    "CellLifecycle",
    "CreateCellRequest",
    "CreatedCell",
    "DeleteResult",
    "KeptSnapshot",
    "clean_name",
]


@dataclass(frozen=True)
class CreatedCell:
    """A cell just inserted, and what its creator should know (low disk space)."""

    cell: CellRecord
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CellDeletion:
    """What a delete did: the work it kept, the branch kept or deleted, and what went
    wrong on the way."""

    id: str
    branch: BranchOutcome | None
    warnings: list[str]
    snapshot: KeptSnapshot | None = None


@dataclass(frozen=True)
class DeleteResult:
    """One cell's answer within a bulk delete: what was done, or why not."""

    id: str
    deletion: CellDeletion | None = None
    error: HiveError | None = None


class CellLifecycle:
    def __init__(
        self,
        *,
        cells: CellStore,
        workspaces: WorkspaceStore,
        configs: ConfigCache,
        runner: Runner,
        worktrees_root: Path,
        agents: AgentSessions,
        checks: TemplateChecks,
        space: SpaceCheck | None = None,
    ) -> None:
        self._agents = agents
        self._checks = checks
        self._space = space
        self._cells = cells
        self._workspaces = workspaces
        self._configs = configs
        self._runner = runner
        self._worktrees_root = worktrees_root

    async def create(self, request: CreateCellRequest) -> CreatedCell:
        """Validate (the template, its options, its checks unless forced), insert the
        cell (`pending`) and start provisioning; returns at once. Refused (409) when the
        cells root's file system is nearly full, forced or not; warned when low."""
        received_at, began = now_iso(), time.perf_counter()
        name = clean_name(request.name)
        workspace = await self._workspaces.get(request.workspace_id)
        config = await self._configs.aget(workspace.path)
        template = usable_template(config, request.template_id)
        options = choose_options(template, request.options)
        # A model the cell's agent cannot take is refused now, not after a checkout.
        self._agents.plan(config, template, request.agent)
        if not request.force:
            applied, _ = apply_options(template, options)
            checks = await self._checks.run(workspace.path, applied)
            failed = [check for check in checks if not check.ok]
            if failed:
                raise ChecksFailedError(template.id, failed)
        warnings = await self._space.before_create() if self._space else []
        # Without a baseRef the run resolves HEAD itself: no git process in the request.
        base_commit = await self._resolve_base_ref(workspace.path, request.base_ref)
        cell_id = uuid.uuid4().hex
        validated_ms = (time.perf_counter() - began) * 1000
        stamp = now_iso()
        cell = CellRecord(
            id=cell_id,
            workspace_id=workspace.id,
            name=name,
            description=request.description,
            template_id=request.template_id,
            status=CellStatus.PENDING,
            worktree_path=self._worktrees_root / cell_id,
            branch_name=branch_name_for(name, cell_id),
            base_ref=request.base_ref,
            base_commit=base_commit,
            last_setup_error=None,
            completed_steps=(),
            run_id=uuid.uuid4().hex[:12],
            attempt=1,
            created_at=stamp,
            updated_at=stamp,
            constraints=request.constraints,
            success_criteria=request.success_criteria,
            agent_request=request.agent.to_json(),
            options=options,
        )
        insert_began = time.perf_counter()
        await self._cells.insert(cell)
        inserted_ms = (time.perf_counter() - insert_began) * 1000
        # The request's own steps are persisted by the run, off the request's path.
        self._runner.start_create(
            cell,
            preamble=(
                StepTiming(
                    str(Step.CREATE_REQUEST_RECEIVED),
                    received_at,
                    validated_ms,
                    {"templateId": request.template_id, "baseRef": request.base_ref},
                ),
                StepTiming(str(Step.CREATE_CELL_RECORD), stamp, inserted_ms, {"cellId": cell_id}),
            ),
        )
        return CreatedCell(cell, warnings)

    async def _resolve_base_ref(self, repo: Path, base_ref: str | None) -> str | None:
        if base_ref is None:
            return None
        commit = await resolve_commit(repo, base_ref, what="baseRef")
        if commit is None:
            raise InvalidInputError(
                f"baseRef: {base_ref!r} is not a branch, tag or commit of {repo}", hint=REF_HINT
            )
        return commit

    async def retry(self, cell_id: str) -> CellRecord:
        """Resume a failed create from the step that failed; on a ready cell, run setup
        and services again (how a changed template is applied). One run at a time."""
        cell = await self._cells.get(cell_id, include_hidden=True)
        if cell.status not in _RETRYABLE:
            raise ConflictError(
                f"cell '{cell_id}' is {cell.status}; only a cell in error or ready can be retried",
                hint=_RETRY_HINTS.get(cell.status),
            )
        # A run whose cell is settled is only saying its last word: wait for it.
        if not await self._runner.settle(cell_id):
            now = await self._cells.find(cell_id)
            if now is not None and now.run_id != cell.run_id:
                # Another request's retry (or a delete) started meanwhile.
                raise ConflictError(
                    f"cell '{cell_id}' is being retried or deleted by another request",
                    hint="read the cell again (`hive show ID`)",
                )
            raise ConflictError(
                f"cell '{cell_id}' is already being provisioned",
                hint="wait for the running attempt to finish, or cancel it",
            )
        again = cell.status == CellStatus.READY
        # Spawning before the answer, so nobody reads the old error as the retry's result;
        # the conditional transition also turns a second, racing retry into a conflict.
        try:
            cell = await self._cells.transition(
                cell_id,
                CellStatus.SPAWNING,
                only_from=(cell.status,),
                attempt=cell.attempt + 1,
                run_id=uuid.uuid4().hex[:12],
                last_setup_error=None,
                # A ready cell keeps only its worktree: setup and services run again.
                **({"completed_steps": _KEPT_ON_RERUN} if again else {}),
            )
        except TransitionError as exc:
            raise ConflictError(
                f"cell '{cell_id}' is being retried or deleted by another request",
                hint="read the cell again (`hive show ID`)",
            ) from exc
        self._runner.start_create(cell, Workflow.RETRY, restart=again)
        return cell

    async def cancel(self, cell_id: str, *, discard: bool = False) -> CellRecord:
        """Stop the cell's provisioning now; the cell ends in `error`, its worktree kept
        unless `discard` (then removed, and its branch when it has no new commits)."""
        cell = await self._cells.get(cell_id)
        cancelled = cell.status in IN_PROGRESS and await self._runner.cancel_provisioning(cell_id)
        cell = await self._cells.get(cell_id)
        if not cancelled or cell.status != CellStatus.ERROR:
            raise ConflictError(
                f"cell '{cell_id}' is {cell.status}; no provisioning is running to cancel",
                hint="only a cell that is pending or spawning can be cancelled",
            )
        return await self._discard(cell) if discard else cell

    async def _discard(self, cell: CellRecord) -> CellRecord:
        outcome = await self._runner.discard_worktree(cell.id)
        branch = outcome.get("branch")
        said: list[str] = []
        if isinstance(branch, BranchOutcome):
            said.append(
                f"branch {branch.name} "
                + ("deleted" if branch.deleted else branch.reason or "kept")
            )
        said += outcome.get("warnings", [])
        failure = cell.last_setup_error
        if failure is not None:
            failure = replace(
                failure,
                message="provisioning was cancelled on request and its worktree discarded"
                + "".join(f"; {line}" for line in said),
                hint="retry the cell to make it again from its base commit (`hive retry ID`), "
                "or delete it (`hive rm ID`)",
            )
        # Nothing checkpointed is there any more: a retry starts from the worktree.
        return await self._cells.update(cell.id, completed_steps=[], last_setup_error=failure)

    async def delete(self, cell_id: str) -> CellDeletion:
        run = await self._runner.delete(cell_id)
        branch = run.outcome.get("branch")
        snapshot = run.outcome.get(SNAPSHOT_OUTCOME)
        return CellDeletion(
            run.cell_id,
            branch if isinstance(branch, BranchOutcome) else None,
            list(run.warnings),
            snapshot if isinstance(snapshot, KeptSnapshot) else None,
        )

    async def delete_many(self, cell_ids: Sequence[str]) -> list[DeleteResult]:
        """Delete each cell (at once: each waits mostly on processes stopping); one
        cell's failure is its own result and stops no other."""
        unique = list(dict.fromkeys(cell_ids))
        outcomes = await asyncio.gather(
            *(self.delete(cell_id) for cell_id in unique), return_exceptions=True
        )
        results = []
        for cell_id, outcome in zip(unique, outcomes, strict=True):
            if isinstance(outcome, CellDeletion):
                results.append(DeleteResult(cell_id, deletion=outcome))
            elif isinstance(outcome, HiveError):
                results.append(DeleteResult(cell_id, error=outcome))
            elif isinstance(outcome, Exception):
                log.error("cell %s: delete crashed", cell_id, exc_info=outcome)
                results.append(DeleteResult(cell_id, error=HiveError(describe_error(outcome))))
            else:
                raise outcome
        return results
