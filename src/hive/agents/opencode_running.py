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
