"""Runs workflows for cells in the background: one at a time per cell, failures recorded.

The runner owns the asyncio tasks of running workflows (they cannot outlive the
process anyway); everything a restarted server needs — statuses, completed steps,
the last error — is in the database, and `recover` acts on it at start-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from hive.config.cache import ConfigCache
from hive.config.schema import Template
from hive.core.errors import ConflictError, HiveError, StepError
from hive.core.status import CellStatus
from hive.core.steps import CREATE_STEPS, Step, Workflow
from hive.ports.allocator import PortAllocator
from hive.provisioning.context import RunContext, StepTiming, Stores, describe_error
from hive.provisioning.create_steps import CREATE_WORKFLOW
from hive.provisioning.delete_steps import delete_workflow
from hive.provisioning.workflow import StepSpec
from hive.services.identity import is_same_process
from hive.services.process_group import stop_process_group, stop_tagged
from hive.services.process_tag import setup_prefix
from hive.services.supervisor import Supervisor
from hive.settings import Settings
from hive.store.clock import now_iso
from hive.store.records import CellRecord
from hive.workspace.copy_process import CopyWorkerPool

log = logging.getLogger(__name__)


def error_payload(
    exc: BaseException, step: str | None, run_id: str, attempt: int
) -> dict[str, Any]:
    """The cell's `lastSetupError`: what failed, where, and what to do about it."""
    payload: dict[str, Any] = {
        "step": step,
        "message": describe_error(exc),
        "runId": run_id,
        "attempt": attempt,
        "at": now_iso(),
    }
    if isinstance(exc, HiveError) and exc.hint:
        payload["hint"] = exc.hint
    if isinstance(exc, StepError):
        payload.update(command=exc.command, exitCode=exc.exit_code, outputTail=exc.output_tail)
    if not isinstance(exc, HiveError):
        payload["hint"] = (
            f"an unexpected error inside Hive; the server log has the traceback. Then: {_NEXT}"
        )
    payload.setdefault("hint", f"fix the cause above, then: {_NEXT}")
    return payload


_NEXT = "retry the cell (`hive retry ID`, POST /api/cells/ID/retry) or delete it"


def _remaining_steps(cell: CellRecord) -> Iterator[str]:
    return (str(s) for s in CREATE_STEPS if str(s) not in cell.completed_steps)


