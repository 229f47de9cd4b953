"""The process table over real processes: found by tag or group, CPU and RSS read."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path

import pytest

from hive.resources.ownership import GroupClaim
from hive.resources.process_table import ProcessReading, ProcessTable
from hive.resources.scopes import SETUP, Owner
from hive.services.process_tag import TAG_VARIABLE, agent_tag, service_tag
from tests.services.processes import base_env, read_pid

MB = 1_000_000
Spawn = Callable[..., subprocess.Popen[bytes]]


@pytest.fixture
def cell() -> str:
    return uuid.uuid4().hex  # tests running elsewhere at once never share a cell id


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Spawn]:
    started: list[subprocess.Popen[bytes]] = []

    def start(script: str, tag: str | None = None) -> subprocess.Popen[bytes]:
        env = base_env(tmp_path)
        if tag is not None:
            env[TAG_VARIABLE] = tag
        process = subprocess.Popen(
            ["bash", "-c", script], cwd=tmp_path, env=env, start_new_session=True
        )
        started.append(process)
        return process

    yield start
    for process in started:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def read_until(
    table: ProcessTable,
    claims: list[GroupClaim],
    cells: set[str],
    done: Callable[[list[ProcessReading]], bool],
    timeout: float = 15,
) -> list[ProcessReading]:
    deadline = time.monotonic() + timeout
    while True:
        readings = table.read(claims, cells)
        if done(readings):
            return readings
        assert time.monotonic() < deadline, f"never found: {readings}"
        time.sleep(0.05)


def test_a_service_and_the_child_that_left_its_group_are_found_by_tag(
    spawn: Spawn, cell: str, tmp_path: Path
) -> None:
    leader = spawn(
        "setsid sh -c 'echo $$ > escaped.pid; exec sleep 300' & exec sleep 300",
        tag=service_tag(cell, "web"),
    )
    stranger = spawn("exec sleep 300", tag=service_tag(uuid.uuid4().hex, "web"))
    untagged = spawn("exec sleep 300")
    escaped = asyncio.run(read_pid(tmp_path / "escaped.pid"))
    table = ProcessTable()
    readings = read_until(table, [], {cell}, lambda found: len(found) == 2)
    assert {r.pid for r in readings} == {leader.pid, escaped}
    assert {(r.cell_id, r.scope) for r in readings} == {(cell, "service:web")}
    assert os.getpgid(escaped) != leader.pid
    assert all(r.command == "sleep 300" and r.rss_bytes > 0 for r in readings)
    assert stranger.pid not in {r.pid for r in readings}
    assert untagged.pid not in {r.pid for r in readings}


def test_untagged_members_of_a_recorded_group_are_found(spawn: Spawn, cell: str) -> None:
    # A setup command whose environment lost the tag; its group is on record.
    leader = spawn("sleep 300 & sleep 300 & wait")
    claim = GroupClaim(Owner(cell, SETUP), leader.pid, None)
    readings = read_until(ProcessTable(), [claim], {cell}, lambda found: len(found) == 3)
    assert {r.scope for r in readings} == {SETUP}
    assert leader.pid in {r.pid for r in readings}


def test_cpu_needs_two_readings_and_memory_is_resident(spawn: Spawn, cell: str) -> None:
    busy = spawn(
        f"exec {sys.executable} -c 'b = bytes(50_000_000) + bytes(1)\nwhile True: pass'",
        tag=agent_tag(cell),
    )
    table = ProcessTable()
    time.sleep(0.3)
    # The first reading of a process is its average since it started; later ones
    # measure from the previous reading.
    [first] = read_until(table, [], {cell}, lambda found: len(found) == 1)
    assert first.pid == busy.pid and first.scope == "agent"
    assert first.cpu_percent > 10
    read_until(table, [], {cell}, lambda found: bool(found) and found[0].cpu_percent > 50)
    readings = read_until(table, [], {cell}, lambda found: found[0].rss_bytes >= 50 * MB)
    assert readings[0].rss_bytes < 150 * MB


def test_a_process_that_ended_is_no_longer_read(spawn: Spawn, cell: str) -> None:
    process = spawn("exec sleep 300", tag=service_tag(cell, "web"))
    table = ProcessTable()
    read_until(table, [], {cell}, lambda found: len(found) == 1)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    read_until(table, [], {cell}, lambda found: found == [])


def test_a_young_process_without_a_tag_is_looked_at_again(
    spawn: Spawn, cell: str, tmp_path: Path
) -> None:
    # Between fork and exec a process still has its parent's environment: tmux's pane
    # runner, say, before it runs the cell's command with the tag.
    tag = service_tag(cell, "web")
    process = spawn(f"echo $$ > started.pid; sleep 0.3; exec env {TAG_VARIABLE}={tag} sleep 300")
    asyncio.run(read_pid(tmp_path / "started.pid"))
    table = ProcessTable()
    assert table.read([], {cell}) == []
    [found] = read_until(table, [], {cell}, lambda found: len(found) == 1)
    assert found.pid == process.pid and found.scope == "service:web"
