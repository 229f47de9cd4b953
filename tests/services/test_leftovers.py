"""Recorded service processes: still ours only with the same start time; ended with their strays."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from contextlib import suppress
from pathlib import Path

from hive.services.backend import OsProcessBackend
from hive.services.identity import process_start_time
from hive.services.leftovers import end_recorded, end_unrecorded, still_running
from hive.services.process_tag import service_of_tag, service_tag, tagged
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


async def start_service(
    cell_id: str, tmp_path: Path, then: str, name: str = "web"
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        "bash",
        "-c",
        LEAVE + then,
        cwd=tmp_path,
        env=tagged(base_env(tmp_path), service_tag(cell_id, name)),
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


async def test_service_processes_no_record_leads_to_are_ended_for_this_servers_cells(
    tmp_path: Path,
) -> None:
    """A server killed between a spawn and its record: the tag alone finds the process.
    An adopted service and another server's cell keep theirs."""
    ours, theirs = uuid.uuid4().hex, uuid.uuid4().hex
    started = {}
    for cell_id, name in ((ours, "web"), (ours, "db"), (theirs, "web")):
        where = tmp_path / f"{cell_id}-{name}"
        where.mkdir()
        leader = await start_service(cell_id, where, "exec sleep 300", name)
        started[cell_id, name] = (leader, await read_pid(where / "stray.pid"))
    try:
        ended = await end_unrecorded(BACKEND, [ours], {(ours, "db")}, grace=5)
        assert ended == [f"{ours[:8]}/web"]
        leader, stray = started[ours, "web"]
        assert await asyncio.wait_for(leader.wait(), 30) < 0 and await wait_gone(stray)
        for key in ((ours, "db"), (theirs, "web")):
            assert started[key][0].returncode is None, f"{key} kept running"
    finally:
        for leader, stray in started.values():
            for pid in (leader.pid, stray):
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            await leader.wait()


def test_a_service_tag_names_its_cell_and_service_and_no_other_tag_does() -> None:
    assert service_of_tag(service_tag("c1", "web/api")) == ("c1", "web/api")
    for other in ("cell/c1/setup/template", "cell/c1/agent", "cell//service/web", "x/c1/service/w"):
        assert service_of_tag(other) is None
