"""What the benchmarks share: git, `hive serve` as its own process, polling a cell."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

IDENTITY = ["-c", "user.name=Bench", "-c", "user.email=bench@hive.local"]
SETTLED = ("ready", "error")


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *IDENTITY, *args], check=True, capture_output=True)


def create_until_ready(
    client: httpx.Client, body: dict[str, str], poll_s: float = 0.002
) -> tuple[float, str]:
    """Seconds from `POST /api/cells` to the cell being ready, and the cell id.

    Polling costs the server CPU, so long runs should poll less often (`poll_s`); the
    time is then taken from the cell's own `updatedAt` (stamped when it became ready,
    same clock, millisecond resolution), not from when a poll happened to see it.
    """
    began_wall, began = time.time(), time.perf_counter()
    cell = client.post("/api/cells", json=body).json()
    while True:
        detail = client.get(f"/api/cells/{cell['id']}").json()
        if detail["status"] in SETTLED:
            break
        time.sleep(poll_s)
    seen = time.perf_counter() - began
    if detail["status"] != "ready":
        raise SystemExit(f"cell failed: {detail['lastSetupError']}")
    stamped = datetime.fromisoformat(detail["updatedAt"]).timestamp() - began_wall
    return min(seen, stamped), str(cell["id"])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Served:
    """A running `hive serve`: its address and the token its API wants."""

    url: str
    token: str

    def client(self, **options: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self._auth(), **options)

    def async_client(self, **options: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, headers=self._auth(), **options)

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@contextmanager
def hive_server(
    repo: Path, home: Path, extra_env: dict[str, str] | None = None
) -> Iterator[Served]:
    """Serve `repo` from a separate process, with a token chosen here (`HIVE_TOKEN`)."""
    port, token = free_port(), secrets.token_urlsafe(32)
    env = {**os.environ, "HIVE_HOME": str(home), "HIVE_PORT": str(port), "HIVE_TOKEN": token}
    env.update(extra_env or {})
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
        yield Served(url, token)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)


@contextmanager
def btrfs_mount(image: Path, mountpoint: Path, size: str) -> Iterator[Path]:
    """A btrfs file system of `size` in the loop file `image`, mounted for the bench."""
    subprocess.run(["truncate", "-s", size, str(image)], check=True)
    subprocess.run(["mkfs.btrfs", "-q", "-f", str(image)], check=True, capture_output=True)
    mountpoint.mkdir(parents=True)
    subprocess.run(["mount", "-o", "loop", str(image), str(mountpoint)], check=True)
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", str(mountpoint)], check=False)
        image.unlink(missing_ok=True)
