"""Benchmark: how fast a cell gets ready, and how fast `POST /api/cells` answers.

1. Median create → ready time of a cell for a small repository, as a ratio against
   plain `git worktree add` of the same repository. Runs interleave (A B A B …)
   because this disk's speed drifts between runs; medians, never single pairs.
2. Median latency of `POST /api/cells` → 201 with 20 cells provisioning at once
   (target: < 50 ms): 20 cells whose setup runs for a few seconds are created, then
   further creates are timed one by one while those 20 provision. Also printed: the
   latencies of the 20 simultaneous POSTs themselves (a burst, one client process).

Run: `make bench` or `.venv/bin/python bench/create.py [--rounds N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from _common import SETTLED, Served, create_until_ready, git, hive_server

CONFIG = {
    "promptSources": [],
    "templates": {
        "bench": {
            "id": "bench",
            "label": "Bench",
            "type": "manual",
            "includePatterns": ["./.env*"],
        },
        "busy": {
            "id": "busy",
            "label": "Busy",
            "type": "manual",
            "includePatterns": ["./.env*"],
            "setup": ["sleep 4"],
        },
    },
}


def make_repository(root: Path, files: int) -> Path:
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    for index in range(files):
        path = root / f"src/module_{index // 50}/file_{index}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"VALUE = {index}\n" * 20)
    (root / ".gitignore").write_text(".env*\n")
    (root / ".env").write_text("SECRET=1\n")
    (root / "hive.config.json").write_text(json.dumps(CONFIG))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "bench")
    return root


def baseline_worktree_add(repo: Path, scratch: Path, index: int) -> float:
    target = scratch / f"baseline-{index}"
    began = time.perf_counter()
    git(repo, "worktree", "add", "-q", "-b", f"baseline-{index}", str(target), "HEAD")
    elapsed = time.perf_counter() - began
    git(repo, "worktree", "remove", "--force", str(target))
    git(repo, "branch", "-D", f"baseline-{index}")
    return elapsed


def hive_create_ready(client: httpx.Client, workspace_id: str, index: int) -> float:
    body = {"workspaceId": workspace_id, "templateId": "bench", "name": f"bench {index}"}
    elapsed, cell_id = create_until_ready(client, body)
    client.delete(f"/api/cells/{cell_id}")
    return elapsed


async def latency_under_load(
    server: Served, workspace_id: str, count: int
) -> tuple[list[float], list[float]]:
    """(burst latencies of `count` simultaneous creates, latencies of creates made after)."""
    async with server.async_client(timeout=60) as client:

        async def create(template: str, name: str) -> tuple[float, str]:
            body = {"workspaceId": workspace_id, "templateId": template, "name": name}
            began = time.perf_counter()
            response = await client.post("/api/cells", json=body)
            elapsed = time.perf_counter() - began
            if response.status_code != 201:
                raise SystemExit(f"POST answered {response.status_code}: {response.text}")
            return elapsed, str(response.json()["id"])

        burst = await asyncio.gather(*(create("busy", f"load {i}") for i in range(count)))
        probes = []
        for index in range(10):
            probes.append(await create("bench", f"probe {index}"))
            await asyncio.sleep(0.1)
        for _, cell_id in [*burst, *probes]:
            while (await client.get(f"/api/cells/{cell_id}")).json()["status"] not in SETTLED:
                await asyncio.sleep(0.05)
            await client.delete(f"/api/cells/{cell_id}")
        return [elapsed for elapsed, _ in burst], [elapsed for elapsed, _ in probes]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--burst", type=int, default=20)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="hive-bench-") as tmp:
        scratch = Path(tmp)
        repo = make_repository(scratch / "repo", args.files)
        with hive_server(repo, scratch / "home") as server:
            with server.client(timeout=60) as client:
                workspace_id = client.get("/api/workspaces").json()["workspaces"][0]["id"]
                hive_create_ready(client, workspace_id, -1)  # warm-up
                baseline, hive = [], []
                for index in range(args.rounds):
                    baseline.append(baseline_worktree_add(repo, scratch, index))
                    hive.append(hive_create_ready(client, workspace_id, index))
            burst, probes = asyncio.run(latency_under_load(server, workspace_id, args.burst))

    base_ms, hive_ms = statistics.median(baseline) * 1000, statistics.median(hive) * 1000
    print(f"repository: {args.files} tracked files; {args.rounds} interleaved rounds")
    print(f"git worktree add          median {base_ms:8.1f} ms")
    print(f"hive create -> ready      median {hive_ms:8.1f} ms")
    print(f"ratio hive / worktree add        {hive_ms / base_ms:8.2f}x")
    probe_ms, burst_ms = sorted(x * 1000 for x in probes), sorted(x * 1000 for x in burst)
    print(
        f"POST /api/cells -> 201 while {args.burst} cells provision: "
        f"median {statistics.median(probe_ms):.1f} ms, max {probe_ms[-1]:.1f} ms (target < 50 ms)"
    )
    print(
        f"POST /api/cells -> 201, {args.burst} sent at once:  "
        f"median {statistics.median(burst_ms):.1f} ms, max {burst_ms[-1]:.1f} ms"
    )


if __name__ == "__main__":
    main()
