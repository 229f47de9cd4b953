"""The seam where the supervisor meets the operating system's processes.

`ProcessBackend` is everything the supervisor does to a process: spawn it, learn when
it exits, tell it from a stranger with a reused pid, find what carries a cell's tag,
and end a group. `OsProcessBackend` does it for real; tests drive races through a fake
that implements the same Protocol.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import psutil

from hive.services.identity import pid_exists, process_start_time
from hive.services.process_group import terminate
from hive.services.process_tag import find_tagged_with_tags
from hive.services.spawn import spawn_service, wait_for_exit

#: Two start times closer than this are the same process (psutil rounds them).
SAME_START_S = 0.01


@dataclass(frozen=True)
class TaggedProcess:
    """A process found by its `HIVE_PROCESS_TAG`; `handle` is the backend's own."""

    pid: int
    tag: str
    handle: object


class ProcessBackend(Protocol):
    def spawn(self, command: str, env: Mapping[str, str], cwd: Path, log_fd: int) -> int:
        """Start `bash -lc command` leading a new session, output to `log_fd`; its pid."""
        ...

    async def wait_exit(self, pid: int, *, reap: bool) -> int | None:
        """Wait until `pid` exits; its exit code when `reap` (our child), else None."""
        ...

    async def start_time(self, pid: int) -> float | None:
        """When the live process `pid` started; None when there is none."""
        ...

    async def pid_exists(self, pid: int) -> bool:
        """Some process (ours or not, zombies included) has this pid."""
        ...

    async def find_tagged(self, tag: str, *, prefix: bool = False) -> list[TaggedProcess]:
        """Live processes whose tag is `tag` (or starts with it)."""
        ...

    async def terminate(
        self, pgid: int | None, strays: Sequence[TaggedProcess], *, grace: float
    ) -> None:
        """TERM group `pgid` and `strays`, KILL what is left after `grace`."""
        ...


async def is_same_process(backend: ProcessBackend, pid: int, started: float) -> bool:
    """`pid` is alive and is the process that started at `started` (not a reused pid)."""
    current = await backend.start_time(pid)
    return current is not None and abs(current - started) < SAME_START_S


class OsProcessBackend:
    """Real processes: posix_spawn, pidfd, psutil scans in worker threads."""

    def spawn(self, command: str, env: Mapping[str, str], cwd: Path, log_fd: int) -> int:
        return spawn_service(command, env, cwd, log_fd)

    async def wait_exit(self, pid: int, *, reap: bool) -> int | None:
        return await wait_for_exit(pid, reap=reap)

    async def start_time(self, pid: int) -> float | None:
        return await asyncio.to_thread(process_start_time, pid)

    async def pid_exists(self, pid: int) -> bool:
        return await asyncio.to_thread(pid_exists, pid)

    async def find_tagged(self, tag: str, *, prefix: bool = False) -> list[TaggedProcess]:
        found = await asyncio.to_thread(find_tagged_with_tags, tag, prefix=prefix)
        return [TaggedProcess(process.pid, value, process) for process, value in found]

    async def terminate(
        self, pgid: int | None, strays: Sequence[TaggedProcess], *, grace: float
    ) -> None:
        processes = [s.handle for s in strays if isinstance(s.handle, psutil.Process)]
        await terminate(pgid, processes, grace=grace)
