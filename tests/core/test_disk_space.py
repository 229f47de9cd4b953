"""When the cells root counts as low or too full, what the warning and the refusal say,
and byte counts for people."""

from __future__ import annotations

from pathlib import Path

import pytest

from hive.core.disk_space import (
    BigCell,
    DiskSpace,
    InsufficientSpaceError,
    SpaceLevel,
    low_space_warning,
    space_level,
)
from hive.core.errors import ConflictError
from hive.core.sizes import GB, MB, human_bytes


@pytest.mark.parametrize(
    ("free", "total", "level"),
    [
        (500 * GB, 1000 * GB, SpaceLevel.OK),
        (5 * GB, 20 * GB, SpaceLevel.OK),  # 25% and exactly 5 GB
        (5 * GB - 1, 20 * GB, SpaceLevel.LOW),  # under 5 GB
        (99 * GB, 1000 * GB, SpaceLevel.LOW),  # plenty of bytes, under 10%
        (100 * GB, 1000 * GB, SpaceLevel.OK),  # exactly 10%
        (1 * GB, 2 * GB, SpaceLevel.LOW),  # 1 GB is still allowed
        (1 * GB - 1, 2 * GB, SpaceLevel.REFUSED),
        (0, 0, SpaceLevel.REFUSED),
        (2 * GB, 0, SpaceLevel.LOW),  # a file system that reports no size
    ],
)
def test_space_levels(free: int, total: int, level: SpaceLevel) -> None:
    assert space_level(DiskSpace(free, total)) == level


def test_the_warning_says_how_much_is_free_and_where() -> None:
    text = low_space_warning(DiskSpace(3 * GB, 100 * GB), Path("/data/cells"))
    assert "3.0 GB free (3%) of 100 GB" in text and "/data/cells" in text
    assert "refused below 1.0 GB" in text


def test_the_refusal_names_the_biggest_cells_and_what_frees_space() -> None:
    biggest = [BigCell("a" * 32, "api fix", 4_100 * MB), BigCell("b" * 32, "docs", 20 * MB)]
    error = InsufficientSpaceError(DiskSpace(800 * MB, 50 * GB), Path("/cells"), biggest)
    assert isinstance(error, ConflictError), "409: nothing in the request is wrong"
    assert "800 MB free (2%)" in error.message
    assert f"api fix ({'a' * 12}) 4.1 GB; docs ({'b' * 12}) 20 MB" in error.message
    assert error.hint is not None
    assert f"`hive rm {'a' * 12}`" in error.hint and "`hive gc`" in error.hint
    body = error.to_dict()
    assert body["freeBytes"] == 800 * MB and body["totalBytes"] == 50 * GB
    assert body["biggestCells"][0] == {"id": "a" * 32, "name": "api fix", "ownBytes": 4_100 * MB}


def test_a_refusal_with_no_measured_cells_still_says_what_to_run() -> None:
    error = InsufficientSpaceError(DiskSpace(10 * MB, 50 * GB), Path("/cells"), [])
    assert "biggest" not in error.message
    assert error.hint is not None and "`hive rm ID`" in error.hint


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (1000, "1.0 kB"),
        (12_345, "12 kB"),
        (120 * MB, "120 MB"),
        (4_100 * MB, "4.1 GB"),
        (-5, "0 B"),
        (3_000 * GB, "3.0 TB"),
    ],
)
def test_human_bytes(count: int, text: str) -> None:
    assert human_bytes(count) == text
