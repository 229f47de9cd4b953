"""Request and response bodies. JSON keys are camelCase; Python names stay snake_case."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from hive.api.agent_schemas import AgentOut
from hive.api.bodies import _UNICODE, _Body, _Request
from hive.api.errors import status_for
from hive.config.schema import AgentMode
from hive.core.errors import HiveError
from hive.core.failure_kind import FailureKind
from hive.core.failures import SetupError
from hive.maintenance.gc import Finding
from hive.provisioning.requests.cells import (
    BranchOutcome,
    CellDeletion,
    DeleteResult,
    KeptSnapshot,
)
from hive.provisioning.requests.progress import CellProgressView
from hive.provisioning.requests.services import ServiceView
from hive.store.records import CellRecord, TimingEvent, WorkspaceRecord

#: One constraint or success criterion: a non-empty piece of text.
_BriefItem = Annotated[str, Field(min_length=1, max_length=2_000), _UNICODE]


class AddWorkspace(_Request):
    path: Annotated[str, Field(min_length=1), _UNICODE]
    label: Annotated[str, _UNICODE] | None = None


_ModelPart = Annotated[str, Field(min_length=1, max_length=200), _UNICODE]
_OptionText = Annotated[str, Field(max_length=200), _UNICODE]


class CreateCell(_Request):
    workspace_id: Annotated[str, Field(min_length=1), _UNICODE]
    template_id: Annotated[str, Field(min_length=1), _UNICODE]
    name: Annotated[str, _UNICODE]
    description: Annotated[str, Field(max_length=20_000), _UNICODE] | None = None
    constraints: Annotated[list[_BriefItem], Field(max_length=100)] = Field(default_factory=list)
    """What the agent must not do; each item a line of the prompt's Constraints."""
    success_criteria: Annotated[list[_BriefItem], Field(max_length=100)] = Field(
        default_factory=list
    )
    """How the agent's work is judged; each item a line of its Success criteria."""
    # Longer than PATH_MAX, it names no ref file; far longer, git could not even be started.
    base_ref: Annotated[str, Field(min_length=1, max_length=4096), _UNICODE] | None = None
    provider_id: _ModelPart | None = None
    """The model's provider, over the template's (its agent must be OpenCode)."""
    model_id: _ModelPart | None = None
    """The model, over the template's; alone, the provider that offers it is used."""
    start_mode: AgentMode | None = None
    """`plan` or `build`: the OpenCode agent the first turn runs as, over the config's."""
    options: Annotated[dict[_OptionText, _OptionText], Field(max_length=100)] = Field(
        default_factory=dict
    )
    """Values of the template's options (`{"database": "postgres"}`); the others take
    their defaults. An unknown name or value is a 422 naming it."""
    force: bool = False
    """Create the cell even if the template fails its checks here (without it, a 409
    lists every failed check)."""


class WorkspaceOut(_Body):
    id: str
    path: str
    label: str
    created_at: str

    @classmethod
    def of(cls, record: WorkspaceRecord) -> WorkspaceOut:
        return cls(
            id=record.id, path=str(record.path), label=record.label, created_at=record.created_at
        )


class WorkspaceList(_Body):
    workspaces: list[WorkspaceOut]


class RollbackStepOut(_Body):
    """One undo of a failed run and how it went."""

    step: str
    status: str = Field(description="`ok`, `failed: <reason>` or `skipped: <reason>`")


class SetupErrorOut(_Body):
    """Why a cell's last run failed, what was undone, and what to do (`lastSetupError`)."""

    kind: FailureKind
    step: str | None
    message: str
    run_id: str
    attempt: int
    at: str
    occurred_at: str = Field(description="the same moment as `at`")
    hint: str
    command: str | None = None
    exit_code: int | None = None
    output_tail: str | None = None
    rollback: list[RollbackStepOut]

    @classmethod
    def of(cls, failure: SetupError) -> SetupErrorOut:
        return cls.model_validate(failure, from_attributes=True)


