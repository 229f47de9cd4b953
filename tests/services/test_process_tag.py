"""Processes that leave their group on purpose are still found, by the tag they carry."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from pathlib import Path

import pytest

from hive.services.process_group import stop_process_group, stop_tagged
from hive.services.process_tag import (
    TAG_VARIABLE,
    cell_tag,
    find_tagged,
    inherited_environ,
    service_tag,
    setup_prefix,
    setup_tag,
    tagged,
)

from .processes import base_env, is_gone, read_pid, wait_gone

RUN = uuid.uuid4().hex  # tests running at once elsewhere never match each other's tags

# Starts a process in a session of its own and waits until it is there (it writes its
# pid only after setsid), so the group is never stopped while it is still a member.
ESCAPE = (
    "setsid sh -c 'echo $$ > escaped.pid; exec sleep 300' & "
    "until [ -s escaped.pid ]; do sleep 0.01; done; "
)


async def spawn(script: str, cwd: Path, tag: str | None) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        "bash",
        "-c",
        script,
        cwd=cwd,
        env=tagged(base_env(cwd), tag),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
    )


def test_tags_name_the_cell_and_what_runs() -> None:
    assert service_tag("c1", "web") == "cell/c1/service/web"
    assert setup_tag("c1") == "cell/c1/setup/template"
    assert setup_tag("c1", "db") == "cell/c1/setup/service/db"
    assert setup_tag("c1", "db").startswith(setup_prefix("c1"))
    assert service_tag("c1", "web").startswith(cell_tag("c1"))
    assert not service_tag("c10", "web").startswith(cell_tag("c1"))
    assert tagged({"A": "1"}, "t") == {"A": "1", TAG_VARIABLE: "t"}
    assert tagged({"A": "1"}, None) == {"A": "1"}


async def test_an_escaped_process_is_found_by_its_exact_tag(tmp_path: Path) -> None:
    leader = await spawn(ESCAPE + "exec sleep 300", tmp_path, f"cell/{RUN}/service/web")
    other = await spawn("echo $$ > other.pid; exec sleep 300", tmp_path, f"cell/{RUN}/service/web2")
    escaped = await read_pid(tmp_path / "escaped.pid")
    other_pid = await read_pid(tmp_path / "other.pid")
    try:
        assert os.getsid(escaped) != os.getsid(leader.pid), "it left the session"
        found = {p.pid for p in await asyncio.to_thread(find_tagged, f"cell/{RUN}/service/web")}
        assert {escaped, leader.pid} <= found and other_pid not in found
        by_prefix = {
            p.pid for p in await asyncio.to_thread(find_tagged, f"cell/{RUN}/", prefix=True)
        }
        assert {escaped, leader.pid, other_pid} <= by_prefix
    finally:
        for pid in (escaped, leader.pid, other_pid):
            os.kill(pid, signal.SIGKILL)
        await leader.wait()
        await other.wait()


async def test_stopping_a_group_with_its_tag_stops_what_escaped_it(tmp_path: Path) -> None:
    leader = await spawn(
        ESCAPE + "echo $$ > leader.pid; wait", tmp_path, f"cell/{RUN}y/setup/template"
    )
    escaped = await read_pid(tmp_path / "escaped.pid")
    await read_pid(tmp_path / "leader.pid")
    await stop_process_group(leader.pid, grace=5, leader=leader, tag=f"cell/{RUN}y/setup/template")
    assert await wait_gone(escaped)


async def test_without_the_tag_an_escaped_process_outlives_its_group(tmp_path: Path) -> None:
    # What the tag is for: the group alone does not reach it.
    leader = await spawn(
        ESCAPE + "echo $$ > leader.pid; wait", tmp_path, f"cell/{RUN}z/setup/template"
    )
    escaped = await read_pid(tmp_path / "escaped.pid")
    await read_pid(tmp_path / "leader.pid")
    await stop_process_group(leader.pid, grace=5, leader=leader)
    try:
        assert not is_gone(escaped)
    finally:
        assert await stop_tagged(f"cell/{RUN}z/", grace=5, prefix=True) == 1
    assert await wait_gone(escaped)


async def test_stop_tagged_escalates_to_kill(tmp_path: Path) -> None:
    script = "setsid -f bash -c 'trap \"\" TERM; echo $$ > stubborn.pid; sleep 300; :'"
    leader = await spawn(script, tmp_path, f"cell/{RUN}w/service/db")
    stubborn = await read_pid(tmp_path / "stubborn.pid")
    assert await leader.wait() == 0  # the leader is gone; the stubborn one is not
    assert await stop_tagged(f"cell/{RUN}w/service/db", grace=0.3) >= 1
    assert await wait_gone(stubborn)


async def test_nothing_tagged_is_fine() -> None:
    assert await stop_tagged(f"cell/{RUN}none/", grace=0.3, prefix=True) == 0


def test_the_servers_own_helpers_never_carry_a_tag(monkeypatch: pytest.MonkeyPatch) -> None:
    # A server started from a shell inside one of its cells inherits that cell's tag.
    from hive.workspace.copy_process import _worker_environment
    from hive.workspace.git import git_environment

    monkeypatch.setenv(TAG_VARIABLE, "cell/outer/service/ide")
    assert TAG_VARIABLE not in inherited_environ()
    assert TAG_VARIABLE not in git_environment()
    assert TAG_VARIABLE not in _worker_environment()
