"""Benchmark: how soon a finished step reaches live subscribers; the timing summary.

1. Latency from a step's completion to its `timing` event (phase `end`) arriving at
   each subscriber of `GET /api/cells/timings/stream`, while cells are being created.
   A step's completion is its own end as its event tells it, `startedAt` +
   `durationMs`; the start is stamped to the millisecond (truncated), so a latency
   can read up to 1 ms high. Client and server run on this machine: one clock.
   Rounds interleave, A B A B …, because this machine's speed drifts:
     A  1 subscriber (the baseline)
     B  50 subscribers
   Each round opens its subscribers, creates `--cells` cells at once and waits until
   they are ready; p50 and p95 are over every arrival (each event at each subscriber) of the
   round's create steps. Printed: the medians over rounds, and B/A. Target: B's
   p95 < 100 ms. All subscribers share this one client process, so its own reading of
   50 streams counts against Hive here, not for it.
2. The summary query (`summary=1`) on 1,000,000 synthetic timing rows, measured as
   bench/timings.py does (B there), in ms. Target < 100 ms.

Run: `.venv/bin/python bench/events.py [--rounds N] [--subscribers N] [--rows N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

import timings
from _common import SETTLED, Served, git, hive_server
from hive.store.database import open_database

CONFIG = {
    "promptSources": [],
    "templates": {
        "bench": {
            "id": "bench",
            "label": "Bench",
            "type": "manual",
            "setup": ["true", "sleep 0.05", "true"],
        }
    },
}
STREAM = "/api/cells/timings/stream"


def make_repository(root: Path) -> Path:
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    (root / "README.md").write_text("bench\n")
    (root / "hive.config.json").write_text(json.dumps(CONFIG))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "bench")
    return root


@dataclass
class Arrivals:
    """(cell id, ms from the step's end to its arrival) for each `end` event seen."""

    latencies: list[tuple[str, float]] = field(default_factory=list)
    last_id: int = 0


def completed_at(data: dict[str, object]) -> float:
    started = datetime.fromisoformat(str(data["startedAt"]).replace("Z", "+00:00"))
    return started.timestamp() + float(str(data["durationMs"])) / 1000


async def subscribe(
    client: httpx.AsyncClient, after: int, arrivals: Arrivals, connected: asyncio.Event
) -> None:
    """Read the stream until cancelled; the arrival time is taken as each line is read."""
    async with client.stream("GET", STREAM, params={"after": after}) as response:
        response.raise_for_status()
        connected.set()
        kind, event_id = "", 0
        async for line in response.aiter_lines():
            now = time.time()
            if line.startswith("event:"):
                kind = line[6:].strip()
            elif line.startswith("id:"):
                event_id = int(line[3:].strip())
            elif line.startswith("data:") and kind == "timing":
                data = json.loads(line[5:])
                if data["phase"] == "end" and data["workflow"] == "create":
                    ms = (now - completed_at(data)) * 1000
                    arrivals.latencies.append((str(data["cellId"]), ms))
            elif not line:  # the blank line that ends an event
                arrivals.last_id = max(arrivals.last_id, event_id)
                kind = ""


async def settle(client: httpx.AsyncClient, cell_id: str) -> None:
    while True:
        detail = (await client.get(f"/api/cells/{cell_id}")).json()
        if detail["status"] in SETTLED:
            if detail["status"] != "ready":
                raise SystemExit(f"cell failed: {detail['lastSetupError']}")
            return
        await asyncio.sleep(0.05)


async def one_round(
    server: Served, workspace_id: str, subscribers: int, cells: int, after: int, tag: str
) -> tuple[list[float], int]:
    """Every latency of the round's create steps at every subscriber, and the newest
    event id seen (where the next round's streams start)."""
    limits = httpx.Limits(max_connections=subscribers + 10)
    async with server.async_client(timeout=None, limits=limits) as client:
        seen = [Arrivals() for _ in range(subscribers)]
        connected = [asyncio.Event() for _ in range(subscribers)]
        readers = [
            asyncio.create_task(subscribe(client, after, arrivals, ready))
            for arrivals, ready in zip(seen, connected, strict=True)
        ]
        await asyncio.gather(*(ready.wait() for ready in connected))
        await asyncio.sleep(0.3)  # each stream's first read of the log is done
        posts = [
            client.post(
                "/api/cells",
                json={"workspaceId": workspace_id, "templateId": "bench", "name": f"{tag} {n}"},
            )
            for n in range(cells)
        ]
        ids = [str(response.json()["id"]) for response in await asyncio.gather(*posts)]
        await asyncio.gather(*(settle(client, cell_id) for cell_id in ids))
        await asyncio.sleep(0.3)  # the last steps' events reach every stream
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        for cell_id in ids:
            await client.delete(f"/api/cells/{cell_id}")
    mine = set(ids)
    latencies = [ms for arrivals in seen for cell, ms in arrivals.latencies if cell in mine]
    return latencies, max(arrivals.last_id for arrivals in seen)


def p50_p95(values: list[float]) -> tuple[float, float]:
    return statistics.median(values), statistics.quantiles(values, n=20)[18]


async def stream_latency(
    server: Served, workspace_id: str, rounds: int, subscribers: int, cells: int
) -> dict[str, list[tuple[float, float]]]:
    _, after = await one_round(server, workspace_id, 1, 1, 0, "warm-up")
    figures: dict[str, list[tuple[float, float]]] = {"A": [], "B": []}
    for index in range(rounds):
        for key, count in (("A", 1), ("B", subscribers)):
            latencies, after = await one_round(
                server, workspace_id, count, cells, after, f"{key}{index}"
            )
            figures[key].append(p50_p95(latencies))
    return figures


async def summary_ms(rows: int) -> float:
    """bench/timings.py's B: the whole summary, median ms, on `rows` synthetic rows."""
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="hive-bench-events-") as tmp:
        path = Path(tmp) / "hive.db"
        await asyncio.to_thread(timings.fill, path, rows, now)
        db = await open_database(path)
        try:
            runs = await timings.measure(db, 5, now, from_rows=False)
        finally:
            await db.close()
    return statistics.median(runs["B"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--subscribers", type=int, default=50)
    parser.add_argument("--cells", type=int, default=4)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="hive-bench-") as tmp:
        scratch = Path(tmp)
        repo = make_repository(scratch / "repo")
        with hive_server(repo, scratch / "home") as server:
            with server.client() as client:
                workspace_id = client.get("/api/workspaces").json()["workspaces"][0]["id"]
            figures = asyncio.run(
                stream_latency(server, workspace_id, args.rounds, args.subscribers, args.cells)
            )
    (a50, a95), (b50, b95) = (
        (statistics.median(p for p, _ in figures[k]), statistics.median(p for _, p in figures[k]))
        for k in "AB"
    )
    print(f"{args.rounds} interleaved rounds, {args.cells} cells created at once in each")
    print(f"A  1 subscriber         step end -> arrival  p50 {a50:6.1f} ms  p95 {a95:6.1f} ms")
    print(
        f"B  {args.subscribers} subscribers        step end -> arrival  "
        f"p50 {b50:6.1f} ms  p95 {b95:6.1f} ms  (target p95 < 100 ms)"
    )
    ratio = f"p50 {b50 / a50:6.2f}x    p95 {b95 / a95:6.2f}x"
    print(f"B/A                                          {ratio}")

    began = time.perf_counter()
    ms = asyncio.run(summary_ms(args.rows))
    took = timedelta(seconds=round(time.perf_counter() - began))
    print(f"summary=1 on {args.rows:,} timing rows  median {ms:8.1f} ms  (target < 100 ms; {took})")


if __name__ == "__main__":
    main()
