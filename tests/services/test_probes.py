"""wait_ready: real listeners, real HTTP servers, real shell commands and real log files."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from hive.config.schema import ProcessService, ReadyProbe
from hive.services.probes import ProbeOutcome, wait_ready
from hive.services.process_group import stop_process_group
from hive.services.readiness import readiness_of

from .processes import base_env

# Answers 503 to the first N requests (argv[1]), then 200; prints its port first.
HTTP_SERVER = """
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

failures = int(sys.argv[1])

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        global failures
        status = 503 if failures > 0 else 200
        failures -= 1
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass

server = HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""

TCP_LISTENER = """
import socket, time
sock = socket.socket()
sock.bind(("127.0.0.1", 0))
sock.listen()
print(sock.getsockname()[1], flush=True)
time.sleep(300)
"""


class Server:
    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process = process
        self.port = port

    def alive(self) -> bool:
        return self.process.returncode is None


async def start_server(script: str, *args: str) -> Server:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 15)
        return Server(process, int(line))
    except BaseException:
        await stop_process_group(process.pid, grace=1, leader=process)
        raise


Start = Callable[..., Awaitable[Server]]


@pytest.fixture
async def servers() -> AsyncIterator[Start]:
    started: list[Server] = []

    async def start(script: str, *args: str) -> Server:
        server = await start_server(script, *args)
        started.append(server)
        return server

    yield start
    for server in started:
        await stop_process_group(server.process.pid, grace=1, leader=server.process)
        if server.process.stdout is not None:
            await server.process.stdout.read()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def probe(
    ready: ReadyProbe | None,
    tmp_path: Path,
    *,
    port: int | None = None,
    log_start: int = 0,
    timeout_s: float = 15,
    alive: Callable[[], bool] = lambda: True,
    grace_s: float = 0.0,
) -> ProbeOutcome:
    service = ProcessService(run="serve", ready=ready)
    command = ready.command if ready is not None else None
    readiness = readiness_of(service, port=port, command=command, start_grace_s=grace_s)
    return await wait_ready(
        readiness,
        port=port,
        log_path=tmp_path / "service.log",
        log_start=log_start,
        env=base_env(tmp_path),
        cwd=tmp_path,
        timeout_s=timeout_s,
        alive=alive,
    )


async def test_default_is_tcp_on_the_port(tmp_path: Path, servers: Start) -> None:
    server: Server = await servers(TCP_LISTENER)
    outcome = await probe(None, tmp_path, port=server.port, alive=server.alive)
    assert outcome == ProbeOutcome(True, f"port {server.port} accepts connections", 1)
    outcome = await probe(ReadyProbe(tcp=True), tmp_path, port=server.port)
    assert outcome.ready


async def test_no_port_no_probe_is_ready_once_it_stayed_up(tmp_path: Path) -> None:
    outcome = await probe(None, tmp_path, grace_s=0.2)
    assert outcome.ready
    assert outcome.reason == "still running after 0.2s"


async def test_no_port_no_probe_exiting_within_the_grace_is_not_ready(tmp_path: Path) -> None:
    checks = iter([True, True, False])
    outcome = await probe(None, tmp_path, grace_s=30, alive=lambda: next(checks))
    assert not outcome.ready
    assert "exited before it was ready" in outcome.reason


async def test_http_waits_for_a_status_below_500(tmp_path: Path, servers: Start) -> None:
    server: Server = await servers(HTTP_SERVER, "2")
    ready = ReadyProbe(http="/health", interval_ms=20)
    outcome = await probe(ready, tmp_path, port=server.port, alive=server.alive)
    assert outcome == ProbeOutcome(True, "GET /health answered 200", 3)


async def test_http_timeout_keeps_the_last_reason(tmp_path: Path, servers: Start) -> None:
    server: Server = await servers(HTTP_SERVER, "1000000")
    ready = ReadyProbe(http="/health", interval_ms=50)
    outcome = await probe(ready, tmp_path, port=server.port, timeout_s=1)
    assert not outcome.ready
    assert outcome.reason == "not ready after 1s: GET /health answered 503"
    assert outcome.checks >= 1


