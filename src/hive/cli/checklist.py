"""A cell's provisioning as a checklist, kept up to date from its stream's events.

Pure state: `apply` takes one event (`timing`, `progress`, `cell`, `cell_removed`) and
returns the lines a plain terminal prints for it; `render` draws the whole list for a
live terminal. Only one run is shown: the one asked for, else the latest seen, so a
replay of a cell's whole history ends showing its current run.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from hive.cli.timing_views import duration

State = Literal["waiting", "running", "ok", "error", "earlier"]
SETTLED = frozenset({"ready", "error"})
_RUN_WORKFLOWS = frozenset({"create", "retry", "restore"})


@dataclass
class SubStep:
    name: str
    """The part after the step's name: `1`, `include_copy`, `ready:web`."""
    state: State = "running"
    duration_ms: float | None = None
    error: str | None = None


@dataclass
class StepRow:
    name: str
    state: State = "waiting"
    duration_ms: float | None = None
    began: float | None = None
    """When it began (monotonic, this process's clock), to show it running."""
    error: str | None = None
    parts: list[SubStep] = field(default_factory=list)
    detail: str | None = None
    """What the running step says it is at (`12,400/20,000 files`, `command 2 of 3`)."""

    def part(self, name: str) -> SubStep:
        for part in self.parts:
            if part.name == name:
                return part
        part = SubStep(name)
        self.parts.append(part)
        return part


@dataclass
class Eta:
    remaining_ms: float
    runs: int
    seen_at: float
    """Monotonic time the estimate was read: the countdown runs from there."""