class ProvisioningOut(_Body):
    """Where the create workflow is, for a checklist (`provisioning`)."""

    done: int
    """Steps of the create workflow done (all of them once the cell is ready)."""
    total: int
    current_step: str | None
    """The step running now; None while the cell waits (pending) or is not provisioning."""
    current_substep: str | None
    """Its running part when the step tells (`run_setup:2`; for
    `create_worktree:include_copy` the cell's `progress` has files done / total)."""
    steps: list[str]
    """Every step of the create workflow, in order."""
    remaining: list[str]
    """The steps not done yet, in order, the running one first."""


class EtaOut(_Body):
    """How long provisioning should still take (`eta`), from the per-step medians of the
    template's recent successful runs in this workspace."""

    expected_total_ms: float | None
    """The whole create run as history has it; null when there is no history."""
    remaining_ms: float | None
    """The steps not done yet, less what the running step has already spent (each
    step's share at least 0); null when there is no history."""
    basis: Literal["history", "none"]
    """`history`: medians over `runs` past runs; `none`: no successful run to go by."""
    runs: int
    defaulted_steps: list[str]
    """Steps no past run recorded, counted at a default duration."""


class CellOut(_Body):
    id: str
    name: str
    description: str | None
    constraints: list[str]
    success_criteria: list[str]
    status: str
    template_id: str
    workspace_id: str
    workspace_path: str
    """The cell's worktree: the TypeScript Hive's name for it, kept for its clients."""
    worktree_path: str
    """The cell's worktree."""
    branch_name: str
    base_ref: str | None
    base_commit: str | None
    attempt: int
    run_id: str | None
    """The running (or last unfinished) workflow run; None once the cell settled."""
    completed_steps: list[str]
    last_setup_error: SetupErrorOut | None
    progress: dict[str, Any] | None
    """Live progress of the running step, e.g. include-copy files done / total."""
    provisioning: ProvisioningOut
    eta: EtaOut | None
    """Present while the cell is pending or spawning."""
    agent: AgentOut | None
    """The cell's agent and what it is doing; None until ensure_agent_session ran."""
    options: dict[str, str]
    """The template options it was made with, defaults filled in."""
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, cell: CellRecord, view: CellProgressView) -> CellOut:
        steps, eta = view.provisioning, view.eta
        return cls(
            id=cell.id,
            name=cell.name,
            description=cell.description,
            constraints=list(cell.constraints),
            success_criteria=list(cell.success_criteria),
            status=str(cell.status),
            template_id=cell.template_id,
            workspace_id=cell.workspace_id,
            workspace_path=str(cell.worktree_path),
            worktree_path=str(cell.worktree_path),
            branch_name=cell.branch_name,
            base_ref=cell.base_ref,
            base_commit=cell.base_commit,
            attempt=cell.attempt,
            run_id=cell.run_id,
            completed_steps=list(cell.completed_steps),
            last_setup_error=(
                SetupErrorOut.of(cell.last_setup_error) if cell.last_setup_error else None
            ),
            progress=cell.progress,
            provisioning=ProvisioningOut(
                done=steps.done,
                total=steps.total,
                current_step=steps.current_step,
                current_substep=steps.current_substep,
                steps=list(steps.steps),
                remaining=list(steps.remaining),
            ),
            eta=(
                None
                if eta is None
                else EtaOut(
                    expected_total_ms=eta.expected_total_ms,
                    remaining_ms=eta.remaining_ms,
                    basis=eta.basis,
                    runs=eta.runs,
                    defaulted_steps=list(eta.defaulted_steps),
                )
            ),
            agent=AgentOut.of(cell.agent),
            options=dict(cell.options or {}),
            created_at=cell.created_at,
            updated_at=cell.updated_at,
        )


class CreatedCellOut(CellOut):
    """The answer to a create: the cell, and what its creator should know."""

    warnings: list[str] = []
    """E.g. the cells root's file system is low on space (below 10% or 5 GB free)."""


