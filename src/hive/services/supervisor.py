"""The process supervisor: starts a cell's services, watches them, restarts or reports
crashes (`crashes`), stops whole process groups, re-adopts what survived a restart.

It carries out `ServicePlan`s (order, ports and env are the plan's job), is the one
writer of a service's status (`statuses`), saves every fact a restarted server needs
as it happens, and reaches processes only through a `ProcessBackend`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any

from hive.core.errors import ConflictError, StepError
from hive.core.status import ServiceStatus
from hive.services.adoption import adopt_services, adopted_handle
from hive.services.backend import OsProcessBackend, ProcessBackend, TaggedProcess
from hive.services.crashes import CrashHandler
from hive.services.handle import ServiceHandle
from hive.services.leftovers import end_recorded, still_running
from hive.services.logs import ServiceLogs
from hive.services.plan import ServicePlan
from hive.services.process_end import end_handle
from hive.services.process_tag import cell_tag, service_tag, tagged
from hive.services.ready_wait import wait_until_ready
from hive.services.restarts import RestartPolicy
from hive.services.service_setup import TimedTry, run_service_setup
from hive.services.shell import ProcessTracker
from hive.services.statuses import ServiceStatuses, service_error
from hive.store.clock import now_iso
from hive.store.services import ServiceRecord, ServiceStore

log = logging.getLogger(__name__)

_S = ServiceStatus
#: Nothing runs and nothing is due: a stop has nothing to do (and keeps what it says).
_AT_REST = frozenset({_S.STOPPED, _S.COMPLETED, _S.CRASHED, _S.ERROR})

Key = tuple[str, str]


class Supervisor:
    def __init__(
        self,
        store: ServiceStore,
        logs_root: Path,
        *,
        grace_s: float,
        setup_timeout_s: float,
        start_grace_s: float = 1.0,
        backend: ProcessBackend | None = None,
        restart_policy: RestartPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._store = store
        self.logs = ServiceLogs(logs_root)
        self._grace_s = grace_s
        self._setup_timeout_s = setup_timeout_s
        self._start_grace_s = start_grace_s
        self._backend: ProcessBackend = backend or OsProcessBackend()
        self._statuses = ServiceStatuses(store)
        self._crashes = CrashHandler(
            self, self._statuses, self.logs, restart_policy or RestartPolicy(),
            clock=clock, sleep=sleep,
        )  # fmt: skip
        self._clock = clock
        self._handles: dict[Key, ServiceHandle] = {}
        # Cells whose services were stopped for good (deleted, failed): nothing may start
        # for them until a new run reopens them. Only meaningful while this server runs.
        self._closed: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def is_current(self, handle: ServiceHandle) -> bool:
        return self._handles.get(handle.key) is handle

    def now(self) -> float:
        return self._clock()

    # -- starting ----------------------------------------------------------------------

    def running(self, cell_id: str, name: str) -> bool:
        handle = self._handles.get((cell_id, name))
        return handle is not None and handle.alive()

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

    async def start(
        self,
        cell_id: str,
        worktree: Path,
        plan: ServicePlan,
        *,
        track: Callable[[str], ProcessTracker] | None = None,
    ) -> ServiceHandle:
        """Run the service's setup commands, then spawn it."""
        self._refuse_second_copy(cell_id, plan.name)
        await self.run_setup(cell_id, worktree, plan, track=track)
        return await self.spawn(cell_id, worktree, plan)

    async def restart(self, cell_id: str, worktree: Path, plan: ServicePlan) -> ServiceHandle:
        """Stop and start again (same port: the lease is the caller's and stays); a
        restart by hand gives `restart: on-failure` its whole budget again."""
        await self.stop(cell_id, plan.name)
        return await self.spawn(cell_id, worktree, plan)

    async def run_setup(
        self,
        cell_id: str,
        worktree: Path,
        plan: ServicePlan,
        *,
        track: Callable[[str], ProcessTracker] | None = None,
        timed: TimedTry | None = None,
    ) -> None:
        """The service's own setup commands (`service_setup`); a failure is its `error`."""
        await run_service_setup(
            cell_id, worktree / plan.cwd, plan, self._statuses,
            log_path=self.logs.path(cell_id, plan.name), timeout_s=self._setup_timeout_s,
            grace_s=self._grace_s, track=track,
            still_wanted=lambda: self._refuse_closed(cell_id, plan.name), timed=timed,
        )  # fmt: skip

    async def spawn(
        self,
        cell_id: str,
        worktree: Path,
        plan: ServicePlan,
        *,
        replacing: ServiceHandle | None = None,
        restarts: int = 0,
    ) -> ServiceHandle:
        """Start the service's process in its own group and watch it. With `replacing`
        (an exited handle), only while that is still the service's current handle, so a
        stop or start meanwhile wins over an automatic restart; without, a start by a
        run or a user, it starts with its restart budget whole."""
        key = (cell_id, plan.name)
        self._refuse_closed(cell_id, plan.name)
        self._refuse_second_copy(cell_id, plan.name)
        cwd = worktree / plan.cwd
        fd = -1
        try:
            log = self.logs.log(cell_id, plan.name)
            fd, log_start = await asyncio.to_thread(log.open_for_process)
            # Checked again with no await before the spawn: a stop_cell or another start
            # may have run while the log was opened.
            self._refuse_closed(cell_id, plan.name)
            self._refuse_second_copy(cell_id, plan.name)
            if replacing is not None and self._handles.get(key) is not replacing:
                raise ConflictError(f"service '{plan.name}' was stopped or started meanwhile")
            env = tagged(plan.env, service_tag(cell_id, plan.name))
            pid = self._backend.spawn(plan.run, env, cwd, fd)
        except OSError as exc:
            message = f"service '{plan.name}' could not be started in {cwd}: {exc.strerror or exc}"
            await self._statuses.move(
                cell_id, plan.name, _S.ERROR, pid=None, last_error=service_error(message)
            )
            raise StepError(
                message, hint=f"check services.{plan.name}.cwd and that the worktree exists"
            ) from exc
        finally:
            if fd >= 0:
                os.close(fd)
        # Known and watched before the first await: a cancellation (a delete) arriving
        # now still finds the process to stop.
        handle = ServiceHandle(
            cell_id, plan, worktree, pid, True, log_start, self._clock(), restarts=restarts
        )
        self._handles[key] = handle
        if replacing is None:
            self._crashes.budgets.renew(key)
        handle.monitor = self._background(self._watch(handle), f"watch:{plan.name}")
        try:
            await asyncio.shield(self._record_start(handle))
        except Exception:
            # Unrecorded, it could not be found again: it must not run on.
            handle.settle("failed")
            await self.discard(handle, _S.ERROR)
            raise
        finally:
            handle.recorded.set()
        self._keep_logs_rotated()
        return handle

    async def _record_start(self, handle: ServiceHandle) -> None:
        started = await self._backend.start_time(handle.pid)
        moved = await self._statuses.move(
            handle.cell_id, handle.name, _S.STARTING, pid=handle.pid, process_started=started,
            port=handle.plan.port, started_at=now_iso(), exit_code=None, last_error=None,
            restarts=handle.restarts,
        )  # fmt: skip
        if not moved:  # never lose the pid of a live process
            await self._store.save(
                handle.cell_id, handle.name, pid=handle.pid, process_started=started
            )

    async def wait_ready(self, handle: ServiceHandle) -> str:
        """Wait until the service is ready (`ready_wait.wait_until_ready`); the reason."""
        return await wait_until_ready(handle, self, self._statuses, self.logs)

    async def discard(self, handle: ServiceHandle, final: ServiceStatus, **fields: Any) -> None:
        """Stop a handle that is still the current one and leave it in `final`."""
        if self._handles.get(handle.key) is handle:
            del self._handles[handle.key]
        await self._stop_handle(handle, final, **fields)

    # -- watching ----------------------------------------------------------------------

    async def _watch(self, handle: ServiceHandle) -> None:
        code = await self._backend.wait_exit(handle.pid, reap=handle.child)
        handle.exit_code = code
        handle.done.set()
        await handle.recorded.wait()
        if handle.stopping:
            return  # the stop ends the rest of its group and writes its status
        # Whatever the leader left behind (in its group or not) goes with it, even when
        # a stop cancels this watcher meanwhile; a stop waits for it to be gone.
        handle.cleanup = asyncio.ensure_future(self._end_leftovers(handle))
        await asyncio.shield(handle.cleanup)
        try:
            # Whoever waits for its readiness decides first; one that never comes (its
            # caller went away between spawn and wait) leaves the exit to this watcher.
            async with asyncio.timeout(handle.plan.ready_timeout_s + 2 * self._grace_s + 5):
                await handle.settled.wait()
        except TimeoutError:
            handle.settle("unowned")
        if handle.stopping or handle.outcome in ("failed", "completed"):
            return
        if self.is_current(handle):
            await self._crashes.crashed(handle, code)

    async def _end_leftovers(self, handle: ServiceHandle) -> None:
        strays = await self._backend.find_tagged(service_tag(handle.cell_id, handle.name))
        await self._backend.terminate(handle.pid, strays, grace=self._grace_s)

    def _background(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _keep_logs_rotated(self) -> None:
        self.logs.keep_rotated(lambda: [k for k, h in self._handles.items() if h.alive()])

    # -- stopping ----------------------------------------------------------------------

    async def stop(
        self, cell_id: str, name: str, *, strays: Sequence[TaggedProcess] | None = None
    ) -> None:
        """Stop the service: its `stop` command if any, then TERM → grace → KILL the group
        and whatever carries its tag; a pending restart is called off. `strays` is a scan
        the caller already made (stop_cell scans once for the whole cell)."""
        handle = self._handles.pop((cell_id, name), None)
        if handle is not None:
            await self._stop_handle(handle, _S.STOPPED, strays=strays)
            return
        record = await self._store.get(cell_id, name)
        if record is None:
            return
        running = await still_running(self._backend, record)
        if not running and record.pid is None and ServiceStatus(record.status) in _AT_REST:
            return
        await self._statuses.move(cell_id, name, _S.STOPPING)
        await end_recorded(
            self._backend, record, running=running, grace=self._grace_s, strays=strays
        )
        await self._statuses.move(cell_id, name, _S.STOPPED, pid=None)

    async def _stop_handle(
        self,
        handle: ServiceHandle,
        final: ServiceStatus,
        *,
        strays: Sequence[TaggedProcess] | None = None,
        **fields: Any,
    ) -> None:
        record = await self._store.get(handle.cell_id, handle.name)
        at_rest = (
            record is not None and ServiceStatus(record.status) in _AT_REST and not handle.alive()
        )
        if at_rest and final == _S.STOPPED:
            await self.end_process(handle, strays)  # ends a watcher that is still cleaning up
            return
        await self._statuses.move(handle.cell_id, handle.name, _S.STOPPING)
        await self.end_process(handle, strays)
        fields.setdefault("exit_code", handle.exit_code)
        await self._statuses.move(handle.cell_id, handle.name, final, pid=None, **fields)

    async def end_process(
        self, handle: ServiceHandle, strays: Sequence[TaggedProcess] | None = None
    ) -> None:
        """End a handle's process (`process_end.end_handle`); its exit is then no crash."""
        await end_handle(
            handle, backend=self._backend, logs=self.logs, grace_s=self._grace_s, strays=strays
        )

    async def stop_cell(self, cell_id: str) -> list[str]:
        """Stop every service of the cell (known to this run or only to the database);
        nothing starts for it again until `reopen`."""
        self._closed.add(cell_id)
        names = {name for (cid, name) in self._handles if cid == cell_id}
        names |= {
            r.name
            for r in await self._store.for_cell(cell_id)
            if r.pid is not None or r.status == _S.BACKOFF
        }
        found = await self._backend.find_tagged(f"{cell_tag(cell_id)}service/", prefix=True)
        await asyncio.gather(
            *(
                self.stop(
                    cell_id,
                    name,
                    strays=[s for s in found if s.tag == service_tag(cell_id, name)],
                )
                for name in sorted(names)
            )
        )
        return sorted(names)

    # -- server start and stop ---------------------------------------------------------

    async def adopt(
        self, worktrees: Mapping[str, Path], plans: Mapping[Key, ServicePlan]
    ) -> dict[str, list[str]]:
        """Re-adopt services still running from before a restart (`adoption`)."""
        outcome = await adopt_services(
            self._statuses, self._backend, grace_s=self._grace_s, worktrees=worktrees,
            plans=plans, start_grace_s=self._start_grace_s, watch=self._watch_adopted,
        )  # fmt: skip
        if self._handles:
            self._keep_logs_rotated()
        return outcome

    def _watch_adopted(self, record: ServiceRecord, worktree: Path, plan: ServicePlan) -> None:
        handle = adopted_handle(record, worktree, plan, now=self._clock())
        self._crashes.budgets.seed(handle.key, record.restarts)
        self._handles[handle.key] = handle
        handle.monitor = self._background(self._watch(handle), f"watch:{record.name}")
        if not handle.settled.is_set():
            # Whoever waited for it to get ready went with the old server: wait here.
            self._background(self._ready_adopted(handle), f"ready:{record.name}")

    async def _ready_adopted(self, handle: ServiceHandle) -> None:
        try:
            await self.wait_ready(handle)
        except StepError as exc:
            log.warning("cell %s: %s", handle.cell_id, exc.message)

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
