"""A `ProcessBackend` whose processes are fakes a test moves by hand: it says when they
print, exit or ignore TERM, so the Supervisor's races can be driven step by step."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hive.services.backend import TaggedProcess


@dataclass
class FakeProcess:
    pid: int
    command: str
    env: dict[str, str]
    log_fd: int
    started: float
    exited: asyncio.Future[int]
    signals: list[int] = field(default_factory=list)

    @property
    def alive(self) -> bool:
        return not self.exited.done()


class FakeBackend:
    def __init__(self) -> None:
        self.processes: dict[int, FakeProcess] = {}
        self.spawned: asyncio.Queue[FakeProcess] = asyncio.Queue()
        self._pids = itertools.count(40_000)
        self._clock = itertools.count(1_000_000)

    # -- what a test does ----------------------------------------------------------------

    def say(self, pid: int, line: str) -> None:
        """The process prints a line into its log."""
        os.write(self.processes[pid].log_fd, f"{line}\n".encode())

    def exit(self, pid: int, code: int) -> None:
        process = self.processes[pid]
        if process.alive:
            process.exited.set_result(code)
            os.close(process.log_fd)

    async def next_spawn(self, timeout: float = 10) -> FakeProcess:
        return await asyncio.wait_for(self.spawned.get(), timeout)

    # -- ProcessBackend ------------------------------------------------------------------

    def spawn(self, command: str, env: Mapping[str, str], cwd: Path, log_fd: int) -> int:
        pid = next(self._pids)
        process = FakeProcess(
            pid,
            command,
            dict(env),
            os.dup(log_fd),
            float(next(self._clock)),
            asyncio.get_running_loop().create_future(),
        )
        self.processes[pid] = process
        self.spawned.put_nowait(process)
        return pid

    async def wait_exit(self, pid: int, *, reap: bool) -> int | None:
        code = await asyncio.shield(self.processes[pid].exited)
        return code if reap else None

    async def start_time(self, pid: int) -> float | None:
        process = self.processes.get(pid)
        return process.started if process is not None and process.alive else None

    async def pid_exists(self, pid: int) -> bool:
        process = self.processes.get(pid)
        return process is not None and process.alive

    async def find_tagged(self, tag: str, *, prefix: bool = False) -> list[TaggedProcess]:
        return []

    async def terminate(
        self, pgid: int | None, strays: Sequence[TaggedProcess], *, grace: float
    ) -> None:
        process = self.processes.get(pgid) if pgid is not None else None
        if process is not None and process.alive:
            process.signals.append(signal.SIGTERM)
            self.exit(process.pid, -signal.SIGTERM)


class Gate:
    """A `sleep` that lasts until the test lets it end: restarts' pauses on demand."""

    def __init__(self) -> None:
        self._sleepers: asyncio.Queue[tuple[float, asyncio.Future[None]]] = asyncio.Queue()
        self.pending: list[asyncio.Future[None]] = []

    async def sleep(self, delay: float) -> None:
        done = asyncio.get_running_loop().create_future()
        self.pending.append(done)
        self._sleepers.put_nowait((delay, done))
        try:
            await done
        finally:
            self.pending.remove(done)

    async def next(self, timeout: float = 10) -> tuple[float, asyncio.Future[None]]:
        """Wait for the next pause to begin: its delay, and the future that ends it."""
        return await asyncio.wait_for(self._sleepers.get(), timeout)
