"""What the API shows of cells' resources: one cell in detail, or every cell in a row.

"Now" is the sampler's latest round (memory only: the next round after a restart
brings it back); averages come from the raw samples, peaks from the rollups,
footprints and disk from their tables. Samples exist only while a scope had a
process, so an average or a peak covers the time it ran.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from hive.resources.process_table import ProcessReading
from hive.resources.sampler import ResourceSampler
from hive.resources.scopes import AGENT, CELL, SETUP, service_of, service_scope
from hive.resources.usage import CellUsage, Usage
from hive.store.cell_disk import CellDisk
from hive.store.cells import CellStore
from hive.store.records import CellRecord
from hive.store.resources import (
    Footprint,
    Peak,
    ResourceStore,
    Rollup,
    ServiceRow,
    WindowMean,
)
from hive.store.workspaces import WorkspaceStore

#: The averages a cell's resources carry, by name: seconds back from now.
WINDOWS: Mapping[str, float] = {"1m": 60.0, "5m": 300.0, "15m": 900.0, "1h": 3600.0}

#: Why an OpenCode agent has no figures of its own.
OPENCODE_NOTE = (
    "runs inside the OpenCode server all cells share: no process of its own to measure "
    "(the server's CPU and memory are not this cell's)"
)


class ResourceSort(StrEnum):
    CPU = "cpu"
    MEMORY = "memory"
    DISK = "disk"
    NAME = "name"


@dataclass(frozen=True)
class ScopeFigures:
    now: Usage | None
    averages: Mapping[str, WindowMean]
    peak: Peak | None


@dataclass(frozen=True)
class ServiceFigures:
    name: str
    status: str | None
    """As the supervisor recorded it; None for a process whose service has no record."""
    figures: ScopeFigures


@dataclass(frozen=True)
class AgentFigures:
    type: str | None
    status: str | None
    measured: bool
    """False when the agent has no process of its own (OpenCode, or none)."""
    note: str | None
    figures: ScopeFigures | None


@dataclass(frozen=True)
class CellResources:
    cell_id: str
    sampled_at: float | None
    interval_s: float
    figures: ScopeFigures
    processes: tuple[ProcessReading, ...]
    services: tuple[ServiceFigures, ...]
    agent: AgentFigures
    setup: ScopeFigures | None
    disk: CellDisk | None


@dataclass(frozen=True)
class ServiceNow:
    name: str
    status: str | None
    now: Usage | None


@dataclass(frozen=True)
class CellResourceRow:
    cell: CellRecord
    now: Usage | None
    services: tuple[ServiceNow, ...]
    footprint: Footprint | None
    disk: CellDisk | None


def _agent(
    agent: dict[str, Any] | None, scope: Mapping[str, Any], figures: ScopeFigures | None
) -> AgentFigures:
    kind = (agent or {}).get("type")
    status = (agent or {}).get("status")
    if kind == "opencode":
        return AgentFigures(kind, status, False, OPENCODE_NOTE, None)
    if kind == "command":
        return AgentFigures(kind, status, True, None, figures)
    # No agent, or one of a kind this server does not know: whatever carries its tag.
    measured = AGENT in scope
    return AgentFigures(kind, status, measured, None, figures if measured else None)


def _service_names(rows: list[ServiceRow], usage: CellUsage | None) -> dict[str, str | None]:
    names: dict[str, str | None] = {row.name: row.status for row in rows}
    for scope in usage.scopes if usage else ():
        name = service_of(scope)
        if name is not None:
            names.setdefault(name, None)
    return dict(sorted(names.items()))


def sort_rows(rows: list[CellResourceRow], sort: ResourceSort) -> list[CellResourceRow]:
    """Biggest first for a figure (cells without one last), by name otherwise; ties by
    name, then id."""

    def name(row: CellResourceRow) -> tuple[str, str]:
        return row.cell.name.casefold(), row.cell.id

    ordered = sorted(rows, key=name)
    if sort is ResourceSort.CPU:
        ordered.sort(key=lambda row: -(row.now.cpu_percent if row.now else -1.0))
    elif sort is ResourceSort.MEMORY:
        ordered.sort(key=lambda row: -(row.now.rss_bytes if row.now else -1))
    elif sort is ResourceSort.DISK:
        ordered.sort(key=lambda row: -(row.disk.allocated_bytes if row.disk else -1))
    return ordered


class ResourceReports:
    def __init__(
        self,
        *,
        cells: CellStore,
        workspaces: WorkspaceStore,
        store: ResourceStore,
        sampler: ResourceSampler,
    ) -> None:
        self._cells = cells
        self._workspaces = workspaces
        self._store = store
        self._sampler = sampler

    def _usage(self, cell_id: str) -> CellUsage | None:
        """The cell in the latest round (no process: all zero); None before the first."""
        latest = self._sampler.latest
        if latest is None:
            return None
        return latest.cells.get(cell_id) or CellUsage(cell_id, Usage(), {}, ())

    async def cell(self, cell_id: str) -> CellResources:
        """NotFoundError for a cell that does not exist (or is being deleted)."""
        cell = await self._cells.get(cell_id)
        latest = self._sampler.latest
        usage = self._usage(cell_id)
        at = latest.at if latest else None
        means = await self._store.window_means(cell_id, at or 0.0, WINDOWS) if at else {}
        peaks = await self._store.peaks(cell_id)
        scopes: Mapping[str, Usage] = usage.scopes if usage else {}

        def figures(scope: str) -> ScopeFigures:
            if usage is None:
                now = None
            else:
                now = usage.total if scope == CELL else scopes.get(scope, Usage())
            return ScopeFigures(now, means.get(scope, {}), peaks.get(scope))

        def known(scope: str) -> bool:
            return scope in scopes or scope in means or scope in peaks

        services = _service_names(await self._store.services(cell_id), usage)
        disks = await self._store.disks([cell_id])
        return CellResources(
            cell_id=cell_id,
            sampled_at=at,
            interval_s=self._sampler.interval_s,
            figures=figures(CELL),
            processes=usage.processes if usage else (),
            services=tuple(
                ServiceFigures(name, status, figures(service_scope(name)))
                for name, status in services.items()
            ),
            agent=_agent(cell.agent, scopes, figures(AGENT) if known(AGENT) else None),
            setup=figures(SETUP) if known(SETUP) else None,
            disk=disks.get(cell_id),
        )

    async def rows(
        self, workspace_id: str | None = None, sort: ResourceSort = ResourceSort.NAME
    ) -> list[CellResourceRow]:
        """Every cell (of the workspace; NotFoundError for an unknown one), sorted."""
        if workspace_id is not None:
            await self._workspaces.get(workspace_id)
        cells = await self._cells.list(workspace_id=workspace_id)
        ids = [cell.id for cell in cells]
        footprints = await self._store.footprints(ids)
        disks = await self._store.disks(ids)
        services: dict[str, list[ServiceRow]] = {}
        for row in await self._store.services():
            services.setdefault(row.cell_id, []).append(row)
        rows = []
        for cell in cells:
            usage = self._usage(cell.id)
            names = _service_names(services.get(cell.id, []), usage)
            scopes: Mapping[str, Usage] = usage.scopes if usage else {}
            rows.append(
                CellResourceRow(
                    cell=cell,
                    now=usage.total if usage else None,
                    services=tuple(
                        ServiceNow(
                            name,
                            status,
                            scopes.get(service_scope(name), Usage()) if usage else None,
                        )
                        for name, status in names.items()
                    ),
                    footprint=footprints.get(cell.id),
                    disk=disks.get(cell.id),
                )
            )
        return sort_rows(rows, sort)

    async def history(
        self, workspace_id: str | None = None, window_s: float = 3600.0
    ) -> list[tuple[CellRecord, list[Rollup]]]:
        """Every cell (of the workspace) with its per-minute figures over the window,
        oldest first (a minute when it had no process has none)."""
        if workspace_id is not None:
            await self._workspaces.get(workspace_id)
        cells = await self._cells.list(workspace_id=workspace_id)
        since = int((time.time() - window_s) // 60)
        recent = await self._store.recent_rollups([cell.id for cell in cells], CELL, since)
        return [(cell, recent.get(cell.id, [])) for cell in cells]
