"""The Supervisor after things went wrong, driven through the fake backend: records a
killed server left, starts racing a crashed watcher, concurrent stops, leftovers that
take time to go, budgets across long readiness waits and server restarts."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from hive.core.errors import StepError
from hive.core.status import ServiceStatus
from hive.services.backend import TaggedProcess
from hive.services.plan import ServicePlan
from hive.services.supervisor import Supervisor

from .fake_backend import FakeBackend
from .test_supervisor import CELL, Rig, plan, rig

S = ServiceStatus
__all__ = ["rig"]  # the fixture, shared with test_supervisor


class SlowLeftovers(FakeBackend):
    """Ending what an exited leader left in its group takes until the test says so."""

    def __init__(self) -> None:
        super().__init__()
        self.cleaning = asyncio.Event()
        self.cleaned = asyncio.Event()
        self.release = asyncio.Event()

    async def terminate(
        self, pgid: int | None, strays: Sequence[TaggedProcess], *, grace: float
    ) -> None:
        process = self.processes.get(pgid) if pgid is not None else None
        if process is not None and not process.alive:
            self.cleaning.set()
            await self.release.wait()
            self.cleaned.set()
            return
        await super().terminate(pgid, strays, grace=grace)


class FailingSpawn(FakeBackend):
    fail = False

    def spawn(self, command: str, env: Mapping[str, str], cwd: Path, log_fd: int) -> int:
        if self.fail:
            raise OSError(2, "No such file or directory")
        return super().spawn(command, env, cwd, log_fd)


def later(rig: Rig, tmp_path: Path, backend: FakeBackend | None = None) -> Supervisor:
    """The next server's supervisor, over the same records and processes."""
    return Supervisor(
        rig.store, tmp_path / "logs", grace_s=1, setup_timeout_s=10,
        backend=backend or rig.backend, clock=rig.clock, sleep=rig.gate.sleep,
    )  # fmt: skip


async def test_a_stop_after_a_crash_waits_until_its_leftovers_are_gone(rig: Rig) -> None:
    backend = SlowLeftovers()
    rig.supervisor._backend = backend
    rig.backend = backend
    _, process = await rig.start_ready(plan())
    backend.exit(process.pid, 1)
    await backend.cleaning.wait()  # the watcher is ending what the leader left
    stopping = asyncio.create_task(rig.supervisor.stop(CELL, "web"))
    await rig.wait_status(S.STOPPING)
    assert not stopping.done(), "the stop answered while leftovers may hold the port"
    backend.release.set()
    await stopping
    assert backend.cleaned.is_set()
    assert await rig.status() == S.STOPPED


async def test_a_start_on_a_record_a_killed_server_left_stopping(rig: Rig) -> None:
    await rig.store.transition(CELL, "web", S.STARTING, pid=None)
    await rig.store.transition(CELL, "web", S.STOPPING)
    handle, process = await rig.start_ready(plan())
    record = await rig.store.get(CELL, "web")
    assert record is not None and (record.status, record.pid) == (S.READY, process.pid)
    rig.backend.exit(process.pid, 1)
    assert handle.monitor is not None
    await handle.monitor
    assert await rig.status() == S.CRASHED


async def test_a_start_while_the_crashed_watcher_cleans_up(rig: Rig) -> None:
    backend = SlowLeftovers()
    rig.supervisor._backend = backend
    rig.backend = backend
    _, first = await rig.start_ready(plan())
    backend.exit(first.pid, 1)
    await backend.cleaning.wait()  # the record still says ready
    handle, second = await rig.start_ready(plan())
    record = await rig.store.get(CELL, "web")
    assert record is not None and (record.status, record.pid) == (S.READY, second.pid)
    backend.release.set()
    backend.exit(second.pid, 4)
    assert handle.monitor is not None
    await handle.monitor
    record = await rig.store.get(CELL, "web")
    assert record is not None and (record.status, record.exit_code) == (S.CRASHED, 4)


async def test_two_stops_at_once_both_answer(rig: Rig) -> None:
    await rig.start_ready(plan())
    results = await asyncio.gather(
        rig.supervisor.stop(CELL, "web"), rig.supervisor.stop_cell(CELL), return_exceptions=True
    )
    assert not [r for r in results if isinstance(r, BaseException)]
    assert await rig.status() == S.STOPPED


