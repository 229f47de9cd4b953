"""Run `hive serve` as its own process for benchmarks, as users run it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def hive_server(repo: Path, home: Path) -> Iterator[str]:
    """Serve `repo` from a separate process; yields the base URL."""
    port = free_port()
    env = {**os.environ, "HIVE_HOME": str(home), "HIVE_PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, "-m", "hive", "serve"], cwd=repo, env=env, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the Hive server did not start")
            time.sleep(0.05)
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
