"""Benchmark: services start in parallel, and port leases are fast and never shared.

1. A template with four independent services that each take 1 s to get ready: the
   `ensure_services` step's duration ÷ the slowest service's own start-to-ready time
   (target < 1.3; starting them one after another would give about 4).
2. 1,000 port leases allocated concurrently against a real SQLite database with real
   bind probes: leases per second, and a check that no port was handed out twice.

Run: `.venv/bin/python bench/services.py [--rounds N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import create_until_ready, git, hive_server
from hive.ports.allocator import PortAllocator
from hive.store.database import open_database
from hive.store.leases import LeaseStore

SLOW_SERVICE = """\
import sys, time
from http.server import HTTPServer, BaseHTTPRequestHandler
time.sleep(1.0)  # a service that needs a second to get ready
HTTPServer(("127.0.0.1", int(sys.argv[1])), BaseHTTPRequestHandler).serve_forever()
"""


def make_repository(root: Path) -> Path:
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    (root / "slow.py").write_text(SLOW_SERVICE)
    python = shlex.quote(sys.executable)
    services = {f"svc{i}": {"run": f"exec {python} slow.py $PORT"} for i in range(4)}
    config = {
        "promptSources": [],
        "templates": {
            "four": {"id": "four", "label": "Four", "type": "manual", "services": services}
        },
    }
    (root / "hive.config.json").write_text(json.dumps(config))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "bench")
    return root


def parallel_start(rounds: int) -> None:
    ratios, totals = [], []
    with tempfile.TemporaryDirectory(prefix="hive-bench-") as tmp:
        repo = make_repository(Path(tmp) / "repo")
        with (
            hive_server(repo, Path(tmp) / "home") as server,
            server.client(timeout=120) as client,
        ):
            workspace_id = client.get("/api/workspaces").json()["workspaces"][0]["id"]
            for index in range(rounds):
                body = {"workspaceId": workspace_id, "templateId": "four", "name": f"b{index}"}
                _, cell_id = create_until_ready(client, body, poll_s=0.05)
                steps = client.get(f"/api/cells/{cell_id}/timings").json()["steps"]
                duration = {s["step"]: s["durationMs"] for s in steps}
                slowest = max(
                    duration[f"ensure_services:start:svc{i}"]
                    + duration[f"ensure_services:ready:svc{i}"]
                    for i in range(4)
                )
                total = duration["ensure_services"]
                ratios.append(total / slowest)
                totals.append(total)
                client.delete(f"/api/cells/{cell_id}")
    print(f"four 1-second services: ensure_services median {statistics.median(totals):.0f} ms")
    print(
        f"ready time / slowest service's start time: median {statistics.median(ratios):.2f} "
        "(target < 1.3; one after another would be about 4)"
    )


async def lease_throughput(count: int) -> None:
    with tempfile.TemporaryDirectory(prefix="hive-bench-") as tmp:
        db = await open_database(Path(tmp) / "hive.db")
        try:
            allocator = PortAllocator(LeaseStore(db), (30000, 39999))
            began = time.perf_counter()
            ports = await asyncio.gather(
                *(allocator.allocate(f"cell{i // 4}", f"svc{i % 4}", None) for i in range(count))
            )
            elapsed = time.perf_counter() - began
        finally:
            await db.close()
    duplicates = count - len(set(ports))
    print(
        f"{count} leases in {elapsed:.2f} s: {count / elapsed:.0f} leases/s, "
        f"{duplicates} duplicates"
    )
    if duplicates:
        raise SystemExit("a port was leased twice")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--leases", type=int, default=1000)
    args = parser.parse_args()
    parallel_start(args.rounds)
    asyncio.run(lease_throughput(args.leases))


if __name__ == "__main__":
    main()
