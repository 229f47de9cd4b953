"""Benchmark: what sampling every cell's CPU and memory costs the server.

10 cells of 3 services each: 30 real processes (`sleep`, each leading its own session
with its service's `HIVE_PROCESS_TAG`, as the supervisor starts them), recorded in a
real Hive database as the supervisor records them (pid + start time). The sampler runs
in this process, as in the server, so its cost is this process's CPU time: every
thread (the /proc reads in a worker thread, the database writer, the event loop).

1. The share of one core at the interval (default 5 s, `HIVE_SAMPLE_INTERVAL`'s), in
   windows that interleave, A B A B …, because this machine's speed drifts:
     A  the same event loop and database, idle for the window (the baseline)
     B  the ResourceSampler running at the interval for the window
   Printed: the medians of A and B in CPU ms, and (B - A) / window as a percentage of
   one core. Target < 1%.
2. One round (`ResourceSampler.sample()`: read the records, scan the process table,
   read the cells' processes, write their samples, rollups and footprints), `--rounds`
   of them back to back: the median CPU and wall time of one, and what that comes to
   at the interval.

Run: `.venv/bin/python bench/resources.py [--interval S] [--window S] [--windows N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import psutil

from hive.core.status import CellStatus, ServiceStatus
from hive.resources.process_table import ProcessTable
from hive.resources.sampler import ResourceSampler
from hive.services.process_tag import TAG_VARIABLE, service_tag
from hive.store.cells import CellStore
from hive.store.database import Database, open_database
from hive.store.records import CellRecord
from hive.store.resources import ResourceStore
from hive.store.services import ServiceStore
from hive.store.workspaces import WorkspaceStore

CELLS, SERVICES = 10, ("web", "api", "worker")


@contextmanager
def services(cell_ids: list[str], home: Path) -> Iterator[list[tuple[str, str, int]]]:
    """(cell, service, pid) of 30 idle processes, each leading its own session."""
    env = {"PATH": os.environ["PATH"], "HOME": str(home)}
    started: list[tuple[str, str, subprocess.Popen[bytes]]] = []
    try:
        for cell_id in cell_ids:
            for name in SERVICES:
                tagged = {**env, TAG_VARIABLE: service_tag(cell_id, name)}
                process = subprocess.Popen(
                    ["sleep", "3600"], env=tagged, start_new_session=True, cwd=home
                )
                started.append((cell_id, name, process))
        yield [(cell_id, name, process.pid) for cell_id, name, process in started]
    finally:
        for _, _, process in started:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


async def record(db: Database, home: Path, running: list[tuple[str, str, int]]) -> None:
    """The cells and their services as Hive would have them in its database."""
    workspace = await WorkspaceStore(db).register(home)
    cells, service_store = CellStore(db), ServiceStore(db)
    for cell_id in sorted({cell_id for cell_id, _, _ in running}):
        await cells.insert(
            CellRecord(
                id=cell_id, workspace_id=workspace.id, name=cell_id[:8], description=None,
                template_id="bench", status=CellStatus.READY, worktree_path=home / cell_id,
                branch_name=f"hive/{cell_id[:8]}", base_ref=None, base_commit="0" * 40,
                last_setup_error=None, completed_steps=(), run_id="r", attempt=1,
                created_at="2026-01-01T00:00:00.000Z", updated_at="2026-01-01T00:00:00.000Z",
            )
        )  # fmt: skip
    for port, (cell_id, name, pid) in enumerate(running, start=20000):
        started = psutil.Process(pid).create_time()
        await service_store.transition(
            cell_id, name, ServiceStatus.STARTING, pid=pid, process_started=started, port=port
        )
        await service_store.transition(cell_id, name, ServiceStatus.READY)


async def cpu_over(window: float, sampler: ResourceSampler | None) -> float:
    """This process's CPU seconds over `window` of wall time, sampling or idle."""
    began = time.process_time()
    if sampler is not None:
        sampler.start()
    await asyncio.sleep(window)
    if sampler is not None:
        await sampler.close()
    return time.process_time() - began


async def windows(store: ResourceStore, interval: float, window: float, count: int) -> None:
    # One process table for every window, as one server keeps it: what it already
    # knows of each process is the steady state (its first scan is timed on its own).
    table = ProcessTable()
    began = time.process_time()
    await ResourceSampler(store, interval_s=interval, table=table).sample()
    first = time.process_time() - began
    idle, sampling, rounds = [], [], []
    for _ in range(count):
        idle.append(await cpu_over(window, None))
        sampler = ResourceSampler(store, interval_s=interval, table=table)
        sampling.append(await cpu_over(window, sampler))
        rounds.append(sampler.rounds)
    print(f"first round (every process on the machine looked at once): {first * 1000:.1f} ms CPU")
    a, b = statistics.median(idle), statistics.median(sampling)
    share = (b - a) / window * 100
    print(
        f"{count} interleaved windows of {window:g} s, sampling every {interval:g} s "
        f"({statistics.median(rounds):.0f} rounds a window):"
    )
    print(f"  A idle      median {a * 1000:8.1f} ms CPU")
    print(f"  B sampling  median {b * 1000:8.1f} ms CPU")
    print(f"  sampler's share: {share:.3f}% of one core (target < 1%)")


async def back_to_back(store: ResourceStore, interval: float, count: int) -> None:
    sampler = ResourceSampler(store, interval_s=interval)
    await sampler.sample()  # the first round looks at every process: not the steady state
    cpu, wall = [], []
    processes = 0
    for _ in range(count):
        began_cpu, began_wall = time.process_time(), time.perf_counter()
        sampled = await sampler.sample()
        cpu.append(time.process_time() - began_cpu)
        wall.append(time.perf_counter() - began_wall)
        processes = sum(cell.total.processes for cell in sampled.cells.values())
    per_round = statistics.median(cpu)
    print(
        f"one round, {count} back to back ({processes} processes of {CELLS} cells found "
        f"among {len(psutil.pids())} on this machine):"
    )
    print(
        f"  median {per_round * 1000:.2f} ms CPU, {statistics.median(wall) * 1000:.2f} ms wall "
        f"= {per_round / interval * 100:.3f}% of one core every {interval:g} s"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between rounds")
    parser.add_argument("--window", type=float, default=20.0, help="seconds per A or B window")
    parser.add_argument("--windows", type=int, default=3, help="A B pairs")
    parser.add_argument("--rounds", type=int, default=50, help="back-to-back rounds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hive-bench-") as tmp:
        home = Path(tmp)
        cell_ids = [uuid.uuid4().hex for _ in range(CELLS)]
        with services(cell_ids, home) as running:
            db = await open_database(home / "hive.db")
            try:
                await record(db, home, running)
                store = ResourceStore(db)
                await windows(store, args.interval, args.window, args.windows)
                await back_to_back(store, args.interval, args.rounds)
            finally:
                await db.close()


if __name__ == "__main__":
    asyncio.run(main())
