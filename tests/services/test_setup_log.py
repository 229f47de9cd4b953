"""The setup log file: Hive's marks, privacy, and bounded reads of it."""

from __future__ import annotations

import stat
from pathlib import Path

from hive.services.setup_log import (
    append,
    attempt_line,
    command_line,
    read_chunk,
    read_log,
    setup_log_path,
)


def test_marks_carry_numbers_ids_and_times_only() -> None:
    assert attempt_line(2, "abc", "2026-12-01T10:00:00.000Z", 3) == (
        "[hive] attempt 2 · run abc · 2026-12-01T10:00:00.000Z · 3 setup commands\n"
    )
    assert attempt_line(1, "abc", "t", 1).endswith("· 1 setup command\n")
    assert command_line(0, 3) == "[hive] setup 1/3\n"
    assert command_line(0, 3, 1, 2) == "[hive] setup 1/3\n", "a first try is unmarked"
    assert command_line(1, 3, 2, 3) == "[hive] setup 2/3 · try 2/3\n"


def test_the_log_is_made_private(tmp_path: Path) -> None:
    path = setup_log_path(tmp_path / "logs", "cell")
    append(path, "[hive] setup 1/1\n")
    append(path, "$ true\n")
    assert path.read_text() == "[hive] setup 1/1\n$ true\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_no_log_reads_as_empty(tmp_path: Path) -> None:
    log = read_log(tmp_path / "setup.log")
    assert (log.text, log.end) == ("", 0)
    assert read_chunk(tmp_path / "setup.log", 0) == b""


def test_the_whole_log_and_its_tail(tmp_path: Path) -> None:
    path = tmp_path / "setup.log"
    path.write_bytes(b"one\ntwo\nthree\n")
    assert read_log(path).text == "one\ntwo\nthree\n"
    assert read_log(path).end == 14
    assert read_log(path, tail=2).text == "two\nthree\n"
    assert read_log(path, tail=9).text == "one\ntwo\nthree\n"
    path.write_bytes(b"one\ntwo\npartial")  # a command still writing its line
    assert read_log(path, tail=2).text == "two\npartial"


def test_a_long_log_is_cut_at_a_line_start_under_a_note(tmp_path: Path) -> None:
    path = tmp_path / "setup.log"
    path.write_bytes(b"first line\nsecond\nthird\n")
    cut = read_log(path, cap=10)  # the cap falls inside "second"
    assert cut.text == "[hive] log cut: showing its last 6 of 24 bytes\nthird\n"
    assert cut.end == 24
    at_start = read_log(path, cap=13)  # exactly at the start of "second"
    assert at_start.text.splitlines()[1:] == ["second", "third"]


def test_chunks_are_bounded_reads_from_an_offset(tmp_path: Path) -> None:
    path = tmp_path / "setup.log"
    path.write_bytes(b"abcdef")
    assert read_chunk(path, 2, max_bytes=3) == b"cde"
    assert read_chunk(path, 6) == b""
