"""Bodies of the resource endpoints: a cell's CPU, memory and disk, and every cell's.

CPU is a percentage of one core (several busy cores make it more than 100); memory is
RSS in bytes, summed over processes; times are ISO 8601 UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pydantic import Field

from hive.api.agent_schemas import AgentOut
from hive.api.bodies import _Body
from hive.api.disk_schemas import DiskOut
from hive.core.disk_space import DiskSpace, SpaceLevel, low_space_warning, space_level
from hive.resources.process_table import ProcessReading
from hive.resources.reports import (
    AgentFigures,
    CellResourceRow,
    CellResources,
    ResourceSort,
    ScopeFigures,
    ServiceFigures,
    ServiceNow,
)
from hive.resources.usage import Usage
from hive.store.records import CellRecord
from hive.store.resources import Rollup


def _iso(at: float | None) -> str | None:
    if at is None:
        return None
    stamp = datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


class UsageOut(_Body):
    cpu: float = Field(description="percent of one core")
    rss: int = Field(description="resident memory, bytes")
    processes: int

    @classmethod
    def of(cls, usage: Usage | None) -> UsageOut | None:
        if usage is None:
            return None
        return cls(cpu=usage.cpu_percent, rss=usage.rss_bytes, processes=usage.processes)


class MeanOut(_Body):
    cpu: float
    rss: int
    samples: int


class PeakOut(_Body):
    cpu: float
    rss: int


class FiguresOut(_Body):
    now: UsageOut | None = Field(description="the latest sample; null before the first")
    averages: dict[str, MeanOut] = Field(
        description="means over the last `1m`, `5m`, `15m` and `1h` of samples (a window "
        "with none is left out)"
    )
    peak: PeakOut | None = Field(description="the highest sample kept (30 days)")

    @classmethod
    def of(cls, figures: ScopeFigures) -> FiguresOut:
        return cls(**_figures(figures))


def _figures(figures: ScopeFigures) -> dict[str, object]:
    return {
        "now": UsageOut.of(figures.now),
        "averages": {
            name: MeanOut(cpu=round(m.cpu_percent, 1), rss=round(m.rss_bytes), samples=m.samples)
            for name, m in figures.averages.items()
        },
        "peak": (
            PeakOut(cpu=figures.peak.cpu_percent, rss=figures.peak.rss_bytes)
            if figures.peak
            else None
        ),
    }


class ProcessOut(_Body):
    pid: int
    command: str
    scope: str = Field(description="`service:<name>`, `agent` or `setup`")
    cpu: float
    rss: int

    @classmethod
    def of(cls, reading: ProcessReading) -> ProcessOut:
        return cls(
            pid=reading.pid,
            command=reading.command,
            scope=reading.scope,
            cpu=reading.cpu_percent,
            rss=reading.rss_bytes,
        )


class ServiceFiguresOut(FiguresOut):
    name: str
    status: str | None

    @classmethod
    def of_service(cls, service: ServiceFigures) -> ServiceFiguresOut:
        return cls(name=service.name, status=service.status, **_figures(service.figures))


class AgentFiguresOut(_Body):
    type: str | None = Field(description="`opencode`, `command`, `none`; null before it starts")
    status: str | None
    measured: bool = Field(description="false when the agent has no process of its own")
    note: str | None = None
    figures: FiguresOut | None = None

    @classmethod
    def of(cls, agent: AgentFigures) -> AgentFiguresOut:
        return cls(
            type=agent.type,
            status=agent.status,
            measured=agent.measured,
            note=agent.note,
            figures=FiguresOut.of(agent.figures) if agent.figures else None,
        )


class CellResourcesOut(FiguresOut):
    """All of the cell's processes (`now`, `averages`, `peak`), then by part."""

    cell_id: str
    sampled_at: str | None
    interval_s: float
    processes: list[ProcessOut]
    services: list[ServiceFiguresOut]
    agent: AgentFiguresOut
    setup: FiguresOut | None
    disk: DiskOut | None = Field(description="as last measured; null before the first")

    @classmethod
    def of_cell(cls, report: CellResources) -> CellResourcesOut:
        return cls(
            cell_id=report.cell_id,
            sampled_at=_iso(report.sampled_at),
            interval_s=report.interval_s,
            processes=[ProcessOut.of(p) for p in report.processes],
            services=[ServiceFiguresOut.of_service(s) for s in report.services],
            agent=AgentFiguresOut.of(report.agent),
            setup=FiguresOut.of(report.setup) if report.setup else None,
            disk=DiskOut.of(report.disk) if report.disk else None,
            **_figures(report.figures),
        )


