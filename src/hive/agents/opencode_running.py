"""An OpenCode server process as OpenCodeHost tracks it: who it is (pid and start time,
since pids are reused), how it ended, and whether it answers with its password."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from dataclasses import dataclass, field

import psutil

from hive.agents.opencode_client import OpenCodeClient, OpenCodeError
from hive.agents.opencode_server import OpenCodeServer
from hive.services.identity import is_same_process
from hive.services.process_group import stop_process_group

_HEALTH_TRY_S = 1.0
_HEALTH_POLL_S = 0.1


@dataclass(frozen=True)
class Liveness:
    """How a running server is checked for a hang: a health call every `every_s`, each
    given `within_s`; `misses` unanswered in a row mean it hangs (alive but useless)."""

    every_s: float = 10.0
    within_s: float = 5.0
    misses: int = 3


@dataclass(frozen=True)
class RunningServer:
    """The server as it runs now; `server` is set when this process spawned it (then it
    can be waited on), None for one adopted from an earlier Hive."""

    port: int
    pid: int
    started: float
    password: str = field(repr=False)
    server: OpenCodeServer | None
    since: float
    """Loop time it started or was adopted at: how long it stayed up."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def stop(self, grace_s: float) -> None:
        if self.server is not None:
            await self.server.stop(grace=grace_s)
        elif await asyncio.to_thread(is_running, self.pid, self.started):
            await stop_process_group(self.pid, grace=grace_s)


async def hangs(running: RunningServer, liveness: Liveness) -> str:
    """Return (how it hangs) once the server stops answering its health check; a server
    that answers again in time starts the count over."""
    missed = 0
    while True:
        await asyncio.sleep(liveness.every_s)
        if await answers_health(running.url, running.password, liveness.within_s):
            missed = 0
            continue
        missed += 1
        if missed >= liveness.misses:
            return f"stopped answering its health check ({missed} times in a row)"


def is_running(pid: int, started: float) -> bool:
    """The very process we recorded, and not a zombie (blocking)."""
    if not is_same_process(pid, started):
        return False
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def describe_exit(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-code).name}"
        return f"was killed by signal {-code}"
    return f"exited with code {code}"


async def answers_health(url: str, password: str | None, within_s: float) -> bool:
    """Whether the server at `url` reports healthy (with `password`) within `within_s`;
    a refused password ends the wait at once."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    async with OpenCodeClient(url, password=password) as client:
        while True:
            try:
                if (await client.health(timeout_s=_HEALTH_TRY_S)).healthy:
                    return True
            except OpenCodeError as exc:
                if exc.status == 401:
                    return False
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(_HEALTH_POLL_S)