async def test_command_ready_on_exit_zero(tmp_path: Path) -> None:
    loop = asyncio.get_running_loop()
    loop.call_later(0.3, (tmp_path / "marker").touch)
    ready = ReadyProbe(command="test -f marker", interval_ms=50)
    outcome = await probe(ready, tmp_path)
    assert outcome.ready
    assert outcome.reason == "`test -f marker` exited 0"
    assert outcome.checks >= 2


async def test_command_failure_reason_has_last_output_line(tmp_path: Path) -> None:
    ready = ReadyProbe(command="echo first; echo 'still starting' >&2; exit 3", interval_ms=100)
    outcome = await probe(ready, tmp_path, timeout_s=0.5)
    assert not outcome.ready
    assert outcome.reason.endswith("exited 3: still starting")
    assert outcome.reason.startswith("not ready after 0.5s: `echo first;")


async def test_command_overrunning_its_try_is_stopped(tmp_path: Path) -> None:
    ready = ReadyProbe(command="echo $$ > probe.pid; exec sleep 300")
    outcome = await probe(ready, tmp_path, timeout_s=0.5)
    assert not outcome.ready
    assert "did not finish within" in outcome.reason
    pid = int((tmp_path / "probe.pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


async def test_log_matches_a_line_written_later(tmp_path: Path) -> None:
    log = tmp_path / "service.log"
    log.write_bytes(b"old run: listening on 1\n[hive] started\n")
    start = log.stat().st_size

    async def write_later() -> None:
        with log.open("ab", buffering=0) as handle:
            await asyncio.sleep(0.2)
            handle.write(b"booting\nserver \x1b[1mlisten")
            await asyncio.sleep(0.2)
            handle.write(b"ing\x1b[0m on 8000\n")

    writer = asyncio.create_task(write_later())
    ready = ReadyProbe(log=r"listening on \d+$", interval_ms=20)
    outcome = await probe(ready, tmp_path, log_start=start)
    await writer
    assert outcome.ready
    assert outcome.reason == "log matched 'listening on \\\\d+$'"
    assert outcome.checks >= 2


async def test_log_does_not_match_earlier_runs(tmp_path: Path) -> None:
    log = tmp_path / "service.log"
    log.write_bytes(b"listening on 1\n")
    ready = ReadyProbe(log="listening on", interval_ms=50)
    outcome = await probe(ready, tmp_path, log_start=log.stat().st_size, timeout_s=0.3)
    assert not outcome.ready
    assert outcome.reason == "not ready after 0.3s: no log line matched 'listening on' yet"


async def test_exited_process_stops_the_wait(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", "raise SystemExit(1)")
    try:
        await process.wait()
        outcome = await probe(
            None, tmp_path, port=free_port(), timeout_s=60, alive=lambda: process.returncode is None
        )
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert outcome == ProbeOutcome(False, "the process exited before it was ready", 0)


async def test_exit_during_the_wait_names_the_last_check(tmp_path: Path) -> None:
    port = free_port()
    tries: list[int] = []

    def alive() -> bool:
        tries.append(1)
        return len(tries) <= 2

    outcome = await probe(ReadyProbe(tcp=True, interval_ms=10), tmp_path, port=port, alive=alive)
    assert not outcome.ready
    assert outcome.checks == 2
    assert outcome.reason == (
        "the process exited before it was ready "
        f"(last check: port {port} does not accept connections (connection refused))"
    )


async def test_tcp_timeout(tmp_path: Path) -> None:
    port = free_port()
    outcome = await probe(ReadyProbe(tcp=True, interval_ms=50), tmp_path, port=port, timeout_s=1)
    assert not outcome.ready
    assert outcome.reason.startswith(f"not ready after 1s: port {port} does not accept connections")


async def test_http_probe_without_port(tmp_path: Path) -> None:
    outcome = await probe(ReadyProbe(http="/"), tmp_path)
    assert not outcome.ready
    assert "needs a port" in outcome.reason