class ServiceNowOut(_Body):
    name: str
    status: str | None
    now: UsageOut | None

    @classmethod
    def of(cls, service: ServiceNow) -> ServiceNowOut:
        return cls(name=service.name, status=service.status, now=UsageOut.of(service.now))


class CellResourceRowOut(_Body):
    cell_id: str
    name: str
    workspace_id: str
    template_id: str
    status: str
    agent: AgentOut | None
    now: UsageOut | None
    peak_rss: int | None = Field(description="its services and agent together, since it began")
    cpu_mean: float | None = Field(description="its services and agent together, while running")
    disk: DiskOut | None
    services: list[ServiceNowOut]

    @classmethod
    def of(cls, row: CellResourceRow) -> CellResourceRowOut:
        footprint = row.footprint
        mean = footprint.cpu_mean if footprint else None
        return cls(
            cell_id=row.cell.id,
            name=row.cell.name,
            workspace_id=row.cell.workspace_id,
            template_id=row.cell.template_id,
            status=str(row.cell.status),
            agent=AgentOut.of(row.cell.agent),
            now=UsageOut.of(row.now),
            peak_rss=footprint.peak_rss_bytes if footprint else None,
            cpu_mean=round(mean, 1) if mean is not None else None,
            disk=DiskOut.of(row.disk) if row.disk else None,
            services=[ServiceNowOut.of(s) for s in row.services],
        )


class ResourceListOut(_Body):
    sort: ResourceSort
    sampled_at: str | None
    interval_s: float
    cells: list[CellResourceRowOut]

    @classmethod
    def of(
        cls,
        rows: list[CellResourceRow],
        *,
        sort: ResourceSort,
        sampled_at: float | None,
        interval_s: float,
    ) -> ResourceListOut:
        return cls(
            sort=sort,
            sampled_at=_iso(sampled_at),
            interval_s=interval_s,
            cells=[CellResourceRowOut.of(row) for row in rows],
        )


class MinuteOut(_Body):
    at: str = Field(description="the minute's start")
    cpu: float = Field(description="mean over the minute's samples")
    cpu_peak: float
    rss: int = Field(description="mean over the minute's samples")
    rss_peak: int

    @classmethod
    def of(cls, rollup: Rollup) -> MinuteOut:
        return cls(
            at=_iso(rollup.minute * 60.0) or "",
            cpu=round(rollup.cpu_mean, 1),
            cpu_peak=rollup.cpu_peak,
            rss=round(rollup.rss_mean),
            rss_peak=rollup.rss_peak,
        )


class CellHistoryOut(_Body):
    cell_id: str
    name: str
    minutes: list[MinuteOut] = Field(
        description="oldest first; a minute when the cell had no process is left out"
    )


class ResourceHistoryOut(_Body):
    """Every cell's CPU and memory (all its processes) minute by minute."""

    window_s: float
    cells: list[CellHistoryOut]

    @classmethod
    def of(cls, rows: list[tuple[CellRecord, list[Rollup]]], window_s: float) -> ResourceHistoryOut:
        return cls(
            window_s=window_s,
            cells=[
                CellHistoryOut(
                    cell_id=cell.id, name=cell.name, minutes=[MinuteOut.of(r) for r in rollups]
                )
                for cell, rollups in rows
            ],
        )


class FreeSpaceOut(_Body):
    """Room left on the file system where cells live (the cells root)."""

    path: str = Field(description="the cells root")
    free_bytes: int = Field(description="free for an unprivileged user (`df`'s available)")
    total_bytes: int
    level: SpaceLevel = Field(
        description="`ok`; `low` (a create warns); `refused` (a create is refused)"
    )
    warning: str | None = Field(description="what a create would warn or refuse with")

    @classmethod
    def of(cls, space: DiskSpace, root: Path) -> FreeSpaceOut:
        level = space_level(space)
        return cls(
            path=str(root),
            free_bytes=space.free_bytes,
            total_bytes=space.total_bytes,
            level=level,
            warning=None if level is SpaceLevel.OK else low_space_warning(space, root),
        )
