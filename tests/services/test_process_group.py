"""stop_process_group: SIGTERM, then SIGKILL after the grace period, for the whole group."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from hive.services.process_group import stop_process_group

from .processes import read_pid, wait_gone


async def spawn(script: str, cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        "bash",
        "-c",
        script,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
    )


async def test_process_that_exits_on_term(tmp_path: Path) -> None:
    leader = await spawn("echo $$ > leader.pid; exec sleep 300", tmp_path)
    await read_pid(tmp_path / "leader.pid")
    await stop_process_group(leader.pid, grace=10, leader=leader)
    assert leader.returncode == -signal.SIGTERM
    assert await wait_gone(leader.pid)


async def test_escalates_to_kill_when_term_is_ignored(tmp_path: Path) -> None:
    leader = await spawn("trap '' TERM; echo $$ > leader.pid; exec sleep 300", tmp_path)
    await read_pid(tmp_path / "leader.pid")  # the trap is in place from here on
    await stop_process_group(leader.pid, grace=0.3, leader=leader)
    assert leader.returncode == -signal.SIGKILL
    assert await wait_gone(leader.pid)


async def test_whole_group_without_leader_handle(tmp_path: Path) -> None:
    leader = await spawn(
        "trap '' TERM; sleep 300 & echo $! > child.pid; echo $$ > leader.pid; wait", tmp_path
    )
    child = await read_pid(tmp_path / "child.pid")
    await read_pid(tmp_path / "leader.pid")
    await stop_process_group(leader.pid, grace=0.3)
    assert await leader.wait() == -signal.SIGKILL
    assert await wait_gone(child)


async def test_group_already_gone_is_fine(tmp_path: Path) -> None:
    leader = await spawn("exit 0", tmp_path)
    assert await leader.wait() == 0
    await stop_process_group(leader.pid, grace=0.3, leader=leader)
    await stop_process_group(leader.pid, grace=0.3)
    assert leader.returncode == 0
