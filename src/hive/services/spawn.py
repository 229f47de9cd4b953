"""Start a service process detached from this server, and learn when it exits.

Services must outlive the server (a restarted server re-adopts them), so they are
spawned with `posix_spawn` in a new session rather than as asyncio subprocesses, whose
transports belong to one event loop. Exits are observed through a pidfd, which works
for our children and for adopted processes alike, without threads or polling.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path

from hive.services.shell import shell_argv

#: Exit code of the wrapper when the service's working directory is missing.
CWD_MISSING = 97


def spawn_service(command: str, env: Mapping[str, str], cwd: Path, log_fd: int) -> int:
    """Start `bash -lc <command>` in `cwd`, output to `log_fd`, leading a new session."""
    script = f"cd -- {shlex.quote(str(cwd))} || exit {CWD_MISSING}\n{command}"
    return spawn_detached(shell_argv(script, env), env, log_fd)


def spawn_program(argv: Sequence[str], env: Mapping[str, str], cwd: Path, log_fd: int) -> int:
    """Start `argv` itself (no login shell) in `cwd`, output to `log_fd`, leading a new
    session; `sh` changes directory and execs it, since posix_spawn cannot."""
    chdir = f'cd -- "$1" || exit {CWD_MISSING}; shift; exec "$@"'
    return spawn_detached(["/bin/sh", "-c", chdir, "sh", str(cwd), *argv], env, log_fd)


def spawn_detached(argv: Sequence[str], env: Mapping[str, str], log_fd: int) -> int:
    """posix_spawn `argv` with stdin from /dev/null, output to `log_fd`, in a new
    session; its pid."""
    actions: list[tuple[int, ...] | tuple[int, int, str, int, int]] = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_DUP2, log_fd, 1),
        (os.POSIX_SPAWN_DUP2, log_fd, 2),
    ]
    # What subprocess would clean up for us: the server's inheritable descriptors (a test
    # harness's pipe, say) and the signals Python ignores (SIGPIPE: `yes | head` must work).
    actions += [(os.POSIX_SPAWN_CLOSE, fd) for fd in _inheritable_fds() if fd not in (0, 1, 2)]
    return os.posix_spawnp(
        argv[0],
        list(argv),
        dict(env),
        file_actions=actions,
        setsid=True,
        setsigdef=_RESET_SIGNALS,
    )


_RESET_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGPIPE", "SIGXFSZ") if hasattr(signal, name)
)


def _inheritable_fds() -> list[int]:
    fds = []
    for entry in Path("/proc/self/fd").iterdir():
        fd = int(entry.name)
        try:
            if os.get_inheritable(fd):
                fds.append(fd)
        except OSError:
            continue  # the descriptor listdir itself used, now closed
    return fds


async def wait_for_exit(pid: int, *, reap: bool) -> int | None:
    """Wait until `pid` exits; with `reap` (our child) return its exit code (-N: signal N)."""
    loop = asyncio.get_running_loop()
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        pidfd = None
    if pidfd is not None:
        exited: asyncio.Future[None] = loop.create_future()

        def on_exit() -> None:
            if not exited.done():
                exited.set_result(None)

        loop.add_reader(pidfd, on_exit)
        try:
            await exited
        finally:
            loop.remove_reader(pidfd)
            os.close(pidfd)
    if not reap:
        return None
    try:
        # The process has exited, so it is there to reap without waiting.
        reaped, status = os.waitpid(pid, os.WNOHANG)  # noqa: ASYNC222 - never blocks
    except ChildProcessError:
        return None
    return os.waitstatus_to_exitcode(status) if reaped else None
