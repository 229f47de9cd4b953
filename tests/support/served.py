"""`hive serve` as a real process of its own, for tests that kill or restart it."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.cli import cli_env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(repo: Path, home: Path, port: int, **extra: str) -> Iterator[subprocess.Popen[bytes]]:
    env = cli_env(HIVE_HOME=str(home), HIVE_PORT=str(port), **extra)
    process = subprocess.Popen(
        [sys.executable, "-m", "hive", "serve"],
        cwd=repo,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(process.stderr.read().decode() if process.stderr else "")
            time.sleep(0.05)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)
        if process.stderr:
            process.stderr.close()


def auth_of(home: Path) -> dict[str, str]:
    """The token a server keeps in its home (written before it starts listening)."""
    return {"Authorization": f"Bearer {(home / 'token').read_text().strip()}"}
