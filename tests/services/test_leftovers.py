"""Recorded service processes: still ours only with the same start time; ended with their strays."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from hive.services.backend import OsProcessBackend
from hive.services.identity import process_start_time
from hive.services.leftovers import end_recorded, still_running
from hive.services.process_tag import service_tag, tagged
from hive.store.services import ServiceRecord

from .processes import base_env, read_pid, wait_gone

LEAVE = (
    "setsid sh -c 'echo $$ > stray.pid; exec sleep 300' & "
    "until [ -s stray.pid ]; do sleep 0.01; done; "
)

BACKEND = OsProcessBackend()


def record(cell_id: str, pid: int | None, started: float | None) -> ServiceRecord:
    return ServiceRecord(
        cell_id=cell_id,
        name="web",
        status="ready",
        port=None,
        pid=pid,
        process_started=started,
        started_at=None,
        exit_code=None,
        restarts=0,
        last_error=None,
        updated_at="",
    )


async def start_service(cell_id: str, tmp_path: Path, then: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        "bash",
        "-c",
        LEAVE + then,
        cwd=tmp_path,
        env=tagged(base_env(tmp_path), service_tag(cell_id, "web")),
        stdin=asyncio.subprocess.DEVNULL,
        start_new_session=True,
    )


async def test_a_running_service_is_ours_only_with_its_start_time(tmp_path: Path) -> None:
    cell_id = uuid.uuid4().hex
    leader = await start_service(cell_id, tmp_path, "exec sleep 300")
    stray = await read_pid(tmp_path / "stray.pid")
    started = process_start_time(leader.pid)
    assert started is not None
    assert await still_running(BACKEND, record(cell_id, leader.pid, started))
    assert not await still_running(BACKEND, record(cell_id, leader.pid, started - 100))
    assert not await still_running(BACKEND, record(cell_id, None, None))
    await end_recorded(BACKEND, record(cell_id, leader.pid, started), running=True, grace=5)
    assert await leader.wait() < 0
    assert await wait_gone(stray)


async def test_strays_of_a_service_whose_leader_died_are_ended(tmp_path: Path) -> None:
    cell_id = uuid.uuid4().hex
    leader = await start_service(cell_id, tmp_path, "exit 0")
    stray = await read_pid(tmp_path / "stray.pid")
    assert await leader.wait() == 0
    gone = record(cell_id, leader.pid, 1.0)
    assert not await still_running(BACKEND, gone)
    await end_recorded(BACKEND, gone, running=False, grace=5)
    assert await wait_gone(stray)