class Checklist:
    def __init__(self, cell_id: str, steps: Sequence[str], *, run_id: str | None = None) -> None:
        self.cell_id = cell_id
        self.steps = tuple(steps)
        self.run_id = run_id
        self._pinned = run_id is not None
        """Given a run, only it is shown (`new`, `retry`); else the latest one."""
        self.rows = {name: StepRow(name) for name in self.steps}
        self.status: str | None = None
        self.settled = False
        self.removed = False
        self.eta: Eta | None = None
        self.eta_basis: str | None = None

    # -- events ------------------------------------------------------------------------

    def apply(self, event: str, data: Any, now: float | None = None) -> list[str]:
        """Take one event; returns the plain lines it finishes (markup), if any."""
        now = time.monotonic() if now is None else now
        if not isinstance(data, dict):
            return []
        if event == "timing":
            return self._timing(data, now)
        if event == "progress":
            self._progress(data)
        elif event == "cell":
            return self._cell(data)
        elif event == "cell_removed":
            self.removed = self.settled = True
            return ["[red]✗ the cell was deleted[/]"]
        return []

    def _mine(self, data: dict[str, Any]) -> bool:
        """Whether the event is of the run shown; a newer create or retry run replaces it
        unless a run was asked for."""
        run_id = data.get("runId")
        if not isinstance(run_id, str) or data.get("workflow", "create") not in _RUN_WORKFLOWS:
            return False
        if run_id == self.run_id:
            return True
        if self._pinned:
            return False
        self.run_id = run_id
        self.rows = {name: StepRow(name) for name in self.steps}
        return True

    def _timing(self, data: dict[str, Any], now: float) -> list[str]:
        step = data.get("step")
        if not isinstance(step, str) or not self._mine(data):
            return []
        name, _, part_name = step.partition(":")
        row = self.rows.get(name)
        if row is None:
            return []
        begin = data.get("phase") == "begin"
        ok = data.get("status") == "ok"
        duration = data.get("durationMs")
        error = data.get("error") if isinstance(data.get("error"), str) else None
        if part_name:
            part = row.part(part_name)
            if begin:
                part.state = "running"
                return []
            part.state = "ok" if ok else "error"
            part.duration_ms = duration if isinstance(duration, int | float) else None
            part.error = error
            line = _line(f"{name}:{part_name}", part.state, part.duration_ms, error, indent=4)
            metadata = data.get("metadata")
            if isinstance(metadata, dict) and isinstance(metadata.get("command"), str):
                line += f"  [dim]{escape(metadata['command'])}[/]"
            return [line]
        if begin:
            self._passed(name)
            row.state, row.began = "running", now
            return []
        self._passed(name)
        row.state = "ok" if ok else "error"
        row.duration_ms = duration if isinstance(duration, int | float) else None
        row.error, row.detail = error, None
        return [_line(name, row.state, row.duration_ms, error, indent=2)]

    def _passed(self, name: str) -> None:
        """Steps before `name` that did not run in this run were done on an earlier one."""
        for earlier in self.steps[: self.steps.index(name)]:
            if self.rows[earlier].state == "waiting":
                self.rows[earlier].state = "earlier"

    def _progress(self, data: dict[str, Any]) -> None:
        step = data.get("step")
        if not isinstance(step, str) or data.get("runId") != self.run_id:
            return
        name, _, part = step.partition(":")
        row = self.rows.get(name)
        done, total = data.get("done"), data.get("total")
        if row is None or not isinstance(done, int) or not isinstance(total, int):
            return
        if part == "include_copy":
            row.detail = f"include_copy {done:,}/{total:,} files"
        elif name == "run_setup":
            row.detail = f"command {done + 1} of {total}"
            command = data.get("command")
            if isinstance(command, str):
                shown = command if len(command) <= 60 else command[:59] + "…"
                row.detail += f": {shown}"
        else:
            row.detail = f"{part} {done:,}/{total:,}"

    def _cell(self, data: dict[str, Any]) -> list[str]:
        status = data.get("status")
        if not isinstance(status, str):
            return []
        self.status = status
        if data.get("settled") is True and status in SETTLED:
            self.settled = True
            if status == "ready":
                for row in self.rows.values():
                    if row.state == "waiting":
                        row.state = "earlier"
        return []

    def estimate(self, eta: Any, now: float | None = None) -> None:
        """Take the cell detail's `eta` (null once the cell is not provisioning)."""
        now = time.monotonic() if now is None else now
        if not isinstance(eta, dict):
            self.eta, self.eta_basis = None, None
            return
        self.eta_basis = eta.get("basis")
        remaining = eta.get("remainingMs")
        if isinstance(remaining, int | float):
            self.eta = Eta(float(remaining), int(eta.get("runs") or 0), now)
        else:
            self.eta = None

    # -- drawing -----------------------------------------------------------------------

    def eta_text(self, now: float) -> str | None:
        if self.settled:
            return None
        if self.eta is not None:
            left = max(0.0, self.eta.remaining_ms - (now - self.eta.seen_at) * 1000)
            runs = f"{self.eta.runs} earlier run{'s' if self.eta.runs != 1 else ''}"
            if left == 0:
                return f"taking longer than usual ({runs})"
            return f"about {duration(left)} left (from {runs})"
        if self.eta_basis == "none":
            return "no estimate yet: this template has no finished run here"
        return None

    def render(self, now: float | None = None) -> RenderableType:
        now = time.monotonic() if now is None else now
        grid = Table.grid(padding=(0, 1))
        grid.add_column(width=1)
        grid.add_column()
        grid.add_column(justify="right")
        grid.add_column()
        for row in self.rows.values():
            mark: RenderableType = _MARKS[row.state]
            took = ""
            if row.state == "running":
                mark = Spinner("dots", style="yellow")
                took = duration((now - row.began) * 1000) if row.began is not None else ""
            elif row.duration_ms is not None:
                took = duration(row.duration_ms)
            detail = Text(row.detail or _running_part(row), style="dim")
            if row.state == "error" and row.error:
                detail = Text(row.error, style="red")
            style = "dim" if row.state in ("waiting", "earlier") else ""
            grid.add_row(mark, Text(row.name, style=style), Text(took, style="dim"), detail)
        eta = self.eta_text(now)
        return Group(grid, Text(eta, style="cyan")) if eta else grid


_MARKS: dict[State, RenderableType] = {
    "waiting": Text("·", style="dim"),
    "earlier": Text("✓", style="dim green"),
    "running": Text("…", style="yellow"),
    "ok": Text("✓", style="green"),
    "error": Text("✗", style="red"),
}


def _running_part(row: StepRow) -> str:
    if row.state != "running":
        return ""
    running = [part.name for part in row.parts if part.state == "running"]
    return running[-1] if running else ""


def _line(
    name: str, state: State, duration_ms: float | None, error: str | None, *, indent: int
) -> str:
    ok = state == "ok"
    mark = "[green]✓[/]" if ok else "[red]✗[/]"
    took = f" [dim]{duration(duration_ms)}[/]" if duration_ms is not None else ""
    line = f"{' ' * indent}{mark} {escape(name)}{took}"
    if not ok and error:
        line += f"  [red]{escape(error)}[/]"
    return line
