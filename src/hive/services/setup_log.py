"""A cell's setup log, `<logs>/<cell>/setup.log`: every setup command of every attempt.

Each run of `run_setup` appends an attempt line, then per command an index line before
the `$ command` line, output and exit note that `shell.run_shell_command` writes:

    [hive] attempt 2 · run 3f…e1 · 2026-12-01T10:00:00.000Z · 3 setup commands
    [hive] setup 1/3
    $ npm ci
    …
    [hive] exit code 0

A command written with `retries` that failed is run again under a try mark:

    [hive] setup 1/3 · try 2/3

Hive's own lines carry numbers, ids and times only, never an environment value. The
file is only ever appended to. Every function here blocks: call it in a thread.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: What a whole-log read returns at most; older bytes are left out, with a note.
READ_CAP_BYTES = 4 * 1024 * 1024
#: One read of a follower: what one stream event carries at most.
CHUNK_BYTES = 64 * 1024


def setup_log_path(logs_root: Path, cell_id: str) -> Path:
    return logs_root / cell_id / "setup.log"


def attempt_line(attempt: int, run_id: str, at: str, commands: int) -> str:
    plural = "" if commands == 1 else "s"
    return f"[hive] attempt {attempt} · run {run_id} · {at} · {commands} setup command{plural}\n"


def command_line(index: int, total: int, try_number: int = 1, tries: int = 1) -> str:
    """The mark before command `index` (0-based) of `total`; the `$` line follows. A
    command with retries says which try this is, from its second on."""
    again = f" · try {try_number}/{tries}" if try_number > 1 else ""
    return f"[hive] setup {index + 1}/{total}{again}\n"


def append(path: Path, text: str) -> None:
    """Append Hive's own line(s), creating the log as private as the others (0600 in 0700)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


@dataclass(frozen=True)
class LogText:
    text: str
    end: int
    """The byte offset the text reaches: a stream resumed `after` it goes on from there."""


def read_log(path: Path, *, tail: int | None = None, cap: int = READ_CAP_BYTES) -> LogText:
    """The whole log, or its last `tail` lines; never more than `cap` bytes of it.

    A log cut at the cap starts at a line boundary, under a note saying what was left
    out. No log yet reads as empty text at offset 0.
    """
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            begin = max(0, size - cap)
            # One byte early: it tells whether the cut falls at the start of a line.
            handle.seek(max(0, begin - 1))
            data = handle.read(size - handle.tell())
            end = handle.tell()
    except FileNotFoundError:
        return LogText("", 0)
    if begin > 0:
        newline = data.find(b"\n")
        data = data[newline + 1 :] if newline >= 0 else b""
    if tail is not None:
        data = _last_lines(data, tail)
        return LogText(data.decode("utf-8", errors="replace"), end)
    text = data.decode("utf-8", errors="replace")
    if begin > 0:
        text = f"[hive] log cut: showing its last {len(data)} of {end} bytes\n{text}"
    return LogText(text, end)


def _last_lines(data: bytes, count: int) -> bytes:
    if count <= 0:
        return b""
    cut = len(data) - 1 if data.endswith(b"\n") else len(data)
    for _ in range(count):
        cut = data.rfind(b"\n", 0, cut)
        if cut < 0:
            return data
    return data[cut + 1 :]


def read_chunk(path: Path, offset: int, max_bytes: int = CHUNK_BYTES) -> bytes:
    """Up to `max_bytes` written after byte `offset`; nothing when there is no log yet."""
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            return handle.read(max_bytes)
    except FileNotFoundError:
        return b""
