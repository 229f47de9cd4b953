"""Readiness checks for a service Hive started: tcp, http, command, a log line, or
staying up for a grace period.

`wait_ready` retries one check every `interval_ms` until it passes, the service's
process exits, or the time runs out; the outcome says why, in words a user can act on.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from hive.services.process_group import stop_process_group
from hive.services.readiness import Readiness
from hive.services.shell import shell_argv

_DEFAULT_INTERVAL_S = 0.1
_STAYS_UP_POLL_S = 0.05
_TCP_TRY_S = 1.0
_HTTP_TRY_S = 2.0
_COMMAND_TRY_S = 5.0
_MIN_TRY_S = 0.2
_COMMAND_GRACE_S = 1.0
_OUTPUT_KEEP = 4096
_LOG_READ_MAX = 1 << 20
_LOG_LINE_MAX = 64 * 1024
# Colours and cursor moves that dev servers print around their "ready" lines.
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")

_Check = Callable[[float], Awaitable[tuple[bool, str]]]
"""One try: given its time limit, whether it passed and a reason either way."""


@dataclass(frozen=True)
class ProbeOutcome:
    ready: bool
    reason: str
    """What passed ("GET /health answered 200"), or why it never did."""
    checks: int
    """How many tries ran."""


async def wait_ready(
    readiness: Readiness,
    *,
    port: int | None,
    log_path: Path,
    log_start: int,
    env: Mapping[str, str],
    cwd: Path,
    timeout_s: float,
    alive: Callable[[], bool],
) -> ProbeOutcome:
    """Retry the check until it passes, the process exits (`alive()` is False) or
    `timeout_s` runs out. A log check reads the log from byte `log_start`, the output of
    this start only. (`exit`, a oneshot's completion, is the supervisor's to wait for.)
    """
    interval = readiness.interval_s if readiness.interval_s > 0 else _DEFAULT_INTERVAL_S
    match readiness.kind:
        case "started":
            return await _stays_up(readiness.grace_s, alive)
        case "tcp" | "http" if port is None:
            return ProbeOutcome(False, f"a {readiness.kind} ready probe needs a port", 0)
        case "http" if port is not None:
            async with httpx.AsyncClient(trust_env=False) as client:
                check = _http_check(client, port, readiness.target or "/")
                return await _retry(check, _HTTP_TRY_S, interval, timeout_s, alive)
        case "tcp" if port is not None:
            return await _retry(_tcp_check(port), _TCP_TRY_S, interval, timeout_s, alive)
        case "command":
            check = _command_check(readiness.target or "true", env, cwd)
            return await _retry(check, _COMMAND_TRY_S, interval, timeout_s, alive)
        case "log":
            scanner = _LogScanner(log_path, log_start, readiness.target or "")
            return await _retry(scanner.check, _COMMAND_TRY_S, interval, timeout_s, alive)
    raise ValueError(f"no probe for readiness {readiness.kind!r}")


async def _stays_up(grace_s: float, alive: Callable[[], bool]) -> ProbeOutcome:
    """Ready when the process is still running `grace_s` after it started."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace_s
    while alive():
        remaining = deadline - loop.time()
        if remaining <= 0:
            return ProbeOutcome(True, f"still running after {grace_s:g}s", 1)
        await asyncio.sleep(min(_STAYS_UP_POLL_S, remaining))
    return ProbeOutcome(False, "the process exited before it was ready", 1)


async def _retry(
    check: _Check,
    try_cap_s: float,
    interval_s: float,
    timeout_s: float,
    alive: Callable[[], bool],
) -> ProbeOutcome:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    checks = 0
    last = ""
    while True:
        if not alive():
            return ProbeOutcome(False, _exited(last), checks)
        remaining = deadline - loop.time()
        ready, reason = await check(min(try_cap_s, max(remaining, _MIN_TRY_S)))
        checks += 1
        if ready:
            return ProbeOutcome(True, reason, checks)
        last = reason
        remaining = deadline - loop.time()
        if remaining <= 0:
            if not alive():
                return ProbeOutcome(False, _exited(last), checks)
            return ProbeOutcome(False, f"not ready after {timeout_s:g}s: {last}", checks)
        await asyncio.sleep(min(interval_s, remaining))


def _exited(last: str) -> str:
    reason = "the process exited before it was ready"
    return f"{reason} (last check: {last})" if last else reason


