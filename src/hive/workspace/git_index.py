"""A git index read and written through dulwich: the only place that knows its format.

A copy-on-write checkout reads the main checkout's index (which files git already
vouches for, and the stat data it vouched with) and writes the cell's own: blob ids
from git, stat data from the files as they lie in the cell. Blocking; run in a thread.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dulwich.index import (
    EXTENDED_FLAG_INTEND_TO_ADD,
    EXTENDED_FLAG_SKIP_WORKTREE,
    FLAG_VALID,
    ConflictedIndexEntry,
    Index,
    IndexEntry,
)
from dulwich.objects import ObjectID

_U32 = 0xFFFFFFFF
SPLIT_INDEX = b"link"
SPARSE_INDEX = b"sdir"


@dataclass(frozen=True)
class StatData:
    """The stat fields git keeps per entry, as git keeps them (32-bit, seconds + ns)."""

    ctime: tuple[int, int]
    mtime: tuple[int, int]
    dev: int
    ino: int
    uid: int
    gid: int
    size: int

    @classmethod
    def of(cls, st: os.stat_result) -> StatData:
        return cls(
            ctime=_split_ns(st.st_ctime_ns),
            mtime=_split_ns(st.st_mtime_ns),
            dev=st.st_dev & _U32,
            ino=st.st_ino & _U32,
            uid=st.st_uid & _U32,
            gid=st.st_gid & _U32,
            size=st.st_size & _U32,
        )


def _split_ns(ns: int) -> tuple[int, int]:
    seconds, nanos = divmod(ns, 1_000_000_000)
    return seconds & _U32, nanos


@dataclass(frozen=True)
class MainEntry:
    """One stage-0 entry of the main checkout's index."""

    sha: bytes
    mode: int
    stat: StatData
    trusted: bool
    """False when git itself would not trust the stat data: assume-unchanged,
    skip-worktree or intent-to-add entries."""


@dataclass(frozen=True)
class MainIndex:
    entries: dict[bytes, MainEntry]
    """Stage-0 entries; a path with conflict stages is left out (it is not clean)."""
    mtime_s: int
    """Whole seconds of the index file's mtime: an entry not older is racy."""
    version: int
    extensions: frozenset[bytes]
    skip_worktree: bool
    """Some entry has the skip-worktree bit (a sparse checkout)."""


def read_main_index(path: Path) -> MainIndex:
    """Read the index at `path` (a missing index reads as empty)."""
    mtime_s = path.stat().st_mtime_ns // 1_000_000_000 if path.exists() else 0
    index = Index(path)
    entries: dict[bytes, MainEntry] = {}
    skip_worktree = False
    for name, entry in index.items():
        if isinstance(entry, ConflictedIndexEntry):
            continue
        skip = bool(entry.extended_flags & EXTENDED_FLAG_SKIP_WORKTREE)
        skip_worktree |= skip
        untrusted = (
            skip
            or bool(entry.flags & FLAG_VALID)
            or bool(entry.extended_flags & EXTENDED_FLAG_INTEND_TO_ADD)
        )
        entries[name] = MainEntry(
            sha=bytes(entry.sha),
            mode=entry.mode,
            stat=StatData(
                ctime=_pair(entry.ctime),
                mtime=_pair(entry.mtime),
                dev=entry.dev,
                ino=entry.ino,
                uid=entry.uid,
                gid=entry.gid,
                size=entry.size,
            ),
            trusted=not untrusted,
        )
    version = index._version or 2  # dulwich keeps the version it read only here
    signatures = frozenset(ext.signature for ext in index._extensions)
    return MainIndex(entries, mtime_s, version, signatures, skip_worktree)


def _pair(value: int | float | tuple[int, int]) -> tuple[int, int]:
    if isinstance(value, tuple):
        return value[0], value[1]
    seconds = int(value)
    return seconds, int((value - seconds) * 1_000_000_000)


@dataclass(frozen=True)
class CellEntry:
    """An entry of the cell's index: git's blob id and mode, the cell file's stat."""

    path: bytes
    sha: bytes
    mode: int
    stat: StatData


def write_index(path: Path, entries: Iterable[CellEntry], version: int = 2) -> None:
    """Write an index holding exactly `entries` at `path` (replaced atomically)."""
    index = Index(path, read=False, version=version if version in (2, 3, 4) else 2)
    for entry in entries:
        st = entry.stat
        index[entry.path] = IndexEntry(
            ctime=st.ctime,
            mtime=st.mtime,
            dev=st.dev,
            ino=st.ino,
            mode=entry.mode,
            uid=st.uid,
            gid=st.gid,
            size=st.size,
            sha=ObjectID(entry.sha),
        )
    index.write()


def racy_entries(index_path: Path, entries: Iterable[CellEntry]) -> list[bytes]:
    """Entries git would re-hash: mtime not older than the index file's, in whole seconds.

    Git built without nanosecond support (Debian's) compares seconds only, so the
    whole-second rule is the one that holds for every build.
    """
    index_s = index_path.stat().st_mtime_ns // 1_000_000_000
    return [e.path for e in entries if e.stat.mtime[0] >= index_s]


def mode_of(st: os.stat_result) -> int:
    """The mode git records for a file as it lies on disk."""
    if stat.S_ISLNK(st.st_mode):
        return stat.S_IFLNK
    return stat.S_IFREG | (0o755 if st.st_mode & 0o100 else 0o644)
