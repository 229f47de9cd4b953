"""clean_name: a cell name is free text; only what cannot be shown is refused."""

from __future__ import annotations

import pytest

from hive.core.errors import InvalidInputError
from hive.provisioning.requests.cells import MAX_NAME_LENGTH, clean_name


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("fix login", "fix login"),
        ("  padded\t ", "padded"),
        ("Ünïcödé 名前 🚀", "Ünïcödé 名前 🚀"),
        ("feat/x: y (z) #1", "feat/x: y (z) #1"),
        ("x" * MAX_NAME_LENGTH, "x" * MAX_NAME_LENGTH),
        ("  " + "y" * MAX_NAME_LENGTH + "\n", "y" * MAX_NAME_LENGTH),
    ],
)
def test_accepted(raw: str, cleaned: str) -> None:
    assert clean_name(raw) == cleaned


@pytest.mark.parametrize("raw", ["", "   ", "\n\t"])
def test_empty_refused(raw: str) -> None:
    with pytest.raises(InvalidInputError, match="non-empty"):
        clean_name(raw)


def test_too_long_refused() -> None:
    with pytest.raises(InvalidInputError, match=str(MAX_NAME_LENGTH)):
        clean_name("x" * (MAX_NAME_LENGTH + 1))


@pytest.mark.parametrize("raw", ["two\nlines", "tab\there", "nul\x00", "del\x7f", "esc\x1b[31m"])
def test_control_characters_refused(raw: str) -> None:
    with pytest.raises(InvalidInputError, match="control characters"):
        clean_name(raw)


def test_line_separators_are_refused_like_newlines() -> None:
    with pytest.raises(InvalidInputError):
        clean_name("one\u2028two")