class CellList(_Body):
    cells: list[CellOut]


class BranchOut(_Body):
    """What a delete did with the cell's branch."""

    name: str
    deleted: bool
    reason: str | None = None
    """Why it was kept (new commits, a worktree that could not go) or is gone."""
    commits_beyond_base: int | None = None

    @classmethod
    def of(cls, branch: BranchOutcome) -> BranchOut:
        return cls.model_validate(branch, from_attributes=True)


class SnapshotOut(_Body):
    """The uncommitted work a delete kept, and how to bring it back."""

    ref: str
    commit: str
    parent: str
    """The cell's HEAD when the snapshot was taken."""
    files_changed: int
    files_added: int
    changed: list[str]
    """The first few changed files' paths."""
    added: list[str]
    rescue_command: str
    git_command: str
    """The same without Hive: a worktree checked out at the snapshot."""

    @classmethod
    def of(cls, kept: KeptSnapshot) -> SnapshotOut:
        s = kept.snapshot
        return cls(
            ref=s.ref,
            commit=s.commit,
            parent=s.parent,
            files_changed=s.files_changed,
            files_added=s.files_added,
            changed=list(s.changed),
            added=list(s.added),
            rescue_command=kept.rescue_command,
            git_command=kept.git_command,
        )


class DeletedCell(_Body):
    id: str
    deleted: bool
    branch: BranchOut | None
    snapshot: SnapshotOut | None = None
    """Set when the worktree held uncommitted work: where it was kept."""
    warnings: list[str]
    """Cleanup that did not fully work (a worktree left behind, a port still held)."""

    @classmethod
    def of(cls, deletion: CellDeletion) -> DeletedCell:
        return cls(
            id=deletion.id,
            deleted=True,
            branch=BranchOut.of(deletion.branch) if deletion.branch else None,
            snapshot=SnapshotOut.of(deletion.snapshot) if deletion.snapshot else None,
            warnings=deletion.warnings,
        )


class DeleteCells(_Request):
    ids: Annotated[list[Annotated[str, _UNICODE]], Field(min_length=1, max_length=1000)]


class ErrorOut(_Body):
    error: str
    message: str
    hint: str | None = None
    status: int
    """The HTTP status a delete of this cell alone would have answered."""


class DeleteResultOut(_Body):
    id: str
    ok: bool
    deleted: bool
    branch: BranchOut | None = None
    snapshot: SnapshotOut | None = None
    warnings: list[str] = []
    error: ErrorOut | None = None

    @classmethod
    def of(cls, result: DeleteResult) -> DeleteResultOut:
        if result.deletion is not None:
            done = DeletedCell.of(result.deletion)
            return cls(ok=True, **done.model_dump())
        error = result.error or HiveError("the delete gave no answer")
        body = error.to_dict()
        return cls(
            id=result.id,
            ok=False,
            deleted=False,
            error=ErrorOut(
                error=body["error"],
                message=body["message"],
                hint=body.get("hint"),
                status=status_for(error),
            ),
        )


class DeletedCells(_Body):
    results: list[DeleteResultOut]


class ServiceErrorOut(_Body):
    """Why a service is not running (`lastError`)."""

    message: str
    output_tail: str | None = None
    at: str | None = None
    restart_in_s: float | None = None
    """For a service in `backoff`: seconds until its restart was due, from `at`."""


