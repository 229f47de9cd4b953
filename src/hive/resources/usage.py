"""One scan's readings summed per cell and scope, and what of it is stored. Pure.

Memory is RSS summed over processes: pages two processes share count in each, as in
`ps` and `top` (the figure is an upper bound, and cheap: exact shares cost a read of
every mapping of every process).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hive.resources.process_table import ProcessReading
from hive.resources.scopes import AGENT, CELL, service_of
from hive.store.resources import FootprintSample, Sample, Targets


@dataclass(frozen=True)
class Usage:
    cpu_percent: float = 0.0
    rss_bytes: int = 0
    processes: int = 0

    def plus(self, reading: ProcessReading) -> Usage:
        return Usage(
            round(self.cpu_percent + reading.cpu_percent, 1),
            self.rss_bytes + reading.rss_bytes,
            self.processes + 1,
        )


@dataclass(frozen=True)
class CellUsage:
    cell_id: str
    total: Usage
    scopes: Mapping[str, Usage]
    """Per scope but `cell`, which is `total`."""
    processes: tuple[ProcessReading, ...]


@dataclass(frozen=True)
class SampleRound:
    """What one scan found: every cell with at least one live process."""

    at: float
    """Unix time of the scan."""
    cells: Mapping[str, CellUsage]


def summarize(at: float, readings: Iterable[ProcessReading]) -> SampleRound:
    per_cell: dict[str, list[ProcessReading]] = {}
    for reading in readings:
        per_cell.setdefault(reading.cell_id, []).append(reading)
    cells = {}
    for cell_id, found in per_cell.items():
        found.sort(key=lambda r: (r.scope, r.pid))
        total, scopes = Usage(), dict[str, Usage]()
        for reading in found:
            total = total.plus(reading)
            scopes[reading.scope] = scopes.get(reading.scope, Usage()).plus(reading)
        cells[cell_id] = CellUsage(cell_id, total, scopes, tuple(found))
    return SampleRound(at, cells)


def samples_of(sampled: SampleRound) -> list[Sample]:
    """A `cell` row per cell, and a row per scope it had processes in."""
    rows = []
    for cell in sampled.cells.values():
        for scope, usage in ((CELL, cell.total), *sorted(cell.scopes.items())):
            rows.append(
                Sample(
                    cell.cell_id,
                    scope,
                    sampled.at,
                    usage.cpu_percent,
                    usage.rss_bytes,
                    usage.processes,
                )
            )
    return rows


def _running(scopes: Mapping[str, Usage]) -> Usage | None:
    """The services and the agent together; None when none of them has a process."""
    parts = [u for scope, u in scopes.items() if scope == AGENT or service_of(scope) is not None]
    if not parts:
        return None
    return Usage(
        round(sum(u.cpu_percent for u in parts), 1),
        sum(u.rss_bytes for u in parts),
        sum(u.processes for u in parts),
    )


def footprints_of(sampled: SampleRound, targets: Targets) -> list[FootprintSample]:
    """For each sampled cell its footprint's share of this scan: what its services and
    agent used, and how many services and ports it has."""
    services: dict[str, list[int | None]] = {}
    for row in targets.services:
        services.setdefault(row.cell_id, []).append(row.port)
    updates = []
    for cell in targets.cells:
        usage = sampled.cells.get(cell.id)
        if usage is None:
            continue
        running = _running(usage.scopes)
        ports = services.get(cell.id, [])
        updates.append(
            FootprintSample(
                cell_id=cell.id,
                workspace_id=cell.workspace_id,
                template_id=cell.template_id,
                rss_bytes=running.rss_bytes if running else None,
                cpu_percent=running.cpu_percent if running else None,
                services=len(ports),
                ports=len({port for port in ports if port is not None}),
            )
        )
    return updates
