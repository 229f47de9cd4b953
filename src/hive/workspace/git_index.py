"""A git index read and written through dulwich: the only place that knows its format.

A copy-on-write checkout reads the main checkout's index (which files git already
vouches for, and the stat data it vouched with) and writes the cell's own: blob ids
from git, stat data from the files as they lie in the cell. Dulwich's entry-level
reader and writer are used over a buffer (its `Index` class builds an object per entry
and costs four times as much on 10,000 entries). Blocking; run in a thread.
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from dulwich.errors import ChecksumMismatch
from dulwich.file import GitFile
from dulwich.index import (
    EXTENDED_FLAG_INTEND_TO_ADD,
    EXTENDED_FLAG_SKIP_WORKTREE,
    FLAG_VALID,
    IndexChecksumReader,
    IndexChecksumWriter,
    IndexEntry,
    SerializedIndexEntry,
    UnsupportedIndexFormat,
    read_index_dict_with_version,
    read_index_header,
)
from dulwich.index import write_index as dulwich_write_index
from dulwich.objects import ObjectID

_U32 = 0xFFFFFFFF
SPLIT_INDEX = b"link"
SPARSE_INDEX = b"sdir"


class StatData(NamedTuple):
    """The stat fields git keeps per entry, as git keeps them (32-bit, seconds + ns).

    Tuples, not dataclasses: a checkout makes one per file (tens of thousands)."""

    ctime: tuple[int, int]
    mtime: tuple[int, int]
    dev: int
    ino: int
    uid: int
    gid: int
    size: int

    @classmethod
    def of(cls, st: os.stat_result) -> StatData:
        return cls.from_ns(
            st.st_ctime_ns, st.st_mtime_ns, st.st_dev, st.st_ino, st.st_uid, st.st_gid,
            st.st_size,
        )  # fmt: skip

    @classmethod
    def from_ns(
        cls, ctime_ns: int, mtime_ns: int, dev: int, ino: int, uid: int, gid: int, size: int
    ) -> StatData:
        """From a stat result's fields (times in nanoseconds), cut to git's 32 bits."""
        return cls(
            ctime=_split_ns(ctime_ns),
            mtime=_split_ns(mtime_ns),
            dev=dev & _U32,
            ino=ino & _U32,
            uid=uid & _U32,
            gid=gid & _U32,
            size=size & _U32,
        )


NO_STAT = StatData(ctime=(0, 0), mtime=(0, 0), dev=0, ino=0, uid=0, gid=0, size=0)


def _split_ns(ns: int) -> tuple[int, int]:
    seconds, nanos = divmod(ns, 1_000_000_000)
    return seconds & _U32, nanos


def recorded_stat(entry: IndexEntry) -> StatData:
    """An index entry's stat data, in the shape `StatData.of` gives a file's."""
    return StatData(
        ctime=time_pair(entry.ctime),
        mtime=time_pair(entry.mtime),
        dev=entry.dev,
        ino=entry.ino,
        uid=entry.uid,
        gid=entry.gid,
        size=entry.size,
    )


def time_pair(value: int | float | tuple[int, int]) -> tuple[int, int]:
    """An entry's time as (seconds, nanoseconds), whichever form dulwich holds it in."""
    if isinstance(value, tuple):
        return value[0], value[1]
    seconds = int(value)
    return seconds, int((value - seconds) * 1_000_000_000)


def trusted(entry: IndexEntry) -> bool:
    """Whether git itself trusts the entry's stat data: not assume-unchanged,
    skip-worktree or intent-to-add."""
    return not (
        entry.flags & FLAG_VALID
        or entry.extended_flags & (EXTENDED_FLAG_SKIP_WORKTREE | EXTENDED_FLAG_INTEND_TO_ADD)
    )


class UnreadableIndexError(ValueError):
    """An index dulwich cannot read (damaged, truncated, a format it does not know)."""


@dataclass(frozen=True)
class MainIndex:
    entries: dict[bytes, IndexEntry]
    """Stage-0 entries; a path with conflict stages is left out (it is not clean)."""
    mtime_s: int
    """Whole seconds of the index file's mtime: an entry not older is racy."""
    version: int
    extensions: frozenset[bytes]
    skip_worktree: bool
    """Some entry has the skip-worktree bit (a sparse checkout)."""


def read_main_index(path: Path) -> MainIndex:
    """Read the index at `path`, checksum checked (a missing index reads as empty)."""
    try:
        with path.open("rb") as file:
            mtime_s = os.fstat(file.fileno()).st_mtime_ns // 1_000_000_000
            data = file.read()
    except FileNotFoundError:
        return MainIndex({}, 0, 2, frozenset(), skip_worktree=False)
    reader = IndexChecksumReader(io.BytesIO(data))
    try:
        read, version, extensions = read_index_dict_with_version(reader)
        reader.check_checksum()
    except (
        ChecksumMismatch,
        UnsupportedIndexFormat,
        AssertionError,
        ValueError,
        struct.error,
    ) as exc:
        raise UnreadableIndexError(f"cannot read the index {path}: {exc}") from exc
    entries = {name: entry for name, entry in read.items() if isinstance(entry, IndexEntry)}
    skip_worktree = any(
        entry.extended_flags & EXTENDED_FLAG_SKIP_WORKTREE for entry in entries.values()
    )
    signatures = frozenset(ext.signature for ext in extensions)
    return MainIndex(entries, mtime_s, version, signatures, skip_worktree)


class CellEntry(NamedTuple):
    """An entry of the cell's index: git's blob id and mode, the cell file's stat."""

    path: bytes
    sha: bytes
    mode: int
    stat: StatData


def write_index(path: Path, entries: Iterable[CellEntry], version: int = 2) -> None:
    """Write an index holding exactly `entries` at `path`, through a lock file as git does."""
    serialized = [
        SerializedIndexEntry(
            name=e.path,
            ctime=e.stat.ctime,
            mtime=e.stat.mtime,
            dev=e.stat.dev,
            ino=e.stat.ino,
            mode=e.mode,
            uid=e.stat.uid,
            gid=e.stat.gid,
            size=e.stat.size,
            sha=ObjectID(e.sha),
            flags=0,
            extended_flags=0,
        )
        for e in sorted(entries, key=lambda e: e.path)
    ]
    buffer = io.BytesIO()
    writer = IndexChecksumWriter(buffer)
    dulwich_write_index(writer, serialized, version=version if version in (2, 3, 4) else 2)
    writer.write_checksum()
    with GitFile(path, "wb") as file:
        file.write(buffer.getvalue())


def racy_entries(index_path: Path, entries: Iterable[CellEntry]) -> list[bytes]:
    """Entries git would re-hash: mtime not older than the index file's, in whole seconds.

    Git built without nanosecond support (Debian's) compares seconds only, so the
    whole-second rule is the one that holds for every build.
    """
    index_s = index_path.stat().st_mtime_ns // 1_000_000_000
    return [e.path for e in entries if e.stat.mtime[0] >= index_s]


def entry_count(path: Path) -> int:
    """How many entries the index at `path` holds, from its header alone."""
    with path.open("rb") as file:
        return read_index_header(file)[1]
