"""run_shell_command: real `bash -lc` runs in their own process group, logged, with a timeout."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from hive.services.process_group import stop_tagged
from hive.services.shell import CommandResult, read_tail, run_shell_command, shell_argv

from .processes import base_env, is_gone, read_pid, wait_gone


async def run(
    command: str, tmp_path: Path, *, timeout: float = 60, tag: str | None = None, **env: str
) -> tuple[CommandResult, str]:
    log = tmp_path / "logs" / "setup.log"
    result = await run_shell_command(
        command,
        cwd=tmp_path,
        env={**base_env(tmp_path), **env},
        log_path=log,
        timeout=timeout,
        grace=1.0,
        tag=tag,
    )
    return result, log.read_text()


async def test_exit_code_and_output(tmp_path: Path) -> None:
    result, log = await run("echo to-stdout; echo to-stderr >&2; exit 3", tmp_path)
    assert result.exit_code == 3
    assert not result.timed_out
    assert result.command == "echo to-stdout; echo to-stderr >&2; exit 3"
    assert "to-stdout" in result.output_tail
    assert "to-stderr" in result.output_tail
    assert log.startswith("$ echo to-stdout; echo to-stderr >&2; exit 3\n")
    assert "to-stdout\n" in log and "to-stderr\n" in log
    assert log.endswith("[hive] exit code 3\n")


async def test_success_runs_in_cwd_with_given_env_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HIVE_TEST_LEAK", "leaked")
    result, _ = await run(
        'pwd; echo "given=$GIVEN leak=${HIVE_TEST_LEAK:-none}"', tmp_path, GIVEN="yes"
    )
    assert result.exit_code == 0
    lines = result.output_tail.splitlines()
    assert str(tmp_path) in lines
    assert "given=yes leak=none" in lines


async def test_tail_covers_only_this_run(tmp_path: Path) -> None:
    await run("echo first-run", tmp_path)
    result, log = await run("echo second-run", tmp_path)
    assert "first-run" in log  # the log is appended to
    assert "first-run" not in result.output_tail
    assert "second-run" in result.output_tail


async def test_timeout_stops_group_with_background_grandchild(tmp_path: Path) -> None:
    command = "sleep 300 & echo $! > child.pid; echo $$ > leader.pid; wait"
    result, log = await run(command, tmp_path, timeout=2)
    assert result.timed_out
    assert result.exit_code is None
    leader = await read_pid(tmp_path / "leader.pid", timeout=0)
    child = await read_pid(tmp_path / "child.pid", timeout=0)
    assert await wait_gone(child)
    assert await wait_gone(leader)
    assert "timed out after 2s" in log
    assert "timed out" in result.output_tail


async def test_finished_command_leftovers_are_stopped(tmp_path: Path) -> None:
    result, _ = await run("sleep 300 & echo $! > child.pid; echo done", tmp_path)
    assert result.exit_code == 0
    assert "done" in result.output_tail
    assert await wait_gone(await read_pid(tmp_path / "child.pid", timeout=0))


DAEMON = (
    "setsid sh -c 'echo $$ > daemon.pid; exec sleep 300' & "
    "until [ -s daemon.pid ]; do sleep 0.01; done; "
)


async def test_a_daemon_a_successful_command_started_outlives_it(tmp_path: Path) -> None:
    # A Gradle daemon or `pg_ctl start` is meant to stay: it goes with the cell.
    tag = f"cell/{uuid.uuid4().hex}/setup/template"
    result, _ = await run(DAEMON + "echo $HIVE_PROCESS_TAG", tmp_path, tag=tag)
    assert result.exit_code == 0
    assert tag in result.output_tail.splitlines()
    daemon = await read_pid(tmp_path / "daemon.pid", timeout=0)
    assert not is_gone(daemon)
    assert await stop_tagged(tag, grace=1) == 1
    assert await wait_gone(daemon)


async def test_a_timed_out_command_takes_its_daemons_along(tmp_path: Path) -> None:
    tag = f"cell/{uuid.uuid4().hex}/setup/template"
    result, _ = await run(DAEMON + "sleep 300", tmp_path, timeout=1, tag=tag)
    assert result.timed_out
    assert await wait_gone(await read_pid(tmp_path / "daemon.pid", timeout=0))


async def test_cancellation_stops_group(tmp_path: Path) -> None:
    command = "sleep 300 & echo $! > child.pid; echo $$ > leader.pid; wait"
    task = asyncio.create_task(run(command, tmp_path))
    child = await read_pid(tmp_path / "child.pid")
    leader = await read_pid(tmp_path / "leader.pid")
    assert not is_gone(child)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await wait_gone(child)
    assert await wait_gone(leader)
    log = (tmp_path / "logs" / "setup.log").read_text()
    assert log.rstrip().splitlines()[-1].startswith("[hive] ")


async def test_caller_path_survives_login_shell(tmp_path: Path) -> None:
    tools = tmp_path / "only-here-bin"
    tools.mkdir()
    tool = tools / "hive-test-tool"
    tool.write_text("#!/bin/sh\necho tool-ran\n")
    tool.chmod(0o755)
    path = f"{tools}{os.pathsep}{os.environ['PATH']}"
    result, _ = await run("command -v hive-test-tool && hive-test-tool", tmp_path, PATH=path)
    assert result.exit_code == 0, result.output_tail
    assert str(tool) in result.output_tail.splitlines()
    assert "tool-ran" in result.output_tail


async def test_tracker_spans_the_whole_group_lifetime(tmp_path: Path) -> None:
    events: list[tuple[str, int, bool]] = []

    @asynccontextmanager
    async def track(pid: int) -> AsyncIterator[None]:
        events.append(("enter", pid, is_gone(pid)))
        yield
        events.append(("exit", pid, await wait_gone(pid)))

    result = await run_shell_command(
        # The leader lingers a moment so that it is surely alive when tracking starts.
        "echo $$ > leader.pid; sleep 300 & echo $! > child.pid; sleep 0.5",
        cwd=tmp_path,
        env=base_env(tmp_path),
        log_path=tmp_path / "setup.log",
        timeout=60,
        grace=1.0,
        track=track,
    )
    assert result.exit_code == 0
    leader = await read_pid(tmp_path / "leader.pid", timeout=0)
    child = await read_pid(tmp_path / "child.pid", timeout=0)
    assert events == [("enter", leader, False), ("exit", leader, True)]
    assert is_gone(child)  # stopped before the tracker's context ended


def test_shell_argv() -> None:
    assert shell_argv("echo hi", {}) == ["bash", "-lc", "echo hi"]
    argv = shell_argv("echo hi", {"PATH": "/a b:/c"})
    assert argv[:2] == ["bash", "-lc"]
    assert argv[2] == "export PATH='/a b:/c':\"$PATH\"\necho hi"


def test_read_tail_missing_file(tmp_path: Path) -> None:
    assert read_tail(tmp_path / "nope.log") == ""


def test_read_tail_max_lines(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text("".join(f"line {i}\n" for i in range(100)))
    assert read_tail(log, max_lines=3) == "line 97\nline 98\nline 99"
    assert read_tail(log, max_lines=200, max_bytes=10_000).splitlines()[0] == "line 0"


def test_read_tail_max_bytes_drops_cut_line(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text("aaaaaaaaaa\nbbbb\ncccc\n")  # 11 + 5 + 5 bytes
    # The last 12 bytes start in the middle of the a-line: that partial line is dropped.
    assert read_tail(log, max_bytes=12) == "bbbb\ncccc"
    assert len(read_tail(log, max_bytes=12).encode()) <= 12


def test_read_tail_start_offset(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text("old 1\nold 2\n")
    start = log.stat().st_size
    with log.open("a") as handle:
        handle.write("new 1\nnew 2\n")
    assert read_tail(log, start=start) == "new 1\nnew 2"
    assert read_tail(log, start=start, max_lines=1) == "new 2"
    assert read_tail(log, start=log.stat().st_size) == ""


def test_read_tail_cut_on_line_boundary_keeps_line(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text("aaaa\nbbbb\n")
    assert read_tail(log, max_bytes=5) == "bbbb"
