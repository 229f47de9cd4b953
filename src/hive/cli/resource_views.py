"""How the CLI shows what cells cost: `hive top`'s table, and the figures `hive services`
adds. CPU is a percentage of one core; memory and disk in binary units, short as `top`
shows them (K, M, G are KiB, MiB, GiB), so the tables fit 80 columns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from hive.cli.render import ID_PREFIX, agent_text, status_text

_UNITS = ("K", "M", "G", "T")


def size_text(size: int | None) -> str:
    """Binary units in at most five characters, as `top` shows them: `812B`, `58.9M`,
    `1.21G`; `-` when unknown."""
    if size is None:
        return "-"
    if size < 1024:
        return f"{size}B"
    value, unit = size / 1024, 0
    while value >= 1024 and unit < len(_UNITS) - 1:
        value, unit = value / 1024, unit + 1
    digits = 2 if value < 10 else 1 if value < 100 else 0
    return f"{value:.{digits}f}{_UNITS[unit]}"


def cpu_text(cpu: float | None) -> str:
    return "-" if cpu is None else f"{cpu:.1f}%"


def _now(figures: dict[str, Any] | None) -> tuple[str, str, str]:
    """CPU, memory and processes of a `now`; dashes before the first sample."""
    if not figures:
        return "-", "-", "-"
    return cpu_text(figures["cpu"]), size_text(figures["rss"]), str(figures["processes"])


def _when(stamp: str | None) -> str:
    if not stamp:
        return "not sampled yet"
    try:
        return "sampled " + datetime.fromisoformat(stamp).astimezone().strftime("%H:%M:%S")
    except ValueError:
        return f"sampled {stamp}"


def top_view(body: dict[str, Any]) -> RenderableType:
    """One row per cell, its services indented under it; a line saying when."""
    table = Table(box=None, header_style="bold")
    table.add_column("ID", no_wrap=True)
    table.add_column("NAME", overflow="fold")
    table.add_column("STATUS", no_wrap=True)
    for column in ("CPU %", "MEM", "DISK", "PIDS"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("AGENT", no_wrap=True)
    for cell in body["cells"]:
        disk = cell.get("disk")
        cpu, mem, pids = _now(cell.get("now"))
        table.add_row(
            cell["cellId"][:ID_PREFIX],
            Text(cell["name"]),
            status_text(cell["status"]),
            cpu,
            mem,
            size_text(disk["allocatedBytes"]) if disk else "-",
            pids,
            agent_text(cell.get("agent")),
        )
        for service in cell["services"]:
            cpu, mem, pids = _now(service.get("now"))
            status = status_text(service["status"]) if service.get("status") else "-"
            table.add_row(
                "", Text(f"  └ {service['name']}", style="dim"), status, cpu, mem, "", pids
            )
    count = len(body["cells"])
    heading = Text(
        f"{count} cell{'s' if count != 1 else ''} · {_when(body.get('sampledAt'))} · "
        f"every {body['intervalS']:g}s · sorted by {body['sort']}",
        style="dim",
    )
    return Group(heading, table) if count else Group(heading, Text("no cells"))


def service_figures(resources: dict[str, Any] | None) -> dict[str, tuple[str, str]]:
    """CPU and memory of each service by name, from a cell's resources."""
    found: dict[str, tuple[str, str]] = {}
    for service in (resources or {}).get("services", []):
        cpu, mem, _ = _now(service.get("now"))
        found[service["name"]] = (cpu, mem)
    return found
