"""Runs cell workflows in the background: one at a time per cell, every step timed and
checkpointed, a failure recorded on the cell and compensated.

The engine knows workflows as data (`WorkflowSpec`), never what a step does: each step
says whether it is already done, and the workflow's compensation undoes what a failed
run must not leave running. Everything a restarted server needs — statuses, completed
steps, the last error — is in the database, and `recover` acts on it at start-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hive.core.errors import ConflictError, HiveError, StepError
from hive.core.failure_kind import FailureKind
from hive.core.failures import RollbackStep, describe_error, setup_error
from hive.core.faults import FaultAction
from hive.core.status import CellStatus
from hive.core.steps import Step, Workflow
from hive.provisioning.engine.active import ActiveRuns
from hive.provisioning.engine.context import Cancellation, RunContext, StepTiming
from hive.provisioning.engine.faults import Faults
from hive.provisioning.engine.slots import Slot
from hive.provisioning.engine.workflow import StepSpec, WorkflowSpec
from hive.provisioning.templates import TemplateResolver
from hive.store.cells import CellStore
from hive.store.clock import now_iso
from hive.store.records import CellRecord
from hive.store.timings import TimingStore
from hive.store.workspaces import WorkspaceStore

log = logging.getLogger(__name__)

SHUTDOWN = "the Hive server is stopping"
CANCELLED = "cancelled on request"
MAX_RESUMES = 3
"""Resumes in a row after a restart before an interrupted create is left in `error`:
a step that brings the server down every time must not do so forever."""


@dataclass(frozen=True)
class DeleteRun:
    """What a delete run decided (`outcome`, set by its steps) and what went wrong on
    the way (best-effort steps that failed)."""

    cell_id: str
    outcome: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


class Runner:
    def __init__(
        self,
        *,
        cells: CellStore,
        workspaces: WorkspaceStore,
        timings: TimingStore,
        templates: TemplateResolver,
        runs: ActiveRuns,
        create: WorkflowSpec,
        delete: WorkflowSpec,
        max_parallel_worktrees: int,
        faults: Mapping[str, FaultAction] | None = None,
    ) -> None:
        self._cells = cells
        self._workspaces = workspaces
        self._timings = timings
        self._templates = templates
        self._runs = runs
        self._create = create
        self._delete = delete
        self._heavy_slots = asyncio.Semaphore(max_parallel_worktrees)
        self._faults = Faults(dict(faults or {}))

    # -- create / retry ----------------------------------------------------------------

    @property
    def create_steps(self) -> tuple[str, ...]:
        """The create workflow's step names in order, for progress views: read from the
        workflow itself, so no second list of them can drift."""
        return self._create.names()

    @property
    def create_reruns(self) -> frozenset[str]:
        """Create steps a retry runs again although checkpointed (ports, services)."""
        return self._create.every_attempt()

    @property
    def delete_steps(self) -> tuple[StepSpec, ...]:
        """The delete workflow's steps in order, with their timeouts and best-effort
        flags (what a test drives through the fault seam)."""
        return self._delete.steps

    def is_running(self, cell_id: str) -> bool:
        return self._runs.is_running(cell_id)

    def start_create(
        self,
        cell: CellRecord,
        workflow: Workflow = Workflow.CREATE,
        preamble: tuple[StepTiming, ...] = (),
        *,
        restart: bool = False,
        resumed: int = 0,
    ) -> None:
        """Run the create workflow (or resume it, for a retry) in the background.

        `preamble` are timings measured by the request; the run persists them first.
        `restart`: the cell was ready, so what it runs is stopped (and its ports given
        back, to be leased again) before its steps run again.
        `resumed`: which resume in a row after a restart this run is (0: none).
        """
        if self.is_running(cell.id):
            raise ConflictError(
                f"cell '{cell.id}' is already being provisioned",
                hint="wait for the running attempt to finish (`hive show ID`)",
            )
        cancellation = Cancellation()
        work = self._run_create(
            cell, workflow, preamble, cancellation, restart=restart, resumed=resumed
        )
        self._runs.start_create(cell.id, work, cancellation)

    async def settle(self, cell_id: str, timeout_s: float = 5.0) -> bool:
        """Wait (bounded) for a run whose cell is already settled to end its last word;
        True when no run of the cell is left."""
        return await self._runs.wait_create(cell_id, timeout_s)

    async def _run_create(
        self,
        cell: CellRecord,
        workflow: Workflow,
        preamble: tuple[StepTiming, ...],
        cancellation: Cancellation,
        *,
        restart: bool = False,
        resumed: int = 0,
    ) -> None:
        ctx: RunContext | None = None
        try:
            ctx = await self._context(cell, workflow, cell.run_id or _new_run_id())
            ctx.cancellation = cancellation
            ctx.resumed = resumed
            if restart and self._create.compensate is not None:
                # Services of the old template must not run beside the new ones.
                await self._create.compensate(cell)
            for timing in preamble:
                await ctx.record(
                    timing.step, timing.started_at, timing.duration_ms, timing.metadata
                )
            await self._provision(ctx)
        except asyncio.CancelledError:
            if cancellation.reason == SHUTDOWN:
                await asyncio.shield(self._fail(cell, ctx, _interrupted()))
            elif cancellation.reason == CANCELLED:
                await asyncio.shield(self._fail(cell, ctx, _cancelled()))
            raise  # otherwise a delete took the cell over: its steps clean up
        except Exception as exc:
            if not isinstance(exc, HiveError):
                log.exception("cell %s: step %s crashed", cell.id, ctx and ctx.current_step)
            await self._fail(cell, ctx, exc)

    async def _provision(self, ctx: RunContext) -> None:
        # A cell waits in `pending` for a slot when other cells are making their worktrees:
        # twenty checkouts at once on two cores finish no sooner than two at a time, and
        # starve everything else (the API included) while they run.
        heavy = [s for s in self._create.steps if s.throttled and not await s.is_done(ctx)]
        slot = Slot(self._heavy_slots)
        queued_at = time.perf_counter()
        if heavy:
            await slot.acquire()
        try:
            queued_ms = (time.perf_counter() - queued_at) * 1000
            if ctx.cell.status != CellStatus.SPAWNING:
                try:
                    ctx.cell = await self._cells.transition(
                        ctx.cell.id, CellStatus.SPAWNING, run_id=ctx.run_id, last_setup_error=None
                    )
                except HiveError:
                    return  # deleted before the run began: nothing to provision
            if self._create.prepare is not None:
                self._create.prepare(ctx.cell)
            for spec in self._create.steps:
                if await spec.is_done(ctx):
                    continue
                await self._run_step(ctx, spec, queued_ms if spec.throttled else None)
                if heavy and spec is heavy[-1]:
                    slot.release()
                if str(spec.step) not in ctx.cell.completed_steps:
                    ctx.cell = await self._cells.update(
                        ctx.cell.id, completed_steps=[*ctx.cell.completed_steps, str(spec.step)]
                    )
            await self._cells.announce(ctx.cell.id)
        finally:
            slot.release()

    async def _fail(self, cell: CellRecord, ctx: RunContext | None, exc: BaseException) -> None:
        """Compensate, then put a failed create in `error` — only if it is still being
        created: a cell a delete has taken over (`deleting`) stays the delete's."""
        step = ctx.current_step if ctx else self._create.first_undone(cell.completed_steps)
        run_id = ctx.run_id if ctx else (cell.run_id or "")
        failure = setup_error(
            exc, step=step, run_id=run_id, attempt=cell.attempt, at=now_iso(),
            part=_part_of(step, ctx.failed_part if ctx else None),
        )  # fmt: skip
        current = await self._cells.find(cell.id)
        if current is not None and current.status == CellStatus.READY:
            # Stopped after it became ready: nothing failed. Its last word may be unsaid.
            await self._cells.announce(cell.id)
            return
        failure = failure.with_rollback(await self._compensate(cell))
        with contextlib.suppress(HiveError):
            await self._cells.transition(
                cell.id,
                CellStatus.ERROR,
                only_from=(CellStatus.PENDING, CellStatus.SPAWNING),
                last_setup_error=failure,
                run_id=None,
            )
            await self._cells.announce(cell.id)

    async def _compensate(self, cell: CellRecord) -> tuple[RollbackStep, ...]:
        """What the compensation undid, each undo with how it went."""
        if self._create.compensate is None:
            return ()
        try:
            return await self._create.compensate(cell)
        except Exception as exc:
            log.exception("cell %s: could not undo a failed run", cell.id)
            return (RollbackStep("compensate", f"failed: {describe_error(exc)}"),)

    async def cancel(self, cell_id: str) -> bool:
        """Stop the cell's running create or retry for a delete; True when one was running."""
        return await self._runs.cancel(cell_id)

    async def cancel_provisioning(self, cell_id: str) -> bool:
        """Stop the cell's running create or retry on request: its processes are stopped,
        what it started is undone, and the cell ends in `error`. True when one ran."""
        return await self._runs.cancel(cell_id, CANCELLED)

    async def discard_worktree(self, cell_id: str) -> dict[str, Any]:
        """Remove a settled cell's worktree (and its branch when it holds no new
        commits) with the delete workflow's own steps; the cell record stays. Returns
        what the step decided (`branch`, `warnings`)."""
        cell = await self._cells.get(cell_id)
        # Its work is kept as a snapshot first, as a delete keeps it.
        wanted = (Step.SNAPSHOT_WORK, Step.REMOVE_WORKSPACE, Step.DELETE_BRANCH)
        ctx = await self._context(cell, Workflow.DISCARD, _new_run_id())
        for spec in (s for s in self._delete.steps if s.step in wanted):
            await self._run_step(ctx, spec)
        return ctx.outcome

    # -- delete ------------------------------------------------------------------------

    async def delete(self, cell_id: str) -> DeleteRun:
        """Mark the cell deleting (hidden at once), then clean up; waits for the outcome.

        The task is registered before anything is awaited, so concurrent deletes of one
        cell all wait for the same run and get the same answer.
        """
        running = self._runs.delete_task(cell_id)
        if running is None:
            running = self._runs.start_delete(cell_id, self._run_delete(cell_id, None))
        # Shielded: a client that disconnects must not leave a half-deleted cell.
        result: DeleteRun = await asyncio.shield(running)
        return result

    async def _run_delete(self, cell_id: str, cell: CellRecord | None) -> DeleteRun:
        if cell is None:
            cell = await self._cells.transition(cell_id, CellStatus.DELETING)
        ctx = await self._context(cell, Workflow.DELETE, _new_run_id())
        warnings: list[str] = []
        for spec in self._delete.steps:
            try:
                await self._run_step(ctx, spec)
            except Exception as exc:
                if not spec.best_effort:
                    failure = setup_error(
                        exc, step=ctx.current_step, run_id=ctx.run_id, attempt=cell.attempt,
                        at=now_iso(),
                    )  # fmt: skip
                    with contextlib.suppress(HiveError):
                        await self._cells.transition(
                            cell.id,
                            CellStatus.ERROR,
                            only_from=(CellStatus.DELETING,),
                            last_setup_error=failure,
                        )
                    raise
                warnings.append(f"{spec.step}: {describe_error(exc)}")
        return DeleteRun(cell.id, ctx.outcome, warnings)

    # -- short workflows ---------------------------------------------------------------

    async def run_aside(self, cell: CellRecord, workflow: Workflow, spec: WorkflowSpec) -> None:
        """A short workflow beside create and delete (archive), its steps timed like
        theirs; the first failure stops it and is raised."""
        ctx = await self._context(cell, workflow, _new_run_id())
        for step in spec.steps:
            await self._run_step(ctx, step)

    # -- shared ------------------------------------------------------------------------

    async def _run_step(
        self, ctx: RunContext, spec: StepSpec, queued_ms: float | None = None
    ) -> None:
        ctx.current_step = str(spec.step)
        async with ctx.timed(str(spec.step), announce=True, inject=False) as metadata:
            if queued_ms is not None:
                metadata["queuedMs"] = round(queued_ms, 3)
            if ctx.resumed:
                metadata["resumedAfterRestart"] = ctx.resumed
            try:
                async with asyncio.timeout(spec.timeout_s):
                    await ctx.faults.strike(str(spec.step))
                    await spec.run(ctx, metadata)
            except TimeoutError as exc:
                raise StepError(
                    f"step '{spec.step}' did not finish within {spec.timeout_s:g}s",
                    hint="see the step's timing metadata and the server log; then retry",
                ) from exc

    async def _context(self, cell: CellRecord, workflow: Workflow, run_id: str) -> RunContext:
        workspace = await self._workspaces.get(cell.workspace_id)
        return RunContext(
            workflow=workflow,
            run_id=run_id,
            attempt=cell.attempt,
            cell=cell,
            workspace=workspace,
            template=await self._templates.template(workspace.path, cell.template_id),
            timings=self._timings,
            faults=self._faults,
        )

    # -- server start and stop ---------------------------------------------------------

    async def recover(self) -> None:
        """Finish what a stopped server left: resume deletes, and resume interrupted
        creates from their last checkpoint (a new retry run, after their services were
        stopped and ports released) — unless their last MAX_RESUMES resumes were all cut
        short too: those are left in `error`, compensated, for a person to look at."""
        for cell in await self._cells.list(statuses=[CellStatus.DELETING]):
            self._runs.start_delete(cell.id, self._run_delete(cell.id, cell))
        for cell in await self._cells.list(statuses=[CellStatus.PENDING, CellStatus.SPAWNING]):
            # The streak counts only while the cell is still in the run a resume began:
            # a run that settled, or a retry by hand, started a new line.
            streak = cell.resume_streak if cell.resume_run_id == cell.run_id else 0
            if streak >= MAX_RESUMES:
                step = self._create.first_undone(cell.completed_steps) or str(Step.MARK_READY)
                ctx = await self._context(cell, Workflow.RETRY, cell.run_id or _new_run_id())
                ctx.current_step = step
                await self._fail(cell, ctx, _interrupted_again(streak))
                continue
            await self._compensate(cell)
            run_id = _new_run_id()
            cell = await self._cells.update(
                cell.id,
                run_id=run_id,
                attempt=cell.attempt + 1,
                resume_run_id=run_id,
                resume_streak=streak + 1,
            )
            log.warning("cell %s: resuming its interrupted provisioning (run %s)", cell.id, run_id)
            self.start_create(cell, Workflow.RETRY, resumed=streak + 1)

    async def close(self) -> None:
        """Stop running creates (their processes with them) and let deletes finish."""
        await self._runs.close(SHUTDOWN)