class ServiceOut(_Body):
    name: str
    status: str
    """starting, ready, backoff (a restart is due), stopping, stopped, crashed (dead
    until someone acts), error (failed, or its restart budget is spent), completed, or
    "not started"."""
    port: int | None
    url: str | None
    pid: int | None
    started_at: str | None
    exit_code: int | None
    restarts: int
    last_error: ServiceErrorOut | None
    readiness: str | None
    """The check that decides it is ready: `tcp :20001`, `http GET /health`, `started,
    still alive after 1s` (no port, no probe), `exits 0 (oneshot)`…"""
    ready_reason: str | None = None
    """What passed, in the answer to a start or restart."""

    @classmethod
    def of(cls, view: ServiceView) -> ServiceOut:
        error = view.last_error
        return cls(
            name=view.name,
            status=view.status,
            port=view.port,
            url=view.url,
            pid=view.pid,
            started_at=view.started_at,
            exit_code=view.exit_code,
            restarts=view.restarts,
            last_error=(
                ServiceErrorOut.model_validate(error)
                if isinstance(error, dict) and isinstance(error.get("message"), str)
                else None
            ),
            readiness=view.readiness,
            ready_reason=view.ready_reason,
        )


class ServiceList(_Body):
    services: list[ServiceOut]


class TimingOut(_Body):
    id: int | None
    cell_id: str
    cell_name: str
    workspace_id: str
    template_id: str
    workflow: str
    run_id: str
    step: str
    status: str
    started_at: str
    duration_ms: float
    attempt: int
    error: str | None
    metadata: dict[str, Any] | None
    created_at: str | None

    @classmethod
    def of(cls, event: TimingEvent) -> TimingOut:
        return cls.model_validate(event, from_attributes=True)


class Timings(_Body):
    steps: list[TimingOut]
    runs: list[dict[str, Any]]
    next_cursor: str | None = None
    """Pass as `cursor` for the next (older) page; None on the last page."""


class StepStatsOut(_Body):
    step: str
    count: int
    p50_ms: float
    p90_ms: float
    max_ms: float
    failure_rate: float
    """Failed rows / rows, 0 to 1."""


class RunStatsOut(_Body):
    workflow: str
    count: int
    p50_ms: float
    """Of a run's total: the sum of its top-level steps."""
    p90_ms: float
    failure_rate: float
    """Runs with a failed top-level step / runs."""


class TemplateSummaryOut(_Body):
    template_id: str
    steps: list[StepStatsOut]
    runs: list[RunStatsOut]


class TimingSummary(_Body):
    templates: list[TemplateSummaryOut]
    percentiles: str = "nearest-rank"
    """p50/p90 are the ceil(p·n/100)-th smallest value: always a measured duration."""


class ChainLinkOut(_Body):
    step: str
    offset_ms: float
    """From the start of the run."""
    duration_ms: float
    status: str
    depth: int
    """0 for a step, 1 for a sub-step that decided its step's end."""


class CriticalChain(_Body):
    cell_id: str
    run_id: str | None
    """The cell's latest create or retry run; None when it has none yet."""
    workflow: str | None
    attempt: int | None
    status: str | None
    total_ms: float
    links: list[ChainLinkOut]


class FindingOut(_Body):
    kind: Literal["worktree", "worktree_entry", "branch", "lease", "process"]
    target: str
    """The path, branch, port or pid."""
    reason: str
    workspace: str | None
    kept_unless_forced: str | None
    """Why removing it could lose work (uncommitted changes, commits on no other branch)."""
    outcome: str | None
    """After a collection: `removed`, `kept: …` or `failed: …`."""

    @classmethod
    def of(cls, finding: Finding) -> FindingOut:
        return cls.model_validate(finding, from_attributes=True)


class Findings(_Body):
    findings: list[FindingOut]


class CollectGarbage(_Request):
    force: bool = False
    """Also what could lose work."""


class PromptSourceOut(_Body):
    path: str
    """A file relative to the repository, a URL, or `hive:base`/`hive:context`/`hive:brief`."""
    bytes: int


class PromptOut(_Body):
    prompt: str
    """The assembled prompt, as written to `.hive/PROMPT.md`."""
    sources: list[PromptSourceOut]
    """The fragments in the prompt's order, each with its rendered size."""
    warnings: list[str]
    """Sources skipped or served from the cache, globs that matched nothing."""
