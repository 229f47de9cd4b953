"""The process supervisor: starts a cell's services, watches them, restarts or reports
crashes, stops whole process groups, and re-adopts what survived a server restart.

It carries out `ServicePlan`s; deciding order, ports and environment is the plan's job.
Every fact a restarted server needs (pid, process start time, port, status) is saved in
`cell_services` as it happens; the handles kept here are only for processes of this run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from hive.core.errors import ConflictError, StepError
from hive.core.status import ServiceStatus
from hive.services.handle import ServiceHandle, after_stop
from hive.services.identity import process_start_time
from hive.services.leftovers import end_recorded, still_running
from hive.services.logs import ServiceLogs
from hive.services.plan import ServicePlan
from hive.services.probes import ProbeOutcome, wait_ready
from hive.services.process_group import stop_process_group
from hive.services.process_tag import service_tag, setup_tag, tagged
from hive.services.shell import ProcessTracker, run_shell_command
from hive.services.spawn import CWD_MISSING, spawn_service, wait_for_exit
from hive.store.clock import now_iso
from hive.store.services import ServiceStore

log = logging.getLogger(__name__)

_STOP_COMMAND_TIMEOUT_S = 15.0


class Supervisor:
    def __init__(
        self, store: ServiceStore, logs_root: Path, *, grace_s: float, setup_timeout_s: float
    ) -> None:
        self._store = store
        self.logs = ServiceLogs(logs_root)
        self._grace_s = grace_s
        self._setup_timeout_s = setup_timeout_s
        self._handles: dict[tuple[str, str], ServiceHandle] = {}
        # Cells whose services were stopped for good (deleted, failed): nothing may start
        # for them until a new run reopens them. Only meaningful while this server runs.
        self._closed: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    # -- starting ------------------------------------------------------------------

    def running(self, cell_id: str, name: str) -> bool:
        handle = self._handles.get((cell_id, name))
        return handle is not None and handle.alive()

    async def start(
        self,
        cell_id: str,
        worktree: Path,
        plan: ServicePlan,
        *,
        track: Callable[[str], ProcessTracker] | None = None,
    ) -> int:
        """Run the service's setup commands, then spawn it; returns its log offset."""
        self._refuse_second_copy(cell_id, plan.name)
        await self.run_setup(cell_id, worktree, plan, track=track)
        return await self.spawn(cell_id, worktree, plan)

    def reopen(self, cell_id: str) -> None:
        """A new create or retry run may start the cell's services again."""
        self._closed.discard(cell_id)

    def _refuse_closed(self, cell_id: str, name: str) -> None:
        if cell_id in self._closed:
            raise ConflictError(
                f"service '{name}' was not started: its cell is being stopped or deleted"
            )

    def _refuse_second_copy(self, cell_id: str, name: str) -> None:
        if self.running(cell_id, name):
            raise ConflictError(
                f"service '{name}' is already running",
                hint="restart it instead (`hive restart CELL SERVICE`)",
            )

    async def run_setup(
        self,
        cell_id: str,
        worktree: Path,
        plan: ServicePlan,
        *,
        track: Callable[[str], ProcessTracker] | None = None,
    ) -> None:
        """The service's own setup commands, in order, logged to its log.

        `track(command)` gives the tracker that keeps each command's process group on
        record, so a server killed mid-setup leaves nothing a restart cannot stop.
        """
        cwd = worktree / plan.cwd
        log_path = self.logs.path(cell_id, plan.name)
        for index, command in enumerate(plan.setup):
            self._refuse_closed(cell_id, plan.name)
            result = await run_shell_command(
                command,
                cwd=cwd,
                env=plan.env,
                log_path=log_path,
                timeout=self._setup_timeout_s,
                grace=self._grace_s,
                track=track(command) if track else None,
                tag=setup_tag(cell_id, plan.name),
            )
            if result.exit_code != 0:
                what = (
                    "timed out" if result.timed_out else f"failed with exit code {result.exit_code}"
                )
                await self._store.save(
                    cell_id, plan.name, status=ServiceStatus.ERROR, pid=None, port=plan.port
                )
                raise StepError(
                    f"service '{plan.name}': setup command {index + 1} {what}: {command}",
                    command=command,
                    exit_code=result.exit_code,
                    output_tail=result.output_tail,
                    hint=f"fix services.{plan.name}.setup[{index}] in hive.config.json, then retry",
                )

    async def spawn(self, cell_id: str, worktree: Path, plan: ServicePlan) -> int:
        """Start the service's process in its own group; returns where its output starts."""
        handle = await self._spawn(cell_id, worktree, plan)
        return handle.log_start

    async def _spawn(
        self,
        cell_id: str,
        worktree: Path,
        plan: ServicePlan,
        *,
        replacing: ServiceHandle | None = None,
        restarts: int | None = None,
    ) -> ServiceHandle:
        """`spawn`; with `replacing`, only while that (exited) handle is still the
        service's current one, so a stop or start meanwhile wins over a restart."""
        self._refuse_closed(cell_id, plan.name)
        self._refuse_second_copy(cell_id, plan.name)
        if restarts is None:
            restarts = await self._previous_restarts(cell_id, plan.name)
        cwd = worktree / plan.cwd
        fd, log_start = await asyncio.to_thread(self.logs.log(cell_id, plan.name).open_for_process)
        try:
            # Checked again with no await before the spawn: a stop_cell or another start
            # may have run while we were preparing.
            self._refuse_closed(cell_id, plan.name)
            self._refuse_second_copy(cell_id, plan.name)
            if replacing is not None and self._handles.get((cell_id, plan.name)) is not replacing:
                raise ConflictError(f"service '{plan.name}' was stopped or started meanwhile")
            env = tagged(plan.env, service_tag(cell_id, plan.name))
            pid = spawn_service(plan.run, env, cwd, fd)
        except OSError as exc:
            await self._store.save(cell_id, plan.name, status=ServiceStatus.ERROR, pid=None)
            raise StepError(
                f"service '{plan.name}' could not be started in {cwd}: {exc.strerror or exc}",
                hint=f"check services.{plan.name}.cwd and that the worktree exists",
            ) from exc
        finally:
            os.close(fd)
        # Known and watched before the first await: a cancellation (a delete) arriving
        # now still finds the process to stop.
        handle = ServiceHandle(cell_id, plan, worktree, pid, True, log_start, restarts=restarts)
        self._handles[(cell_id, plan.name)] = handle
        handle.monitor = self._background(self._watch(handle), f"watch:{plan.name}")
        try:
            await asyncio.shield(self._record_start(cell_id, plan, pid, restarts))
        finally:
            handle.recorded.set()
        self._keep_logs_rotated()
        return handle

    async def _record_start(self, cell_id: str, plan: ServicePlan, pid: int, restarts: int) -> None:
        started = await asyncio.to_thread(process_start_time, pid)
        await self._store.save(
            cell_id,
            plan.name,
            status=ServiceStatus.STARTING,
            pid=pid,
            process_started=started,
            port=plan.port,
            started_at=now_iso(),
            exit_code=None,
            last_error=None,
            restarts=restarts,
        )

    async def _previous_restarts(self, cell_id: str, name: str) -> int:
        record = await self._store.get(cell_id, name)
        return record.restarts if record else 0

    async def wait_ready(self, cell_id: str, plan: ServicePlan, log_start: int) -> str:
        """Wait for the readiness probe (a oneshot: for exit 0); returns the reason."""
        handle = self._handles.get((cell_id, plan.name))
        if handle is None:
            raise StepError(f"service '{plan.name}' was stopped before it got ready")
        if plan.oneshot:
            return await self._wait_completed(handle, plan)
        outcome = await self._probe(handle, plan, log_start)
        if outcome.ready and handle.alive():
            await self._store.save(cell_id, plan.name, status=ServiceStatus.READY)
            return outcome.reason
        exited = handle.exit_code  # read before we stop it
        tail = await self.logs.tail(cell_id, plan.name)
        await self.stop(cell_id, plan.name, status=ServiceStatus.ERROR)
        message = _not_ready_message(plan, outcome.reason, exited)
        await self._store.save(
            cell_id,
            plan.name,
            status=ServiceStatus.ERROR,
            exit_code=exited,
            last_error={"message": message, "outputTail": tail},
        )
        raise StepError(
            message,
            command=plan.run,
            exit_code=exited,
            output_tail=tail,
            hint=f"see its log ({self.logs.path(cell_id, plan.name)}); fix services.{plan.name} "
            "(run, ready, readyTimeoutMs) in hive.config.json, then retry",
        )

    async def _probe(
        self, handle: ServiceHandle, plan: ServicePlan, log_start: int
    ) -> ProbeOutcome:
        return await wait_ready(
            plan.ready,
            port=plan.port,
            log_path=self.logs.path(handle.cell_id, plan.name),
            log_start=log_start,
            env=plan.env,
            cwd=handle.worktree / plan.cwd,
            timeout_s=plan.ready_timeout_s,
            alive=handle.alive,
        )

    async def _wait_completed(self, handle: ServiceHandle, plan: ServicePlan) -> str:
        code: int | None
        try:
            await asyncio.wait_for(handle.done.wait(), plan.ready_timeout_s)
            code = handle.exit_code
        except TimeoutError:
            await self.stop(handle.cell_id, plan.name, status=ServiceStatus.ERROR)
            code = None
        if code == 0:
            return "completed with exit code 0"
        tail = await self.logs.tail(handle.cell_id, plan.name)
        what = "did not finish in time" if code is None else f"exited with code {code}"
        raise StepError(
            f"oneshot service '{plan.name}' {what}",
            command=plan.run,
            exit_code=code,
            output_tail=tail,
            hint=f"see its log ({self.logs.path(handle.cell_id, plan.name)}), fix it, then retry",
        )

    # -- watching ------------------------------------------------------------------

    async def _watch(self, handle: ServiceHandle) -> None:
        code = await wait_for_exit(handle.pid, reap=handle.child)
        handle.exit_code = code
        handle.done.set()
        await handle.recorded.wait()
        if handle.stopping:
            return
        key = next((k for k, h in self._handles.items() if h is handle), None)
        if key is None:
            return
        cell_id, name = key
        # Whatever the leader left behind (in its group or not) goes with it, even when
        # a stop cancels this watcher meanwhile.
        tag = service_tag(cell_id, name)
        await asyncio.shield(stop_process_group(handle.pid, grace=self._grace_s, tag=tag))
        plan = handle.plan
        tail = await self.logs.tail(cell_id, name)
        if self._handles.get(key) is not handle:
            return  # stopped or started again meanwhile: that has the last word
        if plan is not None and plan.oneshot and code == 0:
            await self._store.save(
                cell_id, name, status=ServiceStatus.COMPLETED, pid=None, exit_code=0
            )
            return
        message = f"service '{name}' exited" + (f" with code {code}" if code is not None else "")
        # code None: an adopted process, its code unknown, counts as a failure.
        restartable = plan is not None and not plan.oneshot and code != 0
        limit = plan.restart_limit if plan is not None and restartable else 0
        given_up = restartable and 0 < limit <= handle.restarts
        if given_up:
            message += f"; gave up after {handle.restarts} restart(s)"
        await self._store.save(
            cell_id,
            name,
            status=ServiceStatus.ERROR if given_up else ServiceStatus.CRASHED,
            pid=None,
            exit_code=code,
            last_error={"message": message, "outputTail": tail, "at": now_iso()},
        )
        log.warning("cell %s: %s", cell_id, message)
        if plan is not None and handle.restarts < limit:
            await self._restart_on_failure(handle, plan)

    async def _restart_on_failure(self, failed: ServiceHandle, plan: ServicePlan) -> None:
        """`restart: on-failure`: start the service again, with a growing pause, until it
        gets ready or the limit is reached. A new process that exits is its own watcher's
        to restart; one that stays up without getting ready is stopped here and retried."""
        key = (failed.cell_id, plan.name)
        while failed.restarts < plan.restart_limit:
            await asyncio.sleep(min(0.5 * 2**failed.restarts, 10))
            try:
                attempt = await self._spawn(
                    failed.cell_id,
                    failed.worktree,
                    plan,
                    replacing=failed,
                    restarts=failed.restarts + 1,
                )
            except (ConflictError, StepError):
                return  # stopped or started by hand, its cell closing, or it cannot start
            outcome = await self._probe(attempt, plan, attempt.log_start)
            if attempt.done.is_set() or self._handles.get(key) is not attempt:
                return  # it exited (its watcher decides), or someone stopped it
            if outcome.ready:
                await self._store.save(failed.cell_id, plan.name, status=ServiceStatus.READY)
                return
            # Up, but not ready in time: stop it and count one more failure. Its handle
            # stays the current one, so a stop or start by hand meanwhile is noticed.
            await self._terminate(attempt, plan.name)
            tail = await self.logs.tail(failed.cell_id, plan.name)
            if self._handles.get(key) is not attempt:
                return
            message = _not_ready_message(plan, outcome.reason, None) + " after a restart"
            given_up = attempt.restarts >= plan.restart_limit
            if given_up:
                message += f"; gave up after {attempt.restarts} restart(s)"
            await self._store.save(
                failed.cell_id,
                plan.name,
                status=ServiceStatus.ERROR if given_up else ServiceStatus.CRASHED,
                pid=None,
                last_error={"message": message, "outputTail": tail, "at": now_iso()},
            )
            failed = attempt

    def _background(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _keep_logs_rotated(self) -> None:
        self.logs.keep_rotated(
            lambda: [key for key, handle in self._handles.items() if handle.alive()]
        )

    # -- stopping ------------------------------------------------------------------

    async def stop(
        self, cell_id: str, name: str, *, status: ServiceStatus = ServiceStatus.STOPPED
    ) -> None:
        """Stop the service: its `stop` command if any, then TERM → grace → KILL the group."""
        handle = self._handles.pop((cell_id, name), None)
        record = await self._store.get(cell_id, name)
        if handle is None:
            if record:
                running = await still_running(record)
                await end_recorded(record, running=running, grace=self._grace_s)
                await self._store.save(
                    cell_id, name, status=after_stop(record.status, status), pid=None
                )
            return
        await self._terminate(handle, name)
        exit_code = handle.exit_code
        current = record.status if record else status
        await self._store.save(
            cell_id, name, status=after_stop(current, status), pid=None, exit_code=exit_code
        )

    async def _terminate(self, handle: ServiceHandle, name: str) -> None:
        """End a handle's process: `stop` command, then TERM → grace → KILL the group and
        whatever carries the service's tag; its exit is then no crash."""
        handle.stopping = True
        if handle.plan is not None and handle.plan.stop and handle.alive():
            with contextlib.suppress(Exception):
                await run_shell_command(
                    handle.plan.stop,
                    cwd=handle.worktree / handle.plan.cwd,
                    env=handle.plan.env,
                    log_path=self.logs.path(handle.cell_id, name),
                    timeout=_STOP_COMMAND_TIMEOUT_S,
                    grace=self._grace_s,
                )
        if not handle.done.is_set():
            # Once it exited, the watcher already stopped the rest of its group; the pid
            # may since belong to someone else.
            tag = service_tag(handle.cell_id, name)
            await asyncio.shield(stop_process_group(handle.pid, grace=self._grace_s, tag=tag))
        if handle.monitor is not None and handle.monitor is not asyncio.current_task():
            # It reaps the exited process and returns (stopping is set): wait for that.
            # A watcher busy restarting (or cleaning up after a crash) is cancelled; its
            # cleanup is shielded and finishes anyway.
            await asyncio.wait([handle.monitor], timeout=self._grace_s)
            handle.monitor.cancel()

    async def stop_cell(self, cell_id: str) -> list[str]:
        """Stop every service of the cell (known to this run or only to the database);
        nothing starts for it again until `reopen`."""
        self._closed.add(cell_id)
        names = {name for (cid, name) in self._handles if cid == cell_id}
        names |= {r.name for r in await self._store.for_cell(cell_id) if r.pid is not None}
        await asyncio.gather(*(self.stop(cell_id, name) for name in sorted(names)))
        return sorted(names)

    # -- server start and stop -----------------------------------------------------

    async def adopt(self, worktrees: dict[str, Path]) -> dict[str, list[str]]:
        """Re-adopt services still running from before a restart; mark the rest stopped.

        `worktrees` maps cell ids to their worktree. Returns {"adopted": [...], "gone": [...]}.
        """
        outcome: dict[str, list[str]] = {"adopted": [], "gone": []}
        for record in await self._store.with_process():
            label = f"{record.cell_id[:8]}/{record.name}"
            running = await still_running(record)
            if running and record.cell_id in worktrees and record.pid is not None:
                handle = ServiceHandle(
                    record.cell_id,
                    None,
                    worktrees[record.cell_id],
                    record.pid,
                    False,
                    0,
                    restarts=record.restarts,
                )
                handle.recorded.set()
                self._handles[(record.cell_id, record.name)] = handle
                handle.monitor = self._background(self._watch(handle), f"watch:{record.name}")
                outcome["adopted"].append(label)
                continue
            # Not running, or its cell is gone and nothing owns it.
            await end_recorded(record, running=running, grace=self._grace_s)
            await self._store.save(
                record.cell_id,
                record.name,
                status=ServiceStatus.STOPPED,
                pid=None,
                last_error={"message": "not running when the Hive server started", "at": now_iso()},
            )
            outcome["gone"].append(label)
        if self._handles:
            self._keep_logs_rotated()
        return outcome

    def adopt_plan(self, cell_id: str, plan: ServicePlan) -> None:
        """Give an adopted process its plan (stop command, restart policy) once known."""
        handle = self._handles.get((cell_id, plan.name))
        if handle is not None and handle.plan is None:
            handle.plan = plan

    async def close(self) -> None:
        """Stop watching; the services themselves keep running for the next server."""
        # Every watcher, also those of replaced handles that may still be restarting.
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        await self.logs.close()
        self._handles.clear()


def _not_ready_message(plan: ServicePlan, reason: str, exited: int | None) -> str:
    if exited == CWD_MISSING:
        return f"service '{plan.name}': its working directory {plan.cwd!r} does not exist"
    if exited is not None:
        return f"service '{plan.name}' exited with code {exited} before it was ready"
    return f"service '{plan.name}' did not get ready: {reason}"
