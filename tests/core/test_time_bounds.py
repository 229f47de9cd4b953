"""parse_bound and page cursors: what `since`, `until` and `cursor` accept."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hive.core.time_bounds import parse_bound
from hive.core.timing_cursor import decode_cursor, encode_cursor

NOW = datetime(2026, 3, 10, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1d", "2026-03-09T12:00:00.000Z"),
        ("2h", "2026-03-10T10:00:00.000Z"),
        ("30m", "2026-03-10T11:30:00.000Z"),
        ("45s", "2026-03-10T11:59:15.000Z"),
        ("2026-01-31T12:00:00Z", "2026-01-31T12:00:00.000Z"),
        ("2026-01-31T14:00:00+02:00", "2026-01-31T12:00:00.000Z"),
        ("2026-01-31T12:00:00", "2026-01-31T12:00:00.000Z"),
        ("2026-01-31", "2026-01-31T00:00:00.000Z"),
    ],
)
def test_bounds(text: str, expected: str) -> None:
    assert parse_bound(text, NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "1w", "-1d", "1.5h", "", "d"])
def test_refused_bounds_say_what_is_accepted(text: str) -> None:
    with pytest.raises(ValueError, match="ISO 8601") as caught:
        parse_bound(text, NOW)
    assert "1d" in str(caught.value)


def test_cursor_round_trip_and_refusals() -> None:
    assert decode_cursor(encode_cursor(12345)) == 12345
    for bad in ("", "abc", encode_cursor(1)[:-2] + "!!", "dDE6eA"):  # "t1:x"
        with pytest.raises(ValueError, match="nextCursor"):
            decode_cursor(bad)
