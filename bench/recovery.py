"""Benchmark: how long a restarted server takes to settle 20 interrupted cells.

B: 20 cells are created with their run held in `run_setup` (the `HIVE_FAULTS` test
seam), the server is killed with SIGKILL, and a new one is started without the fault:
the time from starting it to all 20 `ready` again (boot, recovery, 20 resumed runs:
ports, setup, services). A, the baseline in the same run: 20 fresh creates at once to
all `ready` on a fresh server. Rounds interleave (A B A B …); medians, and the ratio.

Run: `make bench` or `.venv/bin/python bench/recovery.py [--rounds N] [--cells N]`.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import closing, suppress
from pathlib import Path

import httpx

from _common import free_port, git

CONFIG = {
    "promptSources": [],
    "templates": {
        "bench": {
            "id": "bench",
            "label": "Bench",
            "type": "manual",
            "includePatterns": ["./.env*"],
            "setup": ["true"],
            "services": {"web": {"run": "exec python3 -m http.server --bind 127.0.0.1 $PORT"}},
        }
    },
}


class Server:
    """`hive serve` on a fixed home, port and token, so a killed one can be restarted."""

    def __init__(self, repo: Path, home: Path) -> None:
        self.repo, self.home = repo, home
        self.url = f"http://127.0.0.1:{free_port()}"
        self.token = secrets.token_urlsafe(32)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, **extra: str) -> float:
        """Start it; the moment it was started (perf_counter)."""
        env = {**os.environ, "HIVE_HOME": str(self.home), "HIVE_TOKEN": self.token, **extra}
        env["HIVE_PORT"] = self.url.rsplit(":", 1)[1]
        began = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hive", "serve"], cwd=self.repo, env=env,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while not self._healthy():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the Hive server did not start")
            time.sleep(0.02)
        return began

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health").status_code == 200
        except httpx.TransportError:
            return False

    def client(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    def stop(self, sig: signal.Signals = signal.SIGINT) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=60)

    def rows(self, sql: str) -> list[tuple[object, ...]]:
        with closing(sqlite3.connect(f"file:{self.home / 'hive.db'}?mode=ro", uri=True)) as db:
            return list(db.execute(sql).fetchall())

    def end_services(self) -> None:
        """Services outlive their server by design; the benchmark's must not."""
        for (pid,) in self.rows("SELECT pid FROM cell_services WHERE pid IS NOT NULL"):
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(int(str(pid)), signal.SIGKILL)


def make_repository(root: Path) -> Path:
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    (root / "README.md").write_text("# bench\n")
    (root / ".gitignore").write_text(".env*\n")
    (root / ".env").write_text("SECRET=1\n")
    (root / "hive.config.json").write_text(json.dumps(CONFIG))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "bench")
    return root


def create_all(server: Server, cells: int) -> None:
    with server.client() as client:
        [workspace] = client.get("/api/workspaces").json()["workspaces"]
        for index in range(cells):
            body = {"workspaceId": workspace["id"], "templateId": "bench", "name": f"c{index}"}
            client.post("/api/cells", json=body).raise_for_status()


def wait_until(server: Server, sql: str, cells: int, poll_s: float = 0.02) -> None:
    deadline = time.monotonic() + 300
    while server.rows(sql)[0][0] != cells:
        if server.rows("SELECT count(*) FROM cells WHERE status = 'error'")[0][0]:
            raise SystemExit(f"a cell failed: {server.rows('SELECT last_setup_error FROM cells')}")
        if time.monotonic() > deadline:
            raise SystemExit("cells never settled")
        time.sleep(poll_s)


READY = "SELECT count(*) FROM cells WHERE status = 'ready'"
HELD = "SELECT count(*) FROM cells WHERE completed_steps LIKE '%allocate_ports%'"


def fresh_creates(root: Path, cells: int) -> float:
    """A: seconds from the first POST to all `cells` ready, on a fresh server."""
    server = Server(make_repository(root / "repo"), root / "home")
    server.start()
    try:
        began = time.perf_counter()
        create_all(server, cells)
        wait_until(server, READY, cells)
        return time.perf_counter() - began
    finally:
        server.stop()
        server.end_services()


def recovery(root: Path, cells: int) -> tuple[float, float]:
    """B: seconds from starting a server after a SIGKILL to all `cells` ready again,
    and of those, the seconds until it answered /health."""
    server = Server(make_repository(root / "repo"), root / "home")
    server.start(HIVE_FAULTS="run_setup=hang")
    try:
        create_all(server, cells)
        wait_until(server, HELD, cells)  # every run is now held in run_setup
        server.stop(signal.SIGKILL)
        began = server.start()
        booted = time.perf_counter() - began
        wait_until(server, READY, cells)
        return time.perf_counter() - began, booted
    finally:
        server.stop()
        server.end_services()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cells", type=int, default=20)
    args = parser.parse_args()
    baseline: list[float] = []
    restarts: list[float] = []
    boots: list[float] = []
    for index in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="hive-bench-recovery-") as tmp:
            baseline.append(fresh_creates(Path(tmp) / "a", args.cells))
            settled, booted = recovery(Path(tmp) / "b", args.cells)
            restarts.append(settled)
            boots.append(booted)
        print(f"round {index + 1}: fresh {baseline[-1]:.2f} s, restart {restarts[-1]:.2f} s")
    fresh, restart = statistics.median(baseline), statistics.median(restarts)
    print(f"{args.cells} cells; {args.rounds} interleaved rounds; medians")
    print(f"A fresh creates -> all ready       {fresh:7.2f} s  ({fresh / args.cells:.3f} s/cell)")
    print(
        f"B restart -> all interrupted ready {restart:7.2f} s  "
        f"({restart / args.cells:.3f} s/cell; boot {statistics.median(boots):.2f} s)"
    )
    print(f"ratio B / A                        {restart / fresh:7.2f}x")


if __name__ == "__main__":
    main()
