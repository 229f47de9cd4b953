"""Cell statuses and the transitions allowed between them, declared as data."""

from __future__ import annotations

from enum import StrEnum

from hive.core.errors import TransitionError


class CellStatus(StrEnum):
    PENDING = "pending"
    SPAWNING = "spawning"
    READY = "ready"
    ERROR = "error"
    ARCHIVED = "archived"
    DELETING = "deleting"


_S = CellStatus

#: from-status → statuses it may move to. Anything may start deleting; a delete
#: that fails part-way returns the cell to `error` so it can be inspected and retried.
TRANSITIONS: dict[CellStatus, frozenset[CellStatus]] = {
    _S.PENDING: frozenset({_S.SPAWNING, _S.ERROR, _S.DELETING}),
    _S.SPAWNING: frozenset({_S.READY, _S.ERROR, _S.DELETING}),
    _S.READY: frozenset({_S.SPAWNING, _S.ARCHIVED, _S.ERROR, _S.DELETING}),
    _S.ERROR: frozenset({_S.SPAWNING, _S.DELETING}),
    _S.ARCHIVED: frozenset({_S.SPAWNING, _S.DELETING}),
    _S.DELETING: frozenset({_S.ERROR}),
}

#: Statuses hidden from list and detail reads: the cell is on its way out.
HIDDEN: frozenset[CellStatus] = frozenset({_S.DELETING})

#: Statuses in which a workflow may be running for the cell.
IN_PROGRESS: frozenset[CellStatus] = frozenset({_S.PENDING, _S.SPAWNING, _S.DELETING})


def can_transition(current: CellStatus, target: CellStatus) -> bool:
    return target in TRANSITIONS[current]


def check_transition(current: CellStatus, target: CellStatus) -> None:
    if not can_transition(current, target):
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing"
        raise TransitionError(
            f"a cell cannot go from '{current}' to '{target}'",
            hint=f"from '{current}' a cell can go to: {allowed}",
        )


class ServiceStatus(StrEnum):
    STARTING = "starting"
    """Spawned; its readiness probe has not passed yet."""
    READY = "ready"
    """Passed its readiness probe (or, without one, is running)."""
    COMPLETED = "completed"
    """A oneshot service that exited 0."""
    STOPPED = "stopped"
    """Stopped on purpose, or found not running after a server restart."""
    CRASHED = "crashed"
    """Exited on its own while it should have been running."""
    ERROR = "error"
    """Could not be started, or never got ready."""


#: Statuses in which a service has a process Hive answers for.
SERVICE_ALIVE: frozenset[ServiceStatus] = frozenset({ServiceStatus.STARTING, ServiceStatus.READY})
