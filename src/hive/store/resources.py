"""Queries over what cells cost: CPU and memory samples, their one-minute rollups, the
per-cell footprints estimates are made from, and (read only) each cell's disk.

Raw samples are kept 24 h, rollups 30 days (`prune`). A rollup is brought up to date
in the same transaction as the samples it counts, so a reader never sees one without
the other. A footprint's memory peak and CPU sum count a cell's services and agent,
not its setup commands: they say what the cell costs while it runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Executable, case, delete, func, literal_column, select
from sqlalchemy.dialects.sqlite import insert

from hive.store.cell_disk import CellDisk, disk_of_row
from hive.store.clock import now_iso
from hive.store.database import Database
from hive.store.tables import cell_disk, cell_footprints, cell_processes, cell_services, cells
from hive.store.tables import resource_rollups as r
from hive.store.tables import resource_samples as s

RAW_KEEP_S = 24 * 3600.0
ROLLUP_KEEP_S = 30 * 24 * 3600.0
_SERVICE_COLUMNS = (
    cell_services.c.cell_id, cell_services.c.name, cell_services.c.status, cell_services.c.port,
    cell_services.c.pid, cell_services.c.process_started,
)  # fmt: skip
#: Rows one prune statement deletes: bounded, so other writes queue behind no long
#: transaction (a first prune after a long pause may have a day of rows to drop).
_BATCH = 5000


@dataclass(frozen=True)
class Sample:
    cell_id: str
    scope: str
    """`cell` (all its processes), `service:<name>`, `agent` or `setup`."""
    at: float
    """Unix time."""
    cpu_percent: float
    """Percent of one core (above 100 for several busy cores)."""
    rss_bytes: int
    processes: int


@dataclass(frozen=True)
class FootprintSample:
    """One sample's share of a cell's footprint: its services and agent together."""

    cell_id: str
    workspace_id: str
    template_id: str
    rss_bytes: int | None
    """None when neither its services nor its agent had a process."""
    cpu_percent: float | None
    services: int
    ports: int


@dataclass(frozen=True)
class Rollup:
    cell_id: str
    scope: str
    minute: int
    """Unix time // 60."""
    count: int
    cpu_mean: float
    cpu_peak: float
    rss_mean: float
    rss_peak: int


@dataclass(frozen=True)
class WindowMean:
    cpu_percent: float
    rss_bytes: float
    samples: int


@dataclass(frozen=True)
class Peak:
    cpu_percent: float
    rss_bytes: int


@dataclass(frozen=True)
class Footprint:
    cell_id: str
    workspace_id: str
    template_id: str
    peak_rss_bytes: int | None
    cpu_sum: float
    cpu_samples: int
    disk_added_bytes: int | None
    services: int
    ports: int

    @property
    def cpu_mean(self) -> float | None:
        return self.cpu_sum / self.cpu_samples if self.cpu_samples else None


@dataclass(frozen=True)
class SampledCell:
    id: str
    workspace_id: str
    template_id: str


@dataclass(frozen=True)
class ServiceRow:
    """A service as the supervisor recorded it; pid + start time while it runs."""

    cell_id: str
    name: str
    status: str
    port: int | None
    pid: int | None = None
    process_started: float | None = None


@dataclass(frozen=True)
class SetupRow:
    """A setup command's process group, on record while it runs."""

    cell_id: str
    pid: int
    process_started: float


@dataclass(frozen=True)
class Targets:
    """What the records say a sample must cover: every cell, its services, its setup."""

    cells: tuple[SampledCell, ...]
    services: tuple[ServiceRow, ...]
    setups: tuple[SetupRow, ...]


@dataclass(frozen=True)
class Pruned:
    samples: int
    rollups: int


