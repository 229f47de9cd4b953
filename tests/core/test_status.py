"""Every status pair is allowed or refused exactly as the transition tables say, and the
tables have the shape the rest of Hive relies on."""

from __future__ import annotations

import itertools

import pytest

from hive.core.errors import ConflictError, TransitionError
from hive.core.status import (
    SERVICE_TRANSITIONS,
    TRANSITIONS,
    CellStatus,
    ServiceStatus,
    can_transition,
    check_service_transition,
    check_transition,
    service_sources_of,
    sources_of,
)

PAIRS = list(itertools.product(CellStatus, CellStatus))
ALLOWED = [(a, b) for a, b in PAIRS if b in TRANSITIONS[a]]
REFUSED = [(a, b) for a, b in PAIRS if b not in TRANSITIONS[a]]
SERVICE_PAIRS = list(itertools.product([None, *ServiceStatus], ServiceStatus))


def test_tables_cover_every_status() -> None:
    assert set(TRANSITIONS) == set(CellStatus)
    assert set(SERVICE_TRANSITIONS) == {None, *ServiceStatus}


def test_cell_table_shape() -> None:
    # Anything may start deleting; deleting may only fail back; an error never jumps
    # to ready without a new run.
    assert all(
        CellStatus.DELETING in TRANSITIONS[s] for s in CellStatus if s != CellStatus.DELETING
    )
    assert TRANSITIONS[CellStatus.DELETING] == frozenset({CellStatus.ERROR})
    assert not can_transition(CellStatus.ERROR, CellStatus.READY)
    assert sources_of(CellStatus.READY) == frozenset({CellStatus.SPAWNING})


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_allowed_pair(current: CellStatus, target: CellStatus) -> None:
    check_transition(current, target)


@pytest.mark.parametrize(("current", "target"), REFUSED)
def test_refused_pair(current: CellStatus, target: CellStatus) -> None:
    with pytest.raises(TransitionError) as caught:
        check_transition(current, target)
    error = caught.value
    assert isinstance(error, ConflictError)
    assert f"'{current}'" in error.message and f"'{target}'" in error.message
    assert error.hint is not None
    for allowed in TRANSITIONS[current]:
        assert str(allowed) in error.hint


@pytest.mark.parametrize(("current", "target"), SERVICE_PAIRS)
def test_service_pair(current: ServiceStatus | None, target: ServiceStatus) -> None:
    if target in SERVICE_TRANSITIONS[current]:
        check_service_transition(current, target)
        assert current in service_sources_of(target)
    else:
        with pytest.raises(TransitionError, match="a service cannot go"):
            check_service_transition(current, target)
        assert current not in service_sources_of(target)


def test_service_table_shape() -> None:
    S = ServiceStatus  # noqa: N806 - a table reads better with a short name
    # Stopping is the only way to stopped, except laying a record to rest from
    # nothing; a stop always goes through `stopping`.
    assert service_sources_of(S.STOPPED) == frozenset({None, S.STOPPING})
    # "Will restart" (backoff) and "dead until someone acts" (crashed) differ: an exit
    # becomes one or the other, and only a new start leaves either.
    assert {S.CRASHED, S.BACKOFF} <= SERVICE_TRANSITIONS[S.READY]
    assert S.BACKOFF not in SERVICE_TRANSITIONS[S.CRASHED]
    assert S.READY not in SERVICE_TRANSITIONS[S.BACKOFF] | SERVICE_TRANSITIONS[S.STOPPED]
    # A new process may start whatever the record says (the supervisor made sure no
    # other copy runs); a finished oneshot stays completed until then, or a failed start.
    assert service_sources_of(S.STARTING) == frozenset({None, *ServiceStatus})
    assert SERVICE_TRANSITIONS[S.COMPLETED] == frozenset({S.STARTING, S.ERROR})
    # Nothing is ready, crashed or completed without having started.
    for target in (S.READY, S.COMPLETED):
        assert service_sources_of(target) == frozenset({S.STARTING})
