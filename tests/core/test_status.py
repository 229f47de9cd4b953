"""Every status pair is allowed or refused exactly as the transition table says."""

from __future__ import annotations

import itertools

import pytest

from hive.core.errors import ConflictError, TransitionError
from hive.core.status import (
    HIDDEN,
    IN_PROGRESS,
    TRANSITIONS,
    CellStatus,
    can_transition,
    check_transition,
)

PAIRS = list(itertools.product(CellStatus, CellStatus))
ALLOWED = [(a, b) for a, b in PAIRS if b in TRANSITIONS[a]]
REFUSED = [(a, b) for a, b in PAIRS if b not in TRANSITIONS[a]]


def test_table_covers_every_status() -> None:
    assert set(TRANSITIONS) == set(CellStatus)
    for targets in TRANSITIONS.values():
        assert targets <= set(CellStatus)


def test_table_spot_checks() -> None:
    # The documented shape: anything may start deleting; deleting may only fail back.
    assert all(
        CellStatus.DELETING in TRANSITIONS[s] for s in CellStatus if s != CellStatus.DELETING
    )
    assert TRANSITIONS[CellStatus.DELETING] == frozenset({CellStatus.ERROR})
    assert not can_transition(CellStatus.ERROR, CellStatus.READY)
    assert can_transition(CellStatus.READY, CellStatus.ERROR)


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_allowed_pair(current: CellStatus, target: CellStatus) -> None:
    assert can_transition(current, target)
    check_transition(current, target)


@pytest.mark.parametrize(("current", "target"), REFUSED)
def test_refused_pair(current: CellStatus, target: CellStatus) -> None:
    assert not can_transition(current, target)
    with pytest.raises(TransitionError) as caught:
        check_transition(current, target)
    error = caught.value
    assert isinstance(error, ConflictError)
    assert f"'{current}'" in error.message and f"'{target}'" in error.message
    assert error.hint is not None
    for allowed in TRANSITIONS[current]:
        assert str(allowed) in error.hint


def test_hidden_and_in_progress() -> None:
    assert frozenset({CellStatus.DELETING}) == HIDDEN
    assert frozenset({CellStatus.PENDING, CellStatus.SPAWNING, CellStatus.DELETING}) == IN_PROGRESS
