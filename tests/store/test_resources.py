"""Resource samples, their rollups, retention and footprints, over synthetic samples
with timestamps chosen by the test."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from hive.store.database import Database
from hive.store.resources import (
    RAW_KEEP_S,
    ROLLUP_KEEP_S,
    FootprintSample,
    ResourceStore,
    Sample,
)

#: A minute boundary, so that offsets below 60 s stay in one minute.
T0 = 1_700_000_040.0
MINUTE = int(T0 // 60)


@pytest.fixture
def store(db: Database) -> ResourceStore:
    return ResourceStore(db)


def sample(at: float, cpu: float, rss: int, scope: str = "cell", cell: str = "c1") -> Sample:
    return Sample(cell, scope, at, cpu, rss, 1)


async def test_a_minute_rollup_counts_means_and_peaks_its_samples(store: ResourceStore) -> None:
    # In separate batches, as the sampler writes them, and one batch with two.
    await store.record([sample(T0, 10.0, 100)])
    await store.record([sample(T0 + 5, 30.0, 300)])
    await store.record([sample(T0 + 10, 20.0, 200), sample(T0 + 15, 0.0, 400)])
    await store.record([sample(T0 + 60, 50.0, 50)])
    first, second = await store.rollups("c1", "cell")
    assert (first.minute, first.count) == (MINUTE, 4)
    assert first.cpu_mean == pytest.approx(15.0)
    assert first.rss_mean == pytest.approx(250.0)
    assert (first.cpu_peak, first.rss_peak) == (30.0, 400)
    assert (second.minute, second.count, second.cpu_mean, second.rss_peak) == (
        MINUTE + 1, 1, 50.0, 50,
    )  # fmt: skip
    assert len(await store.samples("c1")) == 5


async def test_rollups_are_kept_per_cell_and_scope(store: ResourceStore) -> None:
    await store.record(
        [
            sample(T0, 10.0, 100),
            sample(T0, 4.0, 40, scope="service:web"),
            sample(T0, 6.0, 60, scope="service:db"),
            sample(T0, 1.0, 10, cell="c2"),
        ]
    )
    assert [r.cpu_mean for r in await store.rollups("c1", "service:web")] == [4.0]
    assert [r.cpu_mean for r in await store.rollups("c2", "cell")] == [1.0]
    peaks = await store.peaks("c1")
    assert set(peaks) == {"cell", "service:web", "service:db"}
    assert (peaks["service:db"].cpu_percent, peaks["service:db"].rss_bytes) == (6.0, 60)


async def test_window_means_cover_only_their_window(store: ResourceStore) -> None:
    now = T0 + 3600
    await store.record(
        [
            sample(now - 30, 10.0, 1000),  # inside every window
            sample(now - 200, 20.0, 2000),  # 5m and longer
            sample(now - 600, 30.0, 3000),  # 15m and 1h
            sample(now - 3000, 40.0, 4000),  # 1h only
            sample(now - 4000, 99.0, 9999),  # in no window
        ]
    )
    windows = {"1m": 60.0, "5m": 300.0, "15m": 900.0, "1h": 3600.0}
    means = (await store.window_means("c1", now, windows))["cell"]
    assert means["1m"].cpu_percent == pytest.approx(10.0) and means["1m"].samples == 1
    assert means["5m"].cpu_percent == pytest.approx(15.0) and means["5m"].samples == 2
    assert means["15m"].rss_bytes == pytest.approx(2000.0)
    assert means["1h"].cpu_percent == pytest.approx(25.0) and means["1h"].samples == 4
    # A window with no sample is left out.
    await store.record([sample(now - 200, 5.0, 5, cell="c2")])
    assert set((await store.window_means("c2", now, windows))["cell"]) == {"5m", "15m", "1h"}


async def test_retention_drops_raw_samples_after_a_day_and_rollups_after_30_days(
    store: ResourceStore, db_path: Path
) -> None:
    now = T0 + ROLLUP_KEEP_S + 3600
    old_day = now - RAW_KEEP_S - 1
    await store.record(
        [
            sample(now - ROLLUP_KEEP_S - 120, 1.0, 1),  # past both
            sample(old_day, 2.0, 2),  # raw row too old, rollup kept
            sample(now - RAW_KEEP_S + 60, 3.0, 3),  # both kept
        ]
    )
    pruned = await store.prune(now)
    assert (pruned.samples, pruned.rollups) == (2, 1)
    assert [s.cpu_percent for s in await store.samples("c1")] == [3.0]
    assert [r.cpu_mean for r in await store.rollups("c1", "cell")] == [2.0, 3.0]
    assert (await store.prune(now)) == type(pruned)(0, 0)


async def test_retention_works_through_a_backlog_in_batches(
    store: ResourceStore, db_path: Path
) -> None:
    # More rows than one delete statement takes (5000), spread over many minutes.
    await store.record([sample(T0 + i * 0.5, 1.0, 1) for i in range(12_000)])
    pruned = await store.prune(T0 + RAW_KEEP_S + ROLLUP_KEEP_S + 10_000)
    assert pruned.samples == 12_000 and pruned.rollups == 100
    with closing(sqlite3.connect(db_path)) as conn:
        assert conn.execute("SELECT count(*) FROM resource_samples").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM resource_rollups").fetchone() == (0,)


def footprint(rss: int | None, cpu: float | None, **counts: int) -> FootprintSample:
    return FootprintSample(
        "c1", "w1", "basic", rss, cpu, counts.get("services", 2), counts.get("ports", 1)
    )


async def test_a_footprint_keeps_its_peak_and_cpu_sum_and_leaves_disk_alone(
    store: ResourceStore, db_path: Path
) -> None:
    await store.record([], [footprint(500, 10.0)])
    with closing(sqlite3.connect(db_path)) as conn:  # the disk measurement's column
        conn.execute("UPDATE cell_footprints SET disk_added_bytes = 7777")
        conn.commit()
    await store.record([], [footprint(300, 30.0, services=3, ports=2)])
    await store.record([], [footprint(None, None)])  # only setup ran: counts only
    [kept] = (await store.footprints(["c1"])).values()
    assert kept.peak_rss_bytes == 500
    assert (kept.cpu_sum, kept.cpu_samples, kept.cpu_mean) == (40.0, 2, 20.0)
    assert kept.disk_added_bytes == 7777
    assert (kept.services, kept.ports) == (2, 1)
    assert (kept.workspace_id, kept.template_id) == ("w1", "basic")
    await store.record([], [footprint(900, 0.0)])
    assert (await store.footprints())["c1"].peak_rss_bytes == 900


async def test_a_first_footprint_without_running_processes_has_no_peak(
    store: ResourceStore,
) -> None:
    await store.record([], [footprint(None, None)])
    kept = (await store.footprints())["c1"]
    assert kept.peak_rss_bytes is None and kept.cpu_mean is None
    await store.record([], [footprint(42, 1.0)])
    assert (await store.footprints())["c1"].peak_rss_bytes == 42


async def test_disk_rows_are_read_as_the_disk_measurement_wrote_them(
    store: ResourceStore, db_path: Path
) -> None:
    assert await store.disks() == {}
    with closing(sqlite3.connect(db_path)) as conn:
        conn.execute(
            "INSERT INTO cell_disk VALUES ('c1', 100, 200, 50, 10, 3, 1, 12.5, "
            "'2026-01-01T00:00:00.000Z')"
        )
        conn.commit()
    disk = (await store.disks(["c1", "c2"]))["c1"]
    assert (disk.apparent_bytes, disk.allocated_bytes, disk.cloned_bytes) == (100, 200, 50)
    assert (disk.logs_bytes, disk.files, disk.complete) == (10, 3, True)
