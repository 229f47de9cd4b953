"""The one OpenCode server a Hive server uses, started lazily and supervised.

Either Hive runs `opencode serve` itself (the binary HIVE_OPENCODE_BIN names, or
`opencode` on PATH), on a leased port, in its own process group, with a password kept
in `$HIVE_HOME/opencode/password`; or it connects to the server HIVE_OPENCODE_URL
names and runs nothing. A server Hive runs is restarted when it crashes (same HOME, so
its sessions survive and callers re-attach them by id), and a restarted Hive adopts
the one still running (pid, start time and an authenticated health check must all
match) instead of starting a second one beside it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hive.agents.opencode_client import OpenCodeClient, OpenCodeError
from hive.agents.opencode_launch import (
    LaunchError,
    ensure_password,
    find_binary,
    read_password,
    server_environment,
)
from hive.agents.opencode_running import (
    Liveness,
    RunningServer,
    answers_health,
    describe_exit,
    hangs,
    is_running,
)
from hive.agents.opencode_server import OpenCodeServer, OpenCodeServerSpec, OpenCodeStartError
from hive.core.errors import HiveError
from hive.ports.allocator import PortAllocator
from hive.ports.probe import port_is_free
from hive.services.identity import process_start_time
from hive.services.process_group import stop_process_group
from hive.services.restarts import RestartPolicy
from hive.settings import Settings
from hive.store.agent_servers import AgentServerRecord, AgentServerStore
from hive.store.leases import HIVE_OWNER

log = logging.getLogger(__name__)

#: Its row in agent_servers and the service name of its port lease.
SERVER_NAME = "opencode"
#: Failures in a row (crashes soon after a start, failed restarts) before giving up.
MAX_FAILURES = 5
DEFAULT_RESTART = RestartPolicy(stable_s=60.0, first_delay_s=0.5, max_delay_s=10.0)
DEFAULT_LIVENESS = Liveness()
# A process that is not our child cannot be waited on: its identity is polled instead.
_ADOPTED_POLL_S = 1.0
# How long a recorded server may take to answer before it counts as not ours to adopt.
_ADOPT_HEALTH_S = 15.0
_REMOTE_HEALTH_S = 5.0


class AgentUnavailableError(HiveError):
    """No OpenCode server can be had; the message says why and what to do."""


@dataclass(frozen=True)
class _Managed:
    """How Hive starts its own server."""

    binary: Path
    attach_binary: str
    home: Path | None
    workdir: Path
    log_path: Path
    password_path: Path
    env: Mapping[str, str] = field(repr=False)
    grace_s: float


@dataclass(frozen=True)
class _Remote:
    url: str
    password: str | None = field(repr=False)


class OpenCodeHost:
    """Hands out clients of a healthy OpenCode server; see the module docstring."""

    def __init__(
        self,
        *,
        servers: AgentServerStore,
        allocator: PortAllocator,
        managed: _Managed | None = None,
        remote: _Remote | None = None,
        unavailable: str | None = None,
        restart: RestartPolicy = DEFAULT_RESTART,
        liveness: Liveness = DEFAULT_LIVENESS,
    ) -> None:
        self._servers = servers
        self._liveness = liveness
        self._allocator = allocator
        self._managed = managed
        self._remote = remote
        self._unavailable = unavailable
        self._restart = restart
        self._lock = asyncio.Lock()  # one start at a time, however many cells ask
        self._running: RunningServer | None = None
        self._record: AgentServerRecord | None = None  # as last written, for health()
        self._watch: asyncio.Task[None] | None = None
        self._failures = 0  # in a row; see MAX_FAILURES
        self._closed = False
        self._remote_up = False
        self._remote_error: str | None = None

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        servers: AgentServerStore,
        allocator: PortAllocator,
        environ: Mapping[str, str],
        restart: RestartPolicy = DEFAULT_RESTART,
        liveness: Liveness = DEFAULT_LIVENESS,
    ) -> OpenCodeHost:
        """A host for what the settings say: a URL to connect to, else a binary to run
        (looked up now, on `environ`'s PATH), else unavailable with the reason."""
        common: dict[str, Any] = {
            "servers": servers,
            "allocator": allocator,
            "restart": restart,
            "liveness": liveness,
        }
        if settings.opencode_url:
            password = settings.opencode_password
            remote = _Remote(
                settings.opencode_url, password.get_secret_value() if password else None
            )
            return cls(remote=remote, **common)
        try:
            binary = find_binary(settings.opencode_bin, environ)
            env = server_environment(environ)
        except LaunchError as exc:
            return cls(unavailable=str(exc), **common)
        workdir = settings.hive_home / "opencode"
        managed = _Managed(
            binary=binary,
            attach_binary=str(binary) if settings.opencode_bin else "opencode",
            home=settings.opencode_home,
            workdir=workdir,
            log_path=settings.logs_root / "opencode.log",
            password_path=workdir / "password",
            env=env,
            grace_s=settings.kill_grace_s,
        )
        return cls(managed=managed, **common)

    @property
    def available(self) -> bool:
        """Configured at all: a binary found, or a URL given."""
        return self._managed is not None or self._remote is not None

    @property
    def unavailable_reason(self) -> str | None:
        return self._unavailable

    # -- handing out clients -----------------------------------------------------------

    async def client(self) -> OpenCodeClient:
        """A client of a healthy server, started or adopted on first need; the caller
        closes it (`async with`). AgentUnavailableError when there is none to be had."""
        if self._closed:
            raise AgentUnavailableError("Hive is shutting down: OpenCode is no longer served")
        if self._remote is not None:
            await self._check_remote(self._remote)
            return OpenCodeClient(self._remote.url, password=self._remote.password)
        if self._managed is None:
            raise AgentUnavailableError(self._unavailable or "OpenCode is not configured")
        async with self._lock:
            running = self._running
            if running is None:
                self._failures = 0  # after giving up, a new caller gets a whole budget
                running = await self._bring_up(self._managed)
        return OpenCodeClient(running.url, password=running.password)

    async def adopt(self) -> bool:
        """At start-up: take over the recorded server if it still runs and answers; never
        starts one. True when adopted (with a URL: when that server answers)."""
        if self._remote is not None:
            with contextlib.suppress(AgentUnavailableError):
                await self._check_remote(self._remote)
            return self._remote_up
        if self._managed is None or self._closed:
            return False
        async with self._lock:
            if self._running is None:
                await self._adopt_recorded(self._managed)
            return self._running is not None

    async def _check_remote(self, remote: _Remote) -> None:
        try:
            async with OpenCodeClient(remote.url, password=remote.password) as client:
                healthy = (await client.health(timeout_s=_REMOTE_HEALTH_S)).healthy
        except OpenCodeError as exc:
            self._remote_up = False
            if exc.status == 401:
                self._remote_error = (
                    f"the OpenCode server at {remote.url} (HIVE_OPENCODE_URL) refused Hive's "
                    "password: set HIVE_OPENCODE_PASSWORD to the one it was started with"
                )
            else:
                self._remote_error = (
                    f"the OpenCode server at {remote.url} (HIVE_OPENCODE_URL) does not answer "
                    f"({exc.message}): start it, or fix HIVE_OPENCODE_URL"
                )
            raise AgentUnavailableError(self._remote_error) from None
        self._remote_up = healthy
        self._remote_error = (
            None if healthy else f"the OpenCode server at {remote.url} is unhealthy"
        )
        if not healthy:
            raise AgentUnavailableError(f"{self._remote_error}: see its own log")

    # -- starting and adopting (with the lock held) ------------------------------------

    async def _bring_up(self, managed: _Managed) -> RunningServer:
        if self._closed:
            raise AgentUnavailableError("Hive is shutting down: OpenCode is no longer served")
        adopted = await self._adopt_recorded(managed)
        if adopted is not None:
            return adopted
        try:
            running = await self._start(managed)
        except (HiveError, OSError) as exc:
            error = f"the OpenCode server did not start: {_message(exc)}"
            self._record = await self._servers.set_last_error(SERVER_NAME, error)
            see = "" if str(managed.log_path) in error else f"; see {managed.log_path}"
            raise AgentUnavailableError(
                f"{error}{see}; or set HIVE_OPENCODE_BIN to another binary, or "
                "HIVE_OPENCODE_URL to a running `opencode serve`"
            ) from exc
        self._watch = asyncio.create_task(self._supervise(managed, running))
        return running

    async def _adopt_recorded(self, managed: _Managed) -> RunningServer | None:
        """Adopt the recorded server if it is ours and answers. One that is ours but does
        not answer is stopped: two would share one data directory."""
        record = self._record = await self._servers.get(SERVER_NAME)
        if record is None or record.pid is None or record.process_started is None:
            return None
        pid, started, port = record.pid, record.process_started, record.port
        if port is None or not await asyncio.to_thread(is_running, pid, started):
            self._record = await self._servers.clear_pid(SERVER_NAME)
            return None
        password = await asyncio.to_thread(read_password, managed.password_path) or ""
        running = RunningServer(port, pid, started, password, None, _loop_time())
        if not password or not await answers_health(running.url, password, _ADOPT_HEALTH_S):
            log.warning("the recorded OpenCode server (pid %d) does not answer: stopping it", pid)
            await running.stop(managed.grace_s)
            self._record = await self._servers.clear_pid(SERVER_NAME)
            return None
        if not await self._allocator.keep(HIVE_OWNER, SERVER_NAME, port):
            log.warning("port %d of the adopted OpenCode server is leased to a cell", port)
        self._running = running
        self._watch = asyncio.create_task(self._supervise(managed, running))
        log.info("adopted the running OpenCode server (pid %d) at %s", pid, running.url)
        return running

    async def _start(self, managed: _Managed) -> RunningServer:
        password = await asyncio.to_thread(ensure_password, managed.password_path)
        port = await self._port()
        spec = OpenCodeServerSpec(
            binary=managed.binary,
            port=port,
            log_path=managed.log_path,
            home=managed.home,
            cwd=managed.workdir,
            password=password,
            env=managed.env,
        )
        server = await OpenCodeServer.start(spec)
        try:
            started = await asyncio.to_thread(process_start_time, server.pid)
            if started is None:
                raise OpenCodeStartError(f"opencode serve exited at once; see {managed.log_path}")
            self._record = await self._servers.save(
                SERVER_NAME, pid=server.pid, process_started=started, port=port
            )
        except BaseException:
            await server.stop(grace=managed.grace_s)
            raise
        running = RunningServer(port, server.pid, started, password, server, _loop_time())
        self._running = running
        log.info("started the OpenCode server (pid %d) at %s", server.pid, running.url)
        return running

    async def _port(self) -> int:
        """Its leased port, the one it had before when that is still free."""
        previous = self._record.port if self._record else None
        port = await self._allocator.allocate(HIVE_OWNER, SERVER_NAME, None, preferred=previous)
        if await asyncio.to_thread(port_is_free, port):
            return port
        # Something else took it while the server was down: lease another.
        await self._allocator.release(HIVE_OWNER, SERVER_NAME)
        return await self._allocator.allocate(HIVE_OWNER, SERVER_NAME, None)

    # -- supervision -------------------------------------------------------------------

    async def _supervise(self, managed: _Managed, running: RunningServer) -> None:
        try:
            await self._restart_when_ended(managed, running)
        except Exception:  # the database failed us: say so, rather than die unseen
            log.exception("supervising the OpenCode server failed; the next use starts it")
            self._running = None

    async def _restart_when_ended(self, managed: _Managed, running: RunningServer) -> None:
        """Wait for the server to end, then restart it with backoff; again and again
        until Hive closes, or MAX_FAILURES failures in a row make it give up."""
        current: RunningServer | None = running
        while current is not None:
            how = await self._ended(current)
            async with self._lock:
                if self._running is not current:
                    return  # closed meanwhile
                self._running = None
                uptime = _loop_time() - current.since
                stayed_up = uptime >= self._restart.stable_s
                self._failures = 1 if stayed_up else self._failures + 1
                error = f"opencode serve (pid {current.pid}) {how}; see {managed.log_path}"
                log.warning("%s after %.1fs", error, uptime)
                await self._servers.clear_pid(SERVER_NAME)
                self._record = await self._servers.set_last_error(SERVER_NAME, error)
                # What it started (tool commands, LSPs) must not outlive it.
                await stop_process_group(current.pid, grace=managed.grace_s)
                current = await self._restart_after(managed, error)

    async def _ended(self, running: RunningServer) -> str:
        """How the server ended, or that it hangs (then it is stopped like a crashed one)."""
        ended = asyncio.create_task(self._exited(running))
        hung = asyncio.create_task(hangs(running, self._liveness))
        try:
            done, _ = await asyncio.wait({ended, hung}, return_when=asyncio.FIRST_COMPLETED)
            return done.pop().result()
        finally:
            for task in (ended, hung):
                task.cancel()
            await asyncio.gather(ended, hung, return_exceptions=True)

    async def _exited(self, running: RunningServer) -> str:
        if running.server is not None:
            return describe_exit(await running.server.wait())
        while True:
            await asyncio.sleep(_ADOPTED_POLL_S)
            if not await asyncio.to_thread(is_running, running.pid, running.started):
                return "ended (it was adopted, so its exit code is unknown)"

    async def _restart_after(self, managed: _Managed, error: str) -> RunningServer | None:
        while self._failures < MAX_FAILURES:
            await asyncio.sleep(self._restart.delay_s(self._failures))
            self._record = await self._servers.bump_restarts(SERVER_NAME)
            try:
                return await self._start(managed)
            except (HiveError, OSError) as exc:
                self._failures += 1
                error = f"restarting the OpenCode server failed: {_message(exc)}"
                log.warning("%s", error)
                self._record = await self._servers.set_last_error(SERVER_NAME, error)
        gave_up = (
            f"{error} (gave up after {self._failures} failures in a row; the next use tries again)"
        )
        log.error("%s", gave_up)
        self._record = await self._servers.set_last_error(SERVER_NAME, gave_up)
        return None

    # -- reporting -----------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """For Hive's `GET /health`; never holds the password. With a URL, `running` is
        what the last contact found."""
        if self._remote is not None:
            return {
                "configured": True,
                "running": self._remote_up,
                "url": self._remote.url,
                "pid": None,
                "restarts": 0,
                "lastError": self._remote_error,
                "managed": False,
            }
        running, record = self._running, self._record
        return {
            "configured": self._managed is not None,
            "running": running is not None,
            "url": running.url if running else None,
            "pid": running.pid if running else None,
            "restarts": record.restarts if record else 0,
            "lastError": record.last_error if record else self._unavailable,
            "managed": self._managed is not None,
        }

    def attach_command(self, directory: Path, session_id: str) -> str:
        """What a user types to attach a TUI to a session: the password is read from
        its file by the shell, never written out."""
        if self._remote is not None:
            return shlex.join(_attach("opencode", self._remote.url, directory, session_id))
        if self._managed is None:
            raise AgentUnavailableError(self._unavailable or "OpenCode is not configured")
        port = self._running.port if self._running else self._record.port if self._record else None
        if port is None:
            raise AgentUnavailableError("the OpenCode server has not started yet: try again")
        attach = _attach(
            self._managed.attach_binary, f"http://127.0.0.1:{port}", directory, session_id
        )
        password = shlex.quote(str(self._managed.password_path))
        return f'OPENCODE_SERVER_PASSWORD="$(cat {password})" {shlex.join(attach)}'

    # -- shutdown ------------------------------------------------------------------------

    async def close(self, *, stop: bool) -> None:
        """Stop supervising. `stop`: also stop the server Hive runs and drop its lease and
        record; otherwise it keeps running for the next Hive to adopt."""
        self._closed = True
        await self._stop_watching()
        async with self._lock:
            await self._stop_watching()  # one a start under the lock began meanwhile
            running, self._running = self._running, None
            if not stop or self._managed is None:
                return
            if running is not None:
                await running.stop(self._managed.grace_s)
                log.info("stopped the OpenCode server (pid %d)", running.pid)
            elif await self._recorded_alive():
                return  # one this host never adopted: left for the next Hive to adopt
            await self._allocator.release(HIVE_OWNER, SERVER_NAME)
            await self._servers.delete(SERVER_NAME)
            self._record = None

    async def _recorded_alive(self) -> bool:
        record = await self._servers.get(SERVER_NAME)
        if record is None or record.pid is None or record.process_started is None:
            return False
        return await asyncio.to_thread(is_running, record.pid, record.process_started)

    async def _stop_watching(self) -> None:
        watch, self._watch = self._watch, None
        if watch is not None and watch is not asyncio.current_task():
            watch.cancel()
            await asyncio.wait([watch])  # unlike `await watch`, our own cancel still reaches us


def _attach(binary: str, url: str, directory: Path, session_id: str) -> list[str]:
    return [binary, "attach", url, "--dir", str(directory), "--session", session_id]


def _message(exc: BaseException) -> str:
    return exc.message if isinstance(exc, HiveError) else str(exc)


def _loop_time() -> float:
    return asyncio.get_running_loop().time()