async def test_a_completed_oneshot_that_cannot_start_again_is_an_error(rig: Rig) -> None:
    backend = FailingSpawn()
    rig.supervisor._backend = backend
    oneshot = plan("migrate", oneshot=True)
    handle = await rig.supervisor.spawn(CELL, rig.worktree, oneshot)
    process = await backend.next_spawn()
    waiting = asyncio.create_task(rig.supervisor.wait_ready(handle))
    backend.exit(process.pid, 0)
    await waiting
    backend.fail = True
    with pytest.raises(StepError, match="could not be started"):
        await rig.supervisor.start(CELL, rig.worktree, oneshot)
    record = await rig.store.get(CELL, "migrate")
    assert record is not None and record.status == S.ERROR
    assert record.last_error is not None and "could not be started" in record.last_error["message"]


async def test_a_restart_that_waited_long_and_never_got_ready_spends_the_budget(
    rig: Rig,
) -> None:
    service = replace(plan(restart_limit=1), ready_timeout_s=0.3)
    _, process = await rig.start_ready(service)
    rig.backend.exit(process.pid, 1)
    _, pause = await rig.gate.next()
    pause.set_result(None)
    await rig.backend.next_spawn()  # never prints "ready"
    rig.clock.now += 120  # its wait outlasted the stable time: still no uptime
    await rig.wait_status(S.ERROR)
    assert not rig.gate.pending


async def test_a_stop_during_a_later_backoff_calls_that_pause_off(rig: Rig) -> None:
    service = replace(plan(restart_limit=3), ready_timeout_s=0.2)
    _, process = await rig.start_ready(service)
    rig.backend.exit(process.pid, 1)
    _, pause = await rig.gate.next()
    pause.set_result(None)
    await rig.backend.next_spawn()  # never ready: one more failure, a second pause
    await rig.gate.next()
    await rig.wait_status(S.BACKOFF)
    await rig.supervisor.stop(CELL, "web")
    assert await rig.status() == S.STOPPED
    assert not rig.gate.pending and rig.backend.spawned.empty()


async def test_a_service_a_killed_server_left_starting_is_waited_for(
    rig: Rig, tmp_path: Path
) -> None:
    handle = await rig.supervisor.spawn(CELL, rig.worktree, plan())
    await rig.backend.next_spawn()
    await rig.wait_status(S.STARTING)
    await rig.supervisor.close()  # killed while the service was getting ready
    next_server = later(rig, tmp_path)
    try:
        await next_server.adopt({CELL: rig.worktree}, {(CELL, "web"): plan()})
        rig.backend.say(handle.pid, "ready")
        await rig.wait_status(S.READY)
    finally:
        await next_server.close()


async def test_a_stop_a_killed_server_left_under_way_is_finished(rig: Rig, tmp_path: Path) -> None:
    _, process = await rig.start_ready(plan())
    await rig.store.transition(CELL, "web", S.STOPPING)  # killed mid-stop
    await rig.supervisor.close()
    next_server = later(rig, tmp_path)
    try:
        outcome = await next_server.adopt({CELL: rig.worktree}, {(CELL, "web"): plan()})
        assert outcome == {"adopted": [], "gone": [f"{CELL[:8]}/web"]}
        assert not process.alive
        record = await rig.store.get(CELL, "web")
        assert record is not None and (record.status, record.pid) == (S.STOPPED, None)
    finally:
        await next_server.close()


async def test_an_adopted_service_up_for_long_has_its_whole_budget(
    rig: Rig, tmp_path: Path
) -> None:
    service: ServicePlan = plan(restart_limit=1)
    _, first = await rig.start_ready(service)
    rig.backend.exit(first.pid, 1)  # a quick crash: restart 1 of 1 used
    _, pause = await rig.gate.next()
    pause.set_result(None)
    second = await rig.backend.next_spawn()
    rig.backend.say(second.pid, "ready")
    await rig.wait_status(S.READY)
    await rig.supervisor.close()
    # The fake's processes started long ago (their start times are early epoch seconds).
    next_server = later(rig, tmp_path)
    try:
        await next_server.adopt({CELL: rig.worktree}, {(CELL, "web"): service})
        rig.backend.exit(second.pid, 1)
        await rig.gate.next()
        assert await rig.status() == S.BACKOFF
    finally:
        await next_server.close()
