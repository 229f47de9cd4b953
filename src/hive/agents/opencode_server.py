"""Start and stop an `opencode serve` process.

It runs in its own process group (its own session), so a stop ends everything it
started (tool commands, LSPs) with one group signal. Given a `home`, it gets its own
HOME and XDG directories (its config, data and logs are then Hive's, not the user's);
without one it keeps those of its environment, so the user's providers and logins work.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hive.agents.opencode_client import OpenCodeClient, OpenCodeError
from hive.core.errors import HiveError
from hive.services.logs import ServiceLog
from hive.services.process_group import stop_process_group
from hive.services.spawn import spawn_program, wait_for_exit

_HEALTH_POLL_S = 0.1
# A health request sent while the server is still starting can hang instead of being
# refused, so each try gets a short deadline of its own.
_HEALTH_TRY_S = 1.0


class OpenCodeStartError(HiveError):
    """`opencode serve` exited or never answered its health check."""


@dataclass(frozen=True)
class OpenCodeServerSpec:
    binary: Path
    port: int
    log_path: Path
    home: Path | None = None
    cwd: Path | None = None
    """Where it runs; its home when unset (one of the two must be given)."""
    password: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)  # PATH and the like, plus extras
    start_timeout_s: float = 60.0

    def __post_init__(self) -> None:
        if self.home is None and self.cwd is None:
            raise ValueError("an OpenCode server needs a home or a cwd to run in")

    @property
    def workdir(self) -> Path:
        return next(path for path in (self.cwd, self.home) if path is not None)

    def environment(self) -> dict[str, str]:
        env = dict(self.env)
        if self.home is not None:
            home = self.home
            env.update(
                HOME=str(home),
                XDG_CONFIG_HOME=str(home / ".config"),
                XDG_DATA_HOME=str(home / ".local" / "share"),
                XDG_STATE_HOME=str(home / ".local" / "state"),
                XDG_CACHE_HOME=str(home / ".cache"),
            )
        if self.password:
            env["OPENCODE_SERVER_PASSWORD"] = self.password
        return env


class OpenCodeServer:
    """A started server; `url` and `password` are what an OpenCodeClient needs.

    It is spawned detached (posix_spawn, a new session), not as an asyncio subprocess:
    it outlives the Hive that started it whenever sessions live in it, and the next Hive
    adopts it; an asyncio transport would belong to one event loop and complain when
    dropped with the process alive. Its exit is seen through a pidfd, and reaped.
    """

    def __init__(self, spec: OpenCodeServerSpec, pid: int) -> None:
        self.spec = spec
        self._pid = pid
        self._returncode: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.spec.port}"

    @property
    def pid(self) -> int:
        return self._pid

    @property
    def returncode(self) -> int | None:
        return self._returncode

    def client(self) -> OpenCodeClient:
        return OpenCodeClient(self.url, password=self.spec.password)

    async def wait(self) -> int:
        """Until it exits; its exit code (negative: the signal that ended it)."""
        if self._returncode is None:
            code = await wait_for_exit(self._pid, reap=True)
            # Reaped by another waiter meanwhile (None): it ended, how is unknown.
            self._returncode = code if code is not None else (self._returncode or -1)
        return self._returncode

    @classmethod
    async def start(cls, spec: OpenCodeServerSpec) -> OpenCodeServer:
        """Spawn it and return once `/global/health` says healthy; on failure nothing
        of it is left running."""
        await asyncio.to_thread(spec.log_path.parent.mkdir, parents=True, exist_ok=True)
        for directory in {spec.workdir, spec.home or spec.workdir}:
            await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
        # Bounded like a service's log: a large one is rotated to opencode.log.1 first.
        log, _start = await asyncio.to_thread(ServiceLog(spec.log_path).open_for_process)
        argv = [str(spec.binary), "serve", "--port", str(spec.port), "--hostname", "127.0.0.1"]
        try:
            pid = await asyncio.to_thread(
                spawn_program, argv, spec.environment(), spec.workdir, log
            )
        finally:
            os.close(log)  # the child holds its own copy
        server = cls(spec, pid)
        try:
            await server._wait_healthy()
        except BaseException:
            await server.stop()
            raise
        return server

    async def _wait_healthy(self) -> None:
        exited = asyncio.create_task(self.wait())
        try:
            await self._poll_health(exited)
        finally:
            exited.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await exited

    async def _poll_health(self, exited: asyncio.Task[int]) -> None:
        try:
            async with asyncio.timeout(self.spec.start_timeout_s), self.client() as client:
                while True:
                    if exited.done():
                        raise OpenCodeStartError(
                            f"opencode serve exited with {exited.result()}; "
                            f"see {self.spec.log_path}"
                        )
                    with contextlib.suppress(OpenCodeError):
                        if (await client.health(timeout_s=_HEALTH_TRY_S)).healthy:
                            return
                    await asyncio.sleep(_HEALTH_POLL_S)
        except TimeoutError as exc:
            raise OpenCodeStartError(
                f"opencode serve not healthy within {self.spec.start_timeout_s:g}s; "
                f"see {self.spec.log_path}"
            ) from exc

    async def stop(self, *, grace: float = 5.0) -> None:
        """TERM its whole group, KILL what is left after `grace`; reaped."""
        reaper = asyncio.create_task(self.wait())
        try:
            await stop_process_group(self._pid, grace=grace)
            async with asyncio.timeout(grace + 5):
                await reaper
        except TimeoutError:
            pass  # KILLed: it is gone from the group; the zombie goes with Hive
        finally:
            reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reaper