class Runner:
    def __init__(
        self,
        settings: Settings,
        stores: Stores,
        configs: ConfigCache,
        supervisor: Supervisor,
        allocator: PortAllocator,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._settings = settings
        self._supervisor = supervisor
        self._allocator = allocator
        self._stores = stores
        self._configs = configs
        self._environ = dict(os.environ if environ is None else environ)
        self._creates: dict[str, asyncio.Task[None]] = {}
        self._deletes: dict[str, asyncio.Task[dict[str, Any]]] = {}
        self._closing = False
        self._heavy_slots = asyncio.Semaphore(settings.max_parallel_worktrees)
        self._copy_workers = CopyWorkerPool()

    # -- create / retry ------------------------------------------------------------

    def is_running(self, cell_id: str) -> bool:
        task = self._creates.get(cell_id)
        return task is not None and not task.done()

    def start_create(
        self,
        cell: CellRecord,
        workflow: Workflow = Workflow.CREATE,
        preamble: tuple[StepTiming, ...] = (),
    ) -> None:
        """Run the create workflow (or resume it, for a retry) in the background.

        `preamble` are timings measured by the request; the run persists them first.
        """
        if self.is_running(cell.id):
            raise ConflictError(
                f"cell '{cell.id}' is already being provisioned",
                hint="wait for the running attempt to finish (`hive show ID`)",
            )
        task = asyncio.create_task(
            self._run_create(cell, workflow, preamble), name=f"create:{cell.id}"
        )
        self._creates[cell.id] = task
        task.add_done_callback(lambda done: self._forget(self._creates, cell.id, done))

    async def _run_create(
        self, cell: CellRecord, workflow: Workflow, preamble: tuple[StepTiming, ...]
    ) -> None:
        # A cell waits in `pending` for a slot when other cells are making their worktrees:
        # twenty checkouts at once on two cores finish no sooner than two at a time, and
        # starve everything else (the API included) while they run.
        if str(Step.CREATE_WORKTREE) in cell.completed_steps and not await asyncio.to_thread(
            cell.worktree_path.is_dir
        ):
            # Removed by hand since: make it again rather than run setup in a void.
            steps = [s for s in cell.completed_steps if s != str(Step.CREATE_WORKTREE)]
            cell = await self._stores.cells.update(cell.id, completed_steps=steps)
        heavy = [s for s in CREATE_WORKFLOW if s.throttled and s.step not in cell.completed_steps]
        slot = _Slot(self._heavy_slots)
        queued_at = time.perf_counter()
        if heavy:
            await slot.acquire()
        try:
            queued_ms = (time.perf_counter() - queued_at) * 1000
            await self._provision(cell, workflow, preamble, slot, heavy[-1:], queued_ms)
        finally:
            slot.release()

    async def _provision(
        self,
        cell: CellRecord,
        workflow: Workflow,
        preamble: tuple[StepTiming, ...],
        slot: _Slot,
        last_heavy: list[StepSpec],
        queued_ms: float,
    ) -> None:
        run_id = cell.run_id or uuid.uuid4().hex[:12]
        ctx: RunContext | None = None
        self._supervisor.reopen(cell.id)
        try:
            ctx = await self._context(cell, workflow, run_id)
            for timing in preamble:
                await ctx.record(
                    timing.step, timing.started_at, timing.duration_ms, timing.metadata
                )
            if cell.status != CellStatus.SPAWNING:
                try:
                    ctx.cell = await self._stores.cells.transition(
                        cell.id, CellStatus.SPAWNING, run_id=run_id, last_setup_error=None
                    )
                except HiveError:
                    return  # deleted before the run began: nothing to provision
            for spec in CREATE_WORKFLOW:
                if str(spec.step) in ctx.cell.completed_steps and not spec.rerun:
                    continue
                await self._run_step(ctx, spec, queued_ms if spec.throttled else None)
                if spec in last_heavy:
                    slot.release()
                if str(spec.step) not in ctx.cell.completed_steps:
                    ctx.cell = await self._stores.cells.update(
                        cell.id, completed_steps=[*ctx.cell.completed_steps, str(spec.step)]
                    )
        except asyncio.CancelledError:
            if self._closing:
                await asyncio.shield(self._fail_create(cell, ctx, _interrupted()))
            raise
        except Exception as exc:
            if not isinstance(exc, HiveError):
                step = ctx.current_step if ctx else None
                log.exception("cell %s: step %s crashed", cell.id, step)
            await self._fail_create(cell, ctx, exc)

    async def _fail_create(
        self, cell: CellRecord, ctx: RunContext | None, exc: BaseException
    ) -> None:
        """Put a failed create in `error` — only if it is still being created: a cell a
        delete has taken over (`deleting`) stays the delete's."""
        step = ctx.current_step if ctx else next(_remaining_steps(cell), None)
        run_id = ctx.run_id if ctx else (cell.run_id or "")
        payload = error_payload(exc, step, run_id, cell.attempt)
        # Compensate: started services are stopped, then (never before) ports released.
        # The worktree stays for inspection and repair.
        try:
            await self._release_runtime(cell.id)
        except Exception:
            log.exception("cell %s: could not stop services after a failure", cell.id)
        with contextlib.suppress(HiveError):
            await self._stores.cells.transition(
                cell.id,
                CellStatus.ERROR,
                only_from=(CellStatus.PENDING, CellStatus.SPAWNING),
                last_setup_error=payload,
                run_id=None,
            )

    async def _release_runtime(self, cell_id: str) -> None:
        await self._supervisor.stop_cell(cell_id)
        await self._allocator.release_cell(cell_id)

    async def cancel(self, cell_id: str) -> bool:
        task = self._creates.get(cell_id)
        if task is None or task.done():
            return False
        task.cancel()
        await asyncio.wait([task], timeout=self._settings.cleanup_step_timeout_s)
        return True

    # -- delete --------------------------------------------------------------------

    async def delete(self, cell_id: str) -> dict[str, Any]:
        """Mark the cell deleting (hidden at once), then clean up; waits for the outcome.

        The task is registered before anything is awaited, so concurrent deletes of one
        cell all wait for the same run and get the same answer.
        """
        running = self._deletes.get(cell_id)
        if running is None or running.done():
            running = self._start_delete(cell_id)
        # Shielded: a client that disconnects must not leave a half-deleted cell.
        return await asyncio.shield(running)

    def _start_delete(
        self, cell_id: str, cell: CellRecord | None = None
    ) -> asyncio.Task[dict[str, Any]]:
        task = asyncio.create_task(self._run_delete(cell_id, cell), name=f"delete:{cell_id}")
        self._deletes[cell_id] = task
        task.add_done_callback(lambda done: self._forget(self._deletes, cell_id, done))
        return task

    async def _run_delete(self, cell_id: str, cell: CellRecord | None) -> dict[str, Any]:
        if cell is None:
            cell = await self._stores.cells.transition(cell_id, CellStatus.DELETING)
        run_id = uuid.uuid4().hex[:12]
        ctx = await self._context(cell, Workflow.DELETE, run_id)
        warnings: list[str] = []
        for spec in delete_workflow(self._settings.cleanup_step_timeout_s):
            try:
                await self._run_step(ctx, spec)
            except Exception as exc:
                if not spec.best_effort:
                    payload = error_payload(exc, ctx.current_step, run_id, cell.attempt)
                    with contextlib.suppress(HiveError):
                        await self._stores.cells.transition(
                            cell.id,
                            CellStatus.ERROR,
                            only_from=(CellStatus.DELETING,),
                            last_setup_error=payload,
                        )
                    raise
                warnings.append(f"{spec.step}: {describe_error(exc)}")
        return {
            "id": cell.id,
            "deleted": True,
            "branch": ctx.outcome.get("branch"),
            "warnings": [*ctx.outcome.get("warnings", []), *warnings],
        }

    # -- shared --------------------------------------------------------------------

    async def _run_step(
        self, ctx: RunContext, spec: StepSpec, queued_ms: float | None = None
    ) -> None:
        ctx.current_step = str(spec.step)
        async with ctx.timed(str(spec.step)) as metadata:
            if queued_ms is not None:
                metadata["queuedMs"] = round(queued_ms, 3)
            await self._run_body(ctx, spec, metadata)

    @staticmethod
    async def _run_body(ctx: RunContext, spec: StepSpec, metadata: dict[str, Any]) -> None:
        try:
            async with asyncio.timeout(spec.timeout_s):
                await spec.run(ctx, metadata)
        except TimeoutError as exc:
            raise StepError(
                f"step '{spec.step}' did not finish within {spec.timeout_s:g}s",
                hint="see the step's timing metadata and the server log; then retry",
            ) from exc

    async def context_for(self, cell: CellRecord, workflow: Workflow) -> RunContext:
        """A context for work on the cell outside a workflow run (service actions)."""
        return await self._context(cell, workflow, uuid.uuid4().hex[:12])

    async def _context(self, cell: CellRecord, workflow: Workflow, run_id: str) -> RunContext:
        workspace = await self._stores.workspaces.get(cell.workspace_id)
        return RunContext(
            settings=self._settings,
            stores=self._stores,
            workflow=workflow,
            run_id=run_id,
            attempt=cell.attempt,
            cell=cell,
            workspace=workspace,
            template=await self._template(workspace.path, cell.template_id),
            runs=self,
            supervisor=self._supervisor,
            allocator=self._allocator,
            environ=self._environ,
            copy_workers=self._copy_workers,
        )

    async def _template(self, root: Any, template_id: str) -> Template | None:
        try:
            config = await self._configs.aget(root)
        except HiveError:
            return None
        except Exception:  # a pathological file (RecursionError…): the run reports it
            log.exception("cannot load the config of %s", root)
            return None
        entry = config.template(template_id)
        return entry.template if entry is not None and entry.valid else None

    @staticmethod
    def _forget(tasks: dict[str, Any], cell_id: str, done: asyncio.Task[Any]) -> None:
        if tasks.get(cell_id) is done:
            del tasks[cell_id]

    # -- server start and stop -----------------------------------------------------

    async def recover(self) -> None:
        """Finish what a stopped server left: stop orphaned processes, resume deletes,
        fail interrupted creates."""
        grace = self._settings.kill_grace_s
        orphans = await self._stores.processes.list()
        for orphan in orphans:
            if await asyncio.to_thread(is_same_process, orphan.pid, orphan.process_started):
                log.warning(
                    "stopping orphaned %s process %d: %s", orphan.kind, orphan.pid, orphan.command
                )
                await stop_process_group(orphan.pid, grace=grace)
            await self._stores.processes.remove(orphan.id)
        for cell_id in sorted({orphan.cell_id for orphan in orphans}):
            # No setup runs yet: whatever a setup command left outside its group goes.
            strays = await stop_tagged(setup_prefix(cell_id), grace=grace, prefix=True)
            if strays:
                log.warning("stopped %d process(es) left by setup of cell %s", strays, cell_id)
        released = await self._stores.leases.release_orphans()
        if released:
            log.warning("released %d port lease(s) of cells that no longer exist", released)
        for cell in await self._stores.cells.list(statuses=[CellStatus.DELETING]):
            self._start_delete(cell.id, cell)
        interrupted = [CellStatus.PENDING, CellStatus.SPAWNING]
        for cell in await self._stores.cells.list(statuses=interrupted):
            step = next(_remaining_steps(cell), str(Step.MARK_READY))
            payload = error_payload(_interrupted(), step, cell.run_id or "", cell.attempt)
            await self._release_runtime(cell.id)
            await self._stores.cells.transition(
                cell.id, CellStatus.ERROR, last_setup_error=payload, run_id=None
            )

    async def close(self) -> None:
        """Stop running creates (their processes with them) and let deletes finish."""
        self._closing = True
        creates = [task for task in self._creates.values() if not task.done()]
        for task in creates:
            task.cancel()
        pending = creates + [task for task in self._deletes.values() if not task.done()]
        if pending:
            await asyncio.wait(pending, timeout=self._settings.cleanup_step_timeout_s)
        await self._copy_workers.close()


class _Slot:
    """One hold on a semaphore that may be given back early, and only once."""

    def __init__(self, semaphore: asyncio.Semaphore) -> None:
        self._semaphore = semaphore
        self._held = False

    async def acquire(self) -> None:
        await self._semaphore.acquire()
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._semaphore.release()


def _interrupted() -> StepError:
    return StepError(
        "provisioning was interrupted because the Hive server stopped",
        hint="retry the cell: `hive retry ID` or POST /api/cells/ID/retry",
    )
