"""The Supervisor's races, driven step by step through a fake process backend: a stop
during backoff, a manual restart against an automatic one, a crash during readiness,
and the restart budget over time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from hive.core.errors import StepError
from hive.core.status import ServiceStatus
from hive.services.handle import ServiceHandle
from hive.services.plan import ServicePlan
from hive.services.readiness import Readiness
from hive.services.restarts import RestartPolicy
from hive.services.supervisor import Supervisor
from hive.store.database import open_database
from hive.store.services import ServiceStore

from .fake_backend import FakeBackend, FakeProcess, Gate

CELL = "c" * 32
S = ServiceStatus


def plan(name: str = "web", *, restart_limit: int = 0, oneshot: bool = False) -> ServicePlan:
    return ServicePlan(
        name=name,
        run=f"serve {name}",
        setup=(),
        stop=None,
        cwd="",
        env={},
        port=None,
        depends_on={},
        # Ready once the fake prints "ready": the test decides when.
        readiness=Readiness("exit") if oneshot else Readiness("log", "ready", 0.01),
        ready_timeout_s=30,
        oneshot=oneshot,
        restart_limit=restart_limit,
    )


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Rig:
    def __init__(self, supervisor: Supervisor, store: ServiceStore, backend: FakeBackend,
                 gate: Gate, clock: Clock, worktree: Path) -> None:  # fmt: skip
        self.supervisor, self.store, self.backend = supervisor, store, backend
        self.gate, self.clock, self.worktree = gate, clock, worktree

    async def status(self, name: str = "web") -> str | None:
        record = await self.store.get(CELL, name)
        return record.status if record else None

    async def wait_status(self, wanted: str, name: str = "web", timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while (current := await self.status(name)) != wanted:
            assert time.monotonic() < deadline, f"{name} stayed {current}, never {wanted}"
            await asyncio.sleep(0.01)

    async def start_ready(self, service: ServicePlan) -> tuple[ServiceHandle, FakeProcess]:
        handle = await self.supervisor.spawn(CELL, self.worktree, service)
        process = await self.backend.next_spawn()
        self.backend.say(process.pid, "ready")
        await self.supervisor.wait_ready(handle)
        return handle, process


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    db = await open_database(tmp_path / "hive.db")
    store = ServiceStore(db)
    backend, gate, clock = FakeBackend(), Gate(), Clock()
    supervisor = Supervisor(
        store,
        tmp_path / "logs",
        grace_s=1,
        setup_timeout_s=10,
        backend=backend,
        restart_policy=RestartPolicy(stable_s=60),
        clock=clock,
        sleep=gate.sleep,
    )
    worktree = tmp_path / "worktree"
    worktree.mkdir()
    yield Rig(supervisor, store, backend, gate, clock, worktree)
    await supervisor.close()
    await db.close()


async def test_a_crash_with_budget_backs_off_then_comes_back(rig: Rig) -> None:
    _, first = await rig.start_ready(plan(restart_limit=2))
    assert await rig.status() == S.READY
    rig.backend.exit(first.pid, 1)
    delay, pause = await rig.gate.next()
    assert delay == 0.5
    record = await rig.store.get(CELL, "web")
    assert record is not None and record.status == S.BACKOFF  # will restart
    assert record.last_error is not None and "restart 1 of 2" in record.last_error["message"]
    pause.set_result(None)
    second = await rig.backend.next_spawn()
    rig.backend.say(second.pid, "ready")
    await rig.wait_status(S.READY)
    record = await rig.store.get(CELL, "web")
    assert record is not None and (record.pid, record.restarts) == (second.pid, 1)


async def test_a_crash_without_restart_is_crashed_until_someone_acts(rig: Rig) -> None:
    handle, process = await rig.start_ready(plan())
    rig.backend.exit(process.pid, 3)
    assert handle.monitor is not None
    await handle.monitor  # the watcher is done: nothing is scheduled
    record = await rig.store.get(CELL, "web")
    assert record is not None and (record.status, record.exit_code) == (S.CRASHED, 3)
    assert not rig.gate.pending and rig.backend.spawned.empty()


async def test_a_stop_during_backoff_calls_the_restart_off(rig: Rig) -> None:
    _, process = await rig.start_ready(plan(restart_limit=3))
    rig.backend.exit(process.pid, 1)
    await rig.gate.next()
    await rig.wait_status(S.BACKOFF)
    await rig.supervisor.stop(CELL, "web")
    assert await rig.status() == S.STOPPED
    # The pause was cancelled with its watcher: no restart can follow.
    assert not rig.gate.pending
    assert rig.backend.spawned.empty()
    assert not rig.supervisor.running(CELL, "web")


async def test_a_manual_restart_wins_over_an_automatic_one(rig: Rig) -> None:
    service = plan(restart_limit=3)
    _, first = await rig.start_ready(service)
    rig.backend.exit(first.pid, 1)
    _, pause = await rig.gate.next()
    pause.set_result(None)
    automatic = await rig.backend.next_spawn()  # the automatic restart, not ready yet
    handle = await rig.supervisor.restart(CELL, rig.worktree, service)
    manual = await rig.backend.next_spawn()
    assert not automatic.alive and automatic.signals, "the automatic attempt was stopped"
    rig.backend.say(manual.pid, "ready")
    await rig.supervisor.wait_ready(handle)
    assert await rig.status() == S.READY
    record = await rig.store.get(CELL, "web")
    assert record is not None and (record.pid, record.restarts) == (manual.pid, 0)
    assert rig.backend.spawned.empty() and not rig.gate.pending


async def test_a_restart_due_while_a_stop_is_under_way_does_not_spawn(rig: Rig) -> None:
    service = plan(restart_limit=3)
    crashed, first = await rig.start_ready(service)
    rig.backend.exit(first.pid, 1)
    _, pause = await rig.gate.next()
    # A stop has taken the handle and not yet called the pause off when it ends.
    rig.supervisor._handles.pop(crashed.key)
    pause.set_result(None)
    assert crashed.monitor is not None
    await crashed.monitor  # the restart saw its handle gone and gave up
    assert rig.backend.spawned.empty()
    assert not rig.supervisor.running(CELL, "web")


async def test_a_crash_during_readiness_fails_the_start_without_a_restart(rig: Rig) -> None:
    handle = await rig.supervisor.spawn(CELL, rig.worktree, plan(restart_limit=3))
    process = await rig.backend.next_spawn()
    waiting = asyncio.create_task(rig.supervisor.wait_ready(handle))
    await rig.wait_status(S.STARTING)
    rig.backend.exit(process.pid, 2)
    with pytest.raises(StepError, match="exited with code 2 before it was ready"):
        await waiting
    assert handle.monitor is not None
    await handle.monitor
    record = await rig.store.get(CELL, "web")
    assert record is not None and record.status == S.ERROR and record.pid is None
    assert rig.backend.spawned.empty() and not rig.gate.pending


async def test_the_budget_is_spent_by_quick_crashes_and_renewed_by_a_stable_run(rig: Rig) -> None:
    _, process = await rig.start_ready(plan(restart_limit=1))
    rig.backend.exit(process.pid, 1)  # crash 1, soon after the start: restart 1 of 1
    _, pause = await rig.gate.next()
    pause.set_result(None)
    process = await rig.backend.next_spawn()
    rig.backend.say(process.pid, "ready")
    await rig.wait_status(S.READY)
    rig.clock.now += 61  # up for longer than stable_s: the budget is whole again
    rig.backend.exit(process.pid, 1)
    _, pause = await rig.gate.next()
    record = await rig.store.get(CELL, "web")
    assert record is not None and record.status == S.BACKOFF
    pause.set_result(None)
    process = await rig.backend.next_spawn()
    rig.backend.say(process.pid, "ready")
    await rig.wait_status(S.READY)
    rig.backend.exit(process.pid, 1)  # at once again: the budget is spent
    await rig.wait_status(S.ERROR)
    record = await rig.store.get(CELL, "web")
    assert record is not None and record.last_error is not None
    assert "gave up after 1 restart(s)" in record.last_error["message"]
    assert not rig.gate.pending


async def test_a_restart_that_never_gets_ready_counts_as_a_failure(rig: Rig) -> None:
    service = replace(plan(restart_limit=1), ready_timeout_s=0.2)
    _, process = await rig.start_ready(service)
    rig.backend.exit(process.pid, 1)
    _, pause = await rig.gate.next()
    pause.set_result(None)
    silent = await rig.backend.next_spawn()  # never prints "ready"
    await rig.wait_status(S.ERROR)
    assert not silent.alive and silent.signals, "the silent restart was stopped"
    record = await rig.store.get(CELL, "web")
    assert record is not None and record.last_error is not None
    assert "after a restart; gave up after 1 restart(s)" in record.last_error["message"]


async def test_a_oneshot_completes_and_stopping_it_keeps_completed(rig: Rig) -> None:
    handle = await rig.supervisor.spawn(CELL, rig.worktree, plan("migrate", oneshot=True))
    process = await rig.backend.next_spawn()
    waiting = asyncio.create_task(rig.supervisor.wait_ready(handle))
    rig.backend.exit(process.pid, 0)
    assert await waiting == "completed with exit code 0"
    assert await rig.status("migrate") == S.COMPLETED
    await rig.supervisor.stop(CELL, "migrate")
    assert await rig.status("migrate") == S.COMPLETED


async def test_adopted_services_get_their_plans_at_once(rig: Rig, tmp_path: Path) -> None:
    restartable, plain = plan("api", restart_limit=2), plan("worker")
    for service in (restartable, plain):
        await rig.start_ready(service)
    await rig.supervisor.close()  # the server stops; its services run on
    later = Supervisor(
        rig.store, tmp_path / "logs", grace_s=1, setup_timeout_s=10, backend=rig.backend,
        clock=rig.clock, sleep=rig.gate.sleep,
    )  # fmt: skip
    try:
        # Only `api` is still described by its template: `worker` gets an orphan plan.
        outcome = await later.adopt({CELL: rig.worktree}, {(CELL, "api"): restartable})
        assert sorted(outcome["adopted"]) == [f"{CELL[:8]}/api", f"{CELL[:8]}/worker"]
        handles = later._handles
        assert handles[(CELL, "api")].plan is restartable
        assert handles[(CELL, "worker")].plan.restart_limit == 0
        api_pid, worker_pid = handles[(CELL, "api")].pid, handles[(CELL, "worker")].pid
        rig.backend.exit(worker_pid, 1)
        await rig.wait_status(S.CRASHED, "worker")
        rig.backend.exit(api_pid, 1)
        await rig.wait_status(S.BACKOFF, "api")
    finally:
        await later.close()


async def test_a_stop_of_a_gone_service_lays_it_to_rest(rig: Rig, tmp_path: Path) -> None:
    _, process = await rig.start_ready(plan())
    await rig.supervisor.close()
    rig.backend.exit(process.pid, 9)  # dies while no server watches
    later = Supervisor(rig.store, tmp_path / "logs", grace_s=1, setup_timeout_s=10,
                       backend=rig.backend)  # fmt: skip
    try:
        outcome = await later.adopt({CELL: rig.worktree}, {})
        assert outcome["gone"] == [f"{CELL[:8]}/web"]
        record = await rig.store.get(CELL, "web")
        assert record is not None and (record.status, record.pid) == (S.STOPPED, None)
    finally:
        await later.close()
