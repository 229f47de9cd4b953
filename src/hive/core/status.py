"""Cell and service statuses and the transitions allowed between them, declared as data."""

from __future__ import annotations

from collections.abc import Set
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


def can_transition(current: CellStatus, target: CellStatus) -> bool:
    return target in TRANSITIONS[current]


def check_transition(current: CellStatus, target: CellStatus) -> None:
    _refuse(TRANSITIONS[current], "cell", str(current), target)


def sources_of(target: CellStatus) -> frozenset[CellStatus]:
    """Statuses a cell may move to `target` from."""
    return frozenset(source for source, targets in TRANSITIONS.items() if target in targets)


class ServiceStatus(StrEnum):
    STARTING = "starting"
    """Spawned; its readiness check has not passed yet."""
    READY = "ready"
    """Passed its readiness check."""
    BACKOFF = "backoff"
    """Crashed, and a restart is scheduled (`restart: on-failure`): it will come back."""
    STOPPING = "stopping"
    """Being stopped: its stop command, then TERM, grace, KILL of its process group."""
    STOPPED = "stopped"
    """Stopped on purpose, or found not running after a server restart."""
    CRASHED = "crashed"
    """Exited on its own and nothing will restart it: dead until someone acts."""
    ERROR = "error"
    """Could not be started, never got ready, or spent its restart budget."""
    COMPLETED = "completed"
    """A oneshot service that exited 0."""


_V = ServiceStatus

#: from-status → statuses a service may move to. `None` is a service without a record.
#: A crash becomes `backoff` (a restart is due) or stays `crashed`/`error` (no restart:
#: nobody will bring it back without a user). Anything alive can be stopped.
#: A new process may start from any status: the supervisor has already made sure no
#: other copy runs (a start after a killed server finds `stopping` or `ready` records).
SERVICE_TRANSITIONS: dict[ServiceStatus | None, frozenset[ServiceStatus]] = {
    None: frozenset({_V.STARTING, _V.ERROR, _V.STOPPED}),
    _V.STARTING: frozenset(
        {_V.STARTING, _V.READY, _V.COMPLETED, _V.CRASHED, _V.BACKOFF, _V.ERROR, _V.STOPPING}
    ),
    _V.READY: frozenset({_V.STARTING, _V.CRASHED, _V.BACKOFF, _V.ERROR, _V.STOPPING}),
    _V.BACKOFF: frozenset({_V.STARTING, _V.ERROR, _V.STOPPING}),
    _V.STOPPING: frozenset({_V.STARTING, _V.STOPPED, _V.ERROR}),
    _V.STOPPED: frozenset({_V.STARTING, _V.ERROR}),
    _V.CRASHED: frozenset({_V.STARTING, _V.ERROR, _V.STOPPING}),
    _V.ERROR: frozenset({_V.STARTING, _V.ERROR, _V.STOPPING}),
    _V.COMPLETED: frozenset({_V.STARTING, _V.ERROR}),
}


def service_sources_of(target: ServiceStatus) -> frozenset[ServiceStatus | None]:
    """Statuses (None: no record yet) a service may move to `target` from."""
    return frozenset(s for s, targets in SERVICE_TRANSITIONS.items() if target in targets)


def check_service_transition(current: ServiceStatus | None, target: ServiceStatus) -> None:
    _refuse(SERVICE_TRANSITIONS[current], "service", current or "no record", target)


def _refuse(allowed: Set[StrEnum], kind: str, current: str, target: StrEnum) -> None:
    if target not in allowed:
        targets = ", ".join(sorted(allowed)) or "nothing"
        raise TransitionError(
            f"a {kind} cannot go from '{current}' to '{target}'",
            hint=f"from '{current}' a {kind} can go to: {targets}",
        )
