"""Run one template shell command (`bash -lc`) in its own process group, logged, with a timeout."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path

from hive.services.process_group import stop_process_group
from hive.services.process_tag import tagged

_TAIL_BYTES = 4000
_TAIL_LINES = 40


ProcessTracker = Callable[[int], AbstractAsyncContextManager[None]]
"""Given the new process group's pid, a context that lasts while the group may be alive."""


@dataclass(frozen=True)
class CommandResult:
    command: str
    exit_code: int | None
    """None when the command was stopped because it ran out of time."""
    timed_out: bool
    duration_ms: float
    output_tail: str


def shell_argv(command: str, env: Mapping[str, str]) -> list[str]:
    """`bash -lc` argv that keeps the caller's PATH ahead of the one login files set.

    A login shell reads /etc/profile, which on Debian replaces PATH outright; without
    this, tools the user runs Hive with (a virtualenv, nvm, pyenv) would vanish.
    """
    path = env.get("PATH")
    prefix = f'export PATH={shlex.quote(path)}:"$PATH"\n' if path else ""
    return ["bash", "-lc", prefix + command]


def read_tail(
    path: Path, *, start: int = 0, max_bytes: int = _TAIL_BYTES, max_lines: int = _TAIL_LINES
) -> str:
    """Last lines of a log file written after byte `start` (blocking; call in a thread)."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            begin = max(start, size - max_bytes)
            # One byte early: it tells whether the cut falls at the start of a line.
            handle.seek(max(start, begin - 1))
            data = handle.read()
    except FileNotFoundError:
        return ""
    cut_mid_line = begin > start and not data.startswith(b"\n")
    if begin > start:
        data = data[1:]
    lines = data.decode("utf-8", errors="replace").splitlines()
    if cut_mid_line and lines:
        lines = lines[1:]  # the first line was cut in the middle
    return "\n".join(lines[-max_lines:])


def _open_log(log_path: Path, command: str) -> tuple[int, int]:
    """The log's descriptor, and where this command's own output will start."""
    log_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.write(fd, f"$ {command}\n".encode())
    return fd, os.lseek(fd, 0, os.SEEK_CUR)


def _close_log(fd: int, note: str) -> None:
    os.write(fd, note.encode())
    os.close(fd)


async def run_shell_command(
    command: str,
    *,
    cwd: Path,
    env: Mapping[str, str],
    log_path: Path,
    timeout: float,  # noqa: ASYNC109 - the command's own limit, enforced with its group
    grace: float,
    track: ProcessTracker | None = None,
    tag: str | None = None,
) -> CommandResult:
    """Run `command` to completion; output goes straight to `log_path`.

    On timeout or cancellation the whole process group is stopped; leftovers a finished
    command forked into the background are stopped too, so no setup process outlives it.
    The `tag` (see `process_tag`) goes into the command's environment. Daemons that left
    the group (`setsid`: a Gradle daemon, `pg_ctl start`) are meant to outlive a command
    that succeeds, until the cell goes; a command that is stopped takes them along.
    """
    fd, start_offset = await asyncio.to_thread(_open_log, log_path, command)
    started = time.perf_counter()
    timed_out = finished = False
    try:
        process = await asyncio.create_subprocess_exec(
            *shell_argv(command, env),
            cwd=cwd,
            env=tagged(env, tag),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=fd,
            stderr=fd,
            start_new_session=True,
        )
    except BaseException:
        await asyncio.shield(asyncio.to_thread(_close_log, fd, "[hive] could not start it\n"))
        raise
    try:
        async with track(process.pid) if track else contextlib.nullcontext():
            try:
                await asyncio.wait_for(process.wait(), timeout=timeout)
                finished = True
            except TimeoutError:
                timed_out = True
    finally:
        # Outside `track`: runs on success, timeout and a cancellation that lands anywhere,
        # even while the process is being put on record.
        strays = None if finished else tag
        await asyncio.shield(
            stop_process_group(process.pid, grace=grace, leader=process, tag=strays)
        )
        note = (
            f"[hive] timed out after {timeout:g}s; process group stopped\n"
            if timed_out
            else f"[hive] exit code {process.returncode}\n"
        )
        await asyncio.shield(asyncio.to_thread(_close_log, fd, note))
    tail = await asyncio.to_thread(read_tail, log_path, start=start_offset)
    return CommandResult(
        command=command,
        exit_code=None if timed_out else process.returncode,
        timed_out=timed_out,
        duration_ms=(time.perf_counter() - started) * 1000,
        output_tail=tail,
    )
