"""The cell page's provisioning checklist: each create step with its state, duration and
what it is at, shaped from the cell and its timing rows as the API answers them (the
API's `provisioning` says which step runs and which are left; nothing is guessed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from hive.api.schemas import CellOut, TimingOut

State = Literal["waiting", "running", "done", "earlier", "failed"]

#: The line the setup log starts each run of setup with (`services/setup_log.py`).
_ATTEMPT_MARK = "[hive] attempt "


@dataclass(frozen=True)
class ChecklistRow:
    step: str
    label: str
    state: State
    duration_ms: float | None = None
    detail: str | None = None
    """What the running step is at (files copied, the command, the service awaited)."""
    error: str | None = None


def shown_run(cell: CellOut) -> str | None:
    """The run the checklist is of: the running one, else the one that failed."""
    if cell.run_id is not None:
        return cell.run_id
    return cell.last_setup_error.run_id if cell.last_setup_error else None


def checklist(cell: CellOut, rows: Sequence[TimingOut]) -> list[ChecklistRow]:
    run = shown_run(cell)
    mine = [row for row in rows if run is not None and row.run_id == run]
    failure = cell.last_setup_error if cell.status == "error" else None
    failed_step = failure.step.partition(":")[0] if failure and failure.step else None
    plan = cell.provisioning
    out: list[ChecklistRow] = []
    for name in plan.steps:
        label = name.replace("_", " ")
        ended = [row for row in mine if row.step == name]
        last = ended[-1] if ended else None
        if last is not None and last.status == "ok":
            out.append(ChecklistRow(name, label, "done", last.duration_ms))
        elif name == failed_step or last is not None:
            error = (last.error if last else None) or (failure.message if failure else None)
            took = last.duration_ms if last else None
            out.append(ChecklistRow(name, label, "failed", took, error=error))
        elif name == plan.current_step:
            out.append(ChecklistRow(name, label, "running", detail=_detail(cell, name, mine)))
        elif cell.status == "ready" or name not in plan.remaining:
            out.append(ChecklistRow(name, label, "earlier"))
        else:
            out.append(ChecklistRow(name, label, "waiting"))
    return out


def _detail(cell: CellOut, step: str, rows: Sequence[TimingOut]) -> str | None:
    progress: dict[str, Any] = cell.progress or {}
    part = cell.provisioning.current_substep
    if part is not None and progress.get("step") == part:
        done, total = progress.get("done"), progress.get("total")
        if isinstance(done, int) and isinstance(total, int):
            if part.endswith(":include_copy"):
                return f"copying included files: {done:,} of {total:,}"
            if step == "run_setup":
                text = f"command {done + 1} of {total}"
                if isinstance(progress.get("command"), str):
                    text += f": {progress['command']}"
                tries = progress.get("tries")
                if isinstance(tries, int) and tries > 1:
                    text += f" (try {progress.get('try')} of {tries})"
                return text
    if step == "ensure_services":
        return _awaited_services(rows)
    return None


def _awaited_services(rows: Sequence[TimingOut]) -> str | None:
    """Services started in this run whose readiness check has not ended yet."""
    names = {row.step for row in rows}
    started = [
        row.step.removeprefix("ensure_services:start:")
        for row in rows
        if row.step.startswith("ensure_services:start:") and row.status == "ok"
    ]
    waiting = [name for name in started if f"ensure_services:ready:{name}" not in names]
    if waiting:
        return "waiting for " + ", ".join(waiting) + " to be ready"
    return None


def current_attempt(log: str) -> str:
    """The setup log from the latest run of setup on (it keeps every attempt)."""
    at = log.rfind("\n" + _ATTEMPT_MARK)
    return log[at + 1 :] if at >= 0 else log
