"""The sampler: rounds stored with their rollups and footprints, retention on its clock,
reads off the event loop, a failed round survived, a clean stop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Container, Sequence

from hive.core.status import CellStatus, ServiceStatus
from hive.resources.ownership import GroupClaim
from hive.resources.process_table import ProcessReading
from hive.resources.sampler import ResourceSampler
from hive.store.cells import CellStore
from hive.store.database import Database
from hive.store.resources import RAW_KEEP_S, ResourceStore, Sample
from hive.store.services import ServiceStore
from tests.store.conftest import MakeCell

T0 = 1_700_000_040.0


class FixedReader:
    """Reads what it is told to; records the claims and cells it was asked about."""

    def __init__(self, readings: list[ProcessReading]) -> None:
        self.readings = readings
        self.asked: list[tuple[Sequence[GroupClaim], Container[str]]] = []

    def read(self, claims: Sequence[GroupClaim], cells: Container[str]) -> list[ProcessReading]:
        self.asked.append((claims, cells))
        return list(self.readings)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def reading(pid: int, scope: str, cpu: float, rss: int, cell: str = "c1") -> ProcessReading:
    return ProcessReading(pid, cell, scope, f"cmd {pid}", cpu, rss)


async def wait_until(check: Callable[[], bool], timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.01)


async def test_a_round_stores_every_scope_and_the_footprint(
    db: Database, cells: CellStore, make_cell: MakeCell
) -> None:
    await cells.insert(make_cell("c1", status=CellStatus.READY))
    services = ServiceStore(db)
    await services.transition(
        "c1", "web", ServiceStatus.STARTING, pid=10, process_started=1.0, port=20001
    )
    await services.transition("c1", "db", ServiceStatus.STARTING, pid=20, process_started=2.0)
    store = ResourceStore(db)
    reader = FixedReader(
        [
            reading(10, "service:web", 10.0, 100),
            reading(11, "service:web", 5.0, 50),
            reading(30, "setup", 50.0, 1000),
            reading(40, "agent", 1.0, 10),
        ]
    )
    sampler = ResourceSampler(store, interval_s=5, table=reader, clock=Clock(T0))
    sampled = await sampler.sample()
    assert sampler.latest is sampled and sampled.at == T0
    [(claims, known)] = reader.asked
    assert {(c.owner.scope, c.pid) for c in claims} == {("service:web", 10), ("service:db", 20)}
    assert "c1" in known
    usage = sampled.cells["c1"]
    assert (usage.total.cpu_percent, usage.total.rss_bytes, usage.total.processes) == (
        66.0, 1160, 4,
    )  # fmt: skip
    rows = {s.scope: s for s in await store.samples("c1")}
    assert set(rows) == {"cell", "service:web", "setup", "agent"}
    assert (rows["service:web"].cpu_percent, rows["service:web"].processes) == (15.0, 2)
    assert [r.count for r in await store.rollups("c1", "cell")] == [1]
    # Services and the agent, not setup: what the cell costs while it runs.
    footprint = (await store.footprints())["c1"]
    assert (footprint.peak_rss_bytes, footprint.cpu_mean) == (160, 16.0)
    assert (footprint.services, footprint.ports) == (2, 1)


async def test_old_rows_go_on_the_samplers_clock_every_prune_interval(
    db: Database, cells: CellStore, make_cell: MakeCell
) -> None:
    await cells.insert(make_cell("c1"))
    store = ResourceStore(db)
    clock = Clock(T0)
    sampler = ResourceSampler(
        store, interval_s=5, table=FixedReader([reading(1, "setup", 1.0, 1)]), clock=clock,
        prune_every_s=300,
    )  # fmt: skip
    await sampler.sample()  # the first round prunes
    clock.now = T0 + RAW_KEEP_S + 1
    await sampler.sample()
    assert [s.at for s in await store.samples("c1", "cell")] == [clock.now]
    # A row past retention waits for the next prune, 300 s of the clock later.
    await store.record([Sample("c1", "cell", T0 + 5, 1.0, 1, 1)])
    clock.now += 299
    await sampler.sample()
    assert len(await store.samples("c1", "cell")) == 3
    clock.now += 1
    await sampler.sample()
    assert T0 + 5 not in [s.at for s in await store.samples("c1", "cell")]


async def test_reading_the_process_table_never_blocks_the_event_loop(
    db: Database,
) -> None:
    began, release = threading.Event(), threading.Event()
    released: list[bool] = []

    class BlockingReader(FixedReader):
        def read(self, claims: Sequence[GroupClaim], cells: Container[str]) -> list[ProcessReading]:
            began.set()
            # Set from the event loop: it can only be if the loop is free meanwhile.
            released.append(release.wait(timeout=10))
            return []

    sampler = ResourceSampler(ResourceStore(db), interval_s=5, table=BlockingReader([]))
    round_ = asyncio.create_task(sampler.sample())
    await wait_until(began.is_set)
    release.set()
    await round_
    assert released == [True]


async def test_sampling_goes_on_after_a_failed_round_and_stops_cleanly(
    db: Database, cells: CellStore, make_cell: MakeCell
) -> None:
    await cells.insert(make_cell("c1"))
    calls: list[int] = []

    class FlakyReader(FixedReader):
        def read(self, claims: Sequence[GroupClaim], cells: Container[str]) -> list[ProcessReading]:
            calls.append(1)
            if len(calls) == 1:
                raise OSError("a /proc read failed")
            return super().read(claims, cells)

    sampler = ResourceSampler(
        ResourceStore(db), interval_s=0.01, table=FlakyReader([reading(1, "agent", 1.0, 1)])
    )
    sampler.start()
    await wait_until(lambda: sampler.rounds >= 3)
    await sampler.close()
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "hive-resource-sampler"]
    rounds = sampler.rounds
    await sampler.close()  # twice is fine
    assert sampler.rounds == rounds