def _tcp_check(port: int) -> _Check:
    async def check(limit: float) -> tuple[bool, str]:
        failure = "connection refused"
        for host in ("127.0.0.1", "::1"):
            try:
                async with asyncio.timeout(limit):
                    _, writer = await asyncio.open_connection(host, port)
            except TimeoutError:
                failure = f"no answer within {limit:g}s"
                continue
            except OSError as exc:
                if host == "127.0.0.1":
                    # asyncio's own strerror reads "Connect call failed (...)".
                    failure = os.strerror(exc.errno) if exc.errno else str(exc) or "refused"
                continue
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            where = "" if host == "127.0.0.1" else " (on ::1)"
            return True, f"port {port} accepts connections{where}"
        return False, f"port {port} does not accept connections ({failure.lower()})"

    return check


def _http_check(client: httpx.AsyncClient, port: int, path: str) -> _Check:
    async def check(limit: float) -> tuple[bool, str]:
        failure = ""
        for host in ("127.0.0.1", "[::1]"):
            try:
                async with asyncio.timeout(limit):
                    async with client.stream(
                        "GET", f"http://{host}:{port}{path}", timeout=limit
                    ) as response:
                        status = response.status_code
            except httpx.ConnectError as exc:
                if host == "127.0.0.1":
                    failure = f"GET {path} failed: {exc or 'cannot connect'}"
                continue  # a server that listens on ::1 only (Node's "localhost")
            except (TimeoutError, httpx.TimeoutException):
                return False, f"GET {path} got no answer within {limit:g}s"
            except httpx.HTTPError as exc:
                return False, f"GET {path} failed: {exc or type(exc).__name__}"
            return status < 500, f"GET {path} answered {status}"
        return False, failure

    return check


def _command_check(command: str, env: Mapping[str, str], cwd: Path) -> _Check:
    async def check(limit: float) -> tuple[bool, str]:
        try:
            process = await asyncio.create_subprocess_exec(
                *shell_argv(command, env),
                cwd=cwd,
                env=dict(env),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            return False, f"`{command}` could not start: {exc.strerror or exc}"
        output = bytearray()
        timed_out = False
        try:
            async with asyncio.timeout(limit):
                await _drain(process, output)
                await process.wait()
        except TimeoutError:
            timed_out = True
        finally:
            await asyncio.shield(
                stop_process_group(process.pid, grace=_COMMAND_GRACE_S, leader=process)
            )
            # Read to the end so the pipe closes (the group is gone; this is quick).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_COMMAND_GRACE_S):
                    await _drain(process, output)
        last_line = _last_line(output)
        if timed_out:
            reason = f"`{command}` did not finish within {limit:g}s"
        elif process.returncode == 0:
            return True, f"`{command}` exited 0"
        else:
            reason = f"`{command}` exited {process.returncode}"
        return False, f"{reason}: {last_line}" if last_line else reason

    return check


async def _drain(process: asyncio.subprocess.Process, into: bytearray) -> None:
    """Read the command's output to its end, keeping only the last few KiB."""
    stream = process.stdout
    if stream is None:
        return
    while chunk := await stream.read(_OUTPUT_KEEP):
        into += chunk
        del into[:-_OUTPUT_KEEP]


def _last_line(output: bytes | bytearray) -> str:
    lines = [line.strip() for line in output.decode("utf-8", errors="replace").splitlines()]
    return next((line for line in reversed(lines) if line), "")


class _LogScanner:
    """Reads the service's log incrementally, from where the previous try stopped."""

    def __init__(self, path: Path, start: int, pattern: str) -> None:
        self._path = path
        self._offset = start
        self._pending = b""
        self._source = pattern
        self._pattern = re.compile(pattern)

    async def check(self, limit: float) -> tuple[bool, str]:
        del limit  # a read of at most a MiB; no need to cut it short
        while True:
            data = await asyncio.to_thread(self._read_new)
            *lines, self._pending = (self._pending + data).split(b"\n")
            if len(self._pending) > _LOG_LINE_MAX:
                lines.append(self._pending)
                self._pending = b""
            if any(self._matches(line) for line in lines):
                return True, f"log matched {self._source!r}"
            if len(data) < _LOG_READ_MAX:
                break
        if self._pending and self._matches(self._pending):  # a prompt without a newline
            return True, f"log matched {self._source!r}"
        return False, f"no log line matched {self._source!r} yet"

    def _matches(self, line: bytes) -> bool:
        text = _ANSI.sub("", line.decode("utf-8", errors="replace"))
        return self._pattern.search(text) is not None

    def _read_new(self) -> bytes:
        try:
            with self._path.open("rb") as handle:
                size = handle.seek(0, os.SEEK_END)
                if size < self._offset:  # copy-truncate rotation: it starts over
                    self._offset = 0
                    self._pending = b""
                handle.seek(self._offset)
                data = handle.read(_LOG_READ_MAX)
        except FileNotFoundError:
            return b""
        self._offset += len(data)
        return data