def _new_run_id() -> str:
    return uuid.uuid4().hex[:12]


def _part_of(step: str | None, part: str | None) -> str | None:
    """`part` when it belongs to `step`: a sub-step that failed in an earlier step and
    was let go says nothing about this failure."""
    if step is None or part is None:
        return None
    return part if part == step or part.startswith(f"{step}:") else None


def _cancelled() -> StepError:
    return StepError(
        "provisioning was cancelled on request; its processes were stopped and its ports "
        "released, the worktree is kept",
        hint="retry the cell to go on (`hive retry ID`), or delete it (`hive rm ID`)",
        kind=FailureKind.CANCELLED,
    )


def _interrupted_again(resumes: int) -> StepError:
    return StepError(
        f"provisioning was interrupted by a server stop {resumes + 1} times in a row "
        f"(the last {resumes} while resuming on its own after a restart); it is no longer "
        "resumed automatically",
        hint="look at the server log and the cell's timings for the step it was in "
        "(`hive timings ID`), then retry it by hand (`hive retry ID`) or delete it",
    )


def _interrupted() -> StepError:
    return StepError(
        "provisioning was interrupted because the Hive server stopped",
        hint="retry the cell: `hive retry ID` or POST /api/cells/ID/retry",
        kind=FailureKind.INTERRUPTED,
    )