def _merged_rollups(samples: Iterable[Sample]) -> list[dict[str, Any]]:
    """One rollup row per (cell, scope, minute) of the batch, merged before the upsert."""
    merged: dict[tuple[str, str, int], dict[str, Any]] = {}
    for sample in samples:
        key = (sample.cell_id, sample.scope, int(sample.at // 60))
        row = merged.get(key)
        if row is None:
            merged[key] = {
                "cell_id": sample.cell_id,
                "scope": sample.scope,
                "minute": key[2],
                "count": 1,
                "cpu_mean": sample.cpu_percent,
                "cpu_peak": sample.cpu_percent,
                "rss_mean": float(sample.rss_bytes),
                "rss_peak": sample.rss_bytes,
            }
            continue
        count = row["count"] + 1
        row["cpu_mean"] += (sample.cpu_percent - row["cpu_mean"]) / count
        row["rss_mean"] += (sample.rss_bytes - row["rss_mean"]) / count
        row["cpu_peak"] = max(row["cpu_peak"], sample.cpu_percent)
        row["rss_peak"] = max(row["rss_peak"], sample.rss_bytes)
        row["count"] = count
    return list(merged.values())


def _rollup_upsert() -> Executable:
    statement = insert(r)
    new = statement.excluded
    total = r.c.count + new.count
    return statement.on_conflict_do_update(
        index_elements=[r.c.cell_id, r.c.scope, r.c.minute],
        # SQLite's SET sees the row as it was: every right-hand side uses the old count.
        set_={
            "count": total,
            "cpu_mean": (r.c.cpu_mean * r.c.count + new.cpu_mean * new.count) / total,
            "rss_mean": (r.c.rss_mean * r.c.count + new.rss_mean * new.count) / total,
            "cpu_peak": func.max(r.c.cpu_peak, new.cpu_peak),
            "rss_peak": func.max(r.c.rss_peak, new.rss_peak),
        },
    )


def _footprint_upsert() -> Executable:
    f = cell_footprints
    statement = insert(f)
    new = statement.excluded
    # Only the columns sampling owns (and updated_at): the disk measurement writes
    # disk_added_bytes into the same rows. SQLite's two-argument max() is NULL when
    # either is, hence the coalesce.
    return statement.on_conflict_do_update(
        index_elements=[f.c.cell_id],
        set_={
            "peak_rss_bytes": func.coalesce(
                func.max(f.c.peak_rss_bytes, new.peak_rss_bytes),
                f.c.peak_rss_bytes,
                new.peak_rss_bytes,
            ),
            "cpu_sum": f.c.cpu_sum + new.cpu_sum,
            "cpu_samples": f.c.cpu_samples + new.cpu_samples,
            "services": new.services,
            "ports": new.ports,
            "updated_at": new.updated_at,
        },
    )


#: Built once: run with many rows at a time (executemany), compiled once.
_INSERT_SAMPLES = insert(s)
_UPSERT_ROLLUPS = _rollup_upsert()
_UPSERT_FOOTPRINTS = _footprint_upsert()


def _footprint_row(update: FootprintSample, stamp: str) -> dict[str, Any]:
    return {
        "cell_id": update.cell_id,
        "workspace_id": update.workspace_id,
        "template_id": update.template_id,
        "peak_rss_bytes": update.rss_bytes,
        "cpu_sum": update.cpu_percent or 0.0,
        "cpu_samples": int(update.cpu_percent is not None),
        "services": update.services,
        "ports": update.ports,
        "created_at": stamp,
        "updated_at": stamp,
    }


def _footprint(row: Any) -> Footprint:
    return Footprint(
        cell_id=row.cell_id,
        workspace_id=row.workspace_id,
        template_id=row.template_id,
        peak_rss_bytes=row.peak_rss_bytes,
        cpu_sum=row.cpu_sum,
        cpu_samples=row.cpu_samples,
        disk_added_bytes=row.disk_added_bytes,
        services=row.services,
        ports=row.ports,
    )


def _rollup(row: Any) -> Rollup:
    return Rollup(
        cell_id=row.cell_id,
        scope=row.scope,
        minute=row.minute,
        count=row._mapping["count"],  # not Row.count, the tuple method
        cpu_mean=row.cpu_mean,
        cpu_peak=row.cpu_peak,
        rss_mean=row.rss_mean,
        rss_peak=row.rss_peak,
    )


class ResourceStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self, samples: Sequence[Sample], footprints: Sequence[FootprintSample] = ()
    ) -> None:
        """The samples, their rollups and the footprints, in one transaction."""
        sample_rows = [
            {
                "cell_id": x.cell_id,
                "scope": x.scope,
                "at": x.at,
                "cpu_percent": x.cpu_percent,
                "rss_bytes": x.rss_bytes,
                "processes": x.processes,
            }
            for x in samples
        ]
        stamp = now_iso()
        if samples or footprints:
            await self._db.write_many(
                (_INSERT_SAMPLES, sample_rows),
                (_UPSERT_ROLLUPS, _merged_rollups(samples)),
                (_UPSERT_FOOTPRINTS, [_footprint_row(update, stamp) for update in footprints]),
            )

    async def prune(self, now: float) -> Pruned:
        """Drop samples older than 24 h and rollups older than 30 days, a batch per
        transaction so other writes go between them."""
        samples = await self._drop(s, s.c.at < now - RAW_KEEP_S)
        rollups = await self._drop(r, r.c.minute < int((now - ROLLUP_KEEP_S) // 60))
        return Pruned(samples, rollups)

    async def _drop(self, table: Any, old: Any) -> int:
        rowid: Any = literal_column("rowid")
        total = 0
        while True:
            batch = select(rowid).select_from(table).where(old).limit(_BATCH).scalar_subquery()
            [written] = await self._db.write(delete(table).where(rowid.in_(batch)))
            total += written.rowcount
            if written.rowcount < _BATCH:
                return total

    async def window_means(
        self, cell_id: str, now: float, windows: Mapping[str, float]
    ) -> dict[str, dict[str, WindowMean]]:
        """Per scope of the cell, the mean of its samples over each window (seconds back
        from `now`), by the window's name; a window without samples is left out."""
        if not windows:
            return {}
        columns: list[Any] = [s.c.scope]
        for name, seconds in windows.items():
            inside = s.c.at >= now - seconds
            columns += [
                func.avg(case((inside, s.c.cpu_percent))).label(f"cpu_{name}"),
                func.avg(case((inside, s.c.rss_bytes))).label(f"rss_{name}"),
                func.count(case((inside, 1))).label(f"n_{name}"),
            ]
        oldest = now - max(windows.values())
        rows = await self._db.all(
            select(*columns).where(s.c.cell_id == cell_id, s.c.at >= oldest).group_by(s.c.scope)
        )
        means: dict[str, dict[str, WindowMean]] = {}
        for row in rows:
            values = row._mapping
            means[row.scope] = {
                name: WindowMean(values[f"cpu_{name}"], values[f"rss_{name}"], values[f"n_{name}"])
                for name in windows
                if values[f"n_{name}"]
            }
        return means

    async def peaks(self, cell_id: str) -> dict[str, Peak]:
        """Per scope of the cell, its highest sample over the rollups kept (30 days)."""
        rows = await self._db.all(
            select(
                r.c.scope,
                func.max(r.c.cpu_peak).label("cpu"),
                func.max(r.c.rss_peak).label("rss"),
            )
            .where(r.c.cell_id == cell_id)
            .group_by(r.c.scope)
        )
        return {row.scope: Peak(row.cpu, row.rss) for row in rows}

    async def rollups(self, cell_id: str, scope: str) -> list[Rollup]:
        rows = await self._db.all(
            select(r).where(r.c.cell_id == cell_id, r.c.scope == scope).order_by(r.c.minute)
        )
        return [_rollup(row) for row in rows]

    async def recent_rollups(
        self, cell_ids: Iterable[str], scope: str, since_minute: int
    ) -> dict[str, list[Rollup]]:
        """Per cell, the scope's rollups from `since_minute` on, oldest first: a range
        of the primary key (cell, scope, minute) each, however long the history kept."""
        rows = await self._db.all(
            select(r)
            .where(r.c.cell_id.in_(list(cell_ids)), r.c.scope == scope, r.c.minute >= since_minute)
            .order_by(r.c.cell_id, r.c.minute)
        )
        recent: dict[str, list[Rollup]] = {}
        for row in rows:
            recent.setdefault(row.cell_id, []).append(_rollup(row))
        return recent

    async def samples(self, cell_id: str, scope: str | None = None) -> list[Sample]:
        query = select(s).where(s.c.cell_id == cell_id).order_by(s.c.at, s.c.id)
        if scope is not None:
            query = query.where(s.c.scope == scope)
        return [
            Sample(row.cell_id, row.scope, row.at, row.cpu_percent, row.rss_bytes, row.processes)
            for row in await self._db.all(query)
        ]

    async def footprints(self, cell_ids: Iterable[str] | None = None) -> dict[str, Footprint]:
        query = select(cell_footprints)
        if cell_ids is not None:
            query = query.where(cell_footprints.c.cell_id.in_(list(cell_ids)))
        return {row.cell_id: _footprint(row) for row in await self._db.all(query)}

    async def disks(self, cell_ids: Iterable[str] | None = None) -> dict[str, CellDisk]:
        query = select(cell_disk)
        if cell_ids is not None:
            query = query.where(cell_disk.c.cell_id.in_(list(cell_ids)))
        return {row.cell_id: disk_of_row(row) for row in await self._db.all(query)}

    async def services(self, cell_id: str | None = None) -> list[ServiceRow]:
        query = select(*_SERVICE_COLUMNS).order_by(cell_services.c.cell_id, cell_services.c.name)
        if cell_id is not None:
            query = query.where(cell_services.c.cell_id == cell_id)
        return [
            ServiceRow(row.cell_id, row.name, row.status, row.port, row.pid, row.process_started)
            for row in await self._db.all(query)
        ]

    async def targets(self) -> Targets:
        """Every cell (hidden ones too: a deleting cell's processes still run), its
        services and its setup process groups."""
        cell_rows = await self._db.all(
            select(cells.c.id, cells.c.workspace_id, cells.c.template_id)
        )
        setup_rows = await self._db.all(
            select(cell_processes.c.cell_id, cell_processes.c.pid, cell_processes.c.process_started)
        )
        return Targets(
            cells=tuple(
                SampledCell(row.id, row.workspace_id, row.template_id) for row in cell_rows
            ),
            services=tuple(await self.services()),
            setups=tuple(SetupRow(row.cell_id, row.pid, row.process_started) for row in setup_rows),
        )
