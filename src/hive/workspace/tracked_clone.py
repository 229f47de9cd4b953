"""Clone a cell's tracked files from the main checkout, each proved unchanged by git's
stat check against what the main index vouched for, before and after its clone.

The file is opened once and checked through that descriptor (`fstat`): before the
clone, that the inode is the one the index vouched for, unchanged; after it, that
nothing wrote to it meanwhile (a write moves its mtime and ctime past the vouched
ones; the vouched mtime is at least a second older than the index). A file that
fails either check is left for git to write. Blocking; it runs in copy worker
processes, without dulwich (a helper process starts faster without it).
"""

from __future__ import annotations

import errno
import os
import stat
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from hive.workspace.clone import READ_FLAGS, Cloner, copy_symlink
from hive.workspace.tree_copy import CopyStoppedError

_U32 = 0xFFFFFFFF
#: The copy worker's argument that makes it a clone helper (`cow_job.CloneHelper`): it
#: needs none of a checkout's modules, and it is started while a checkout waits.
HELPER_ARGUMENT = "--clone-helper"


class Vouched(NamedTuple):
    """A tracked file as the main index vouches for it: git's mode and stat data, in the
    shape a stat result is compared in (whole nanoseconds; 32-bit size and inode)."""

    path: str
    mode: int
    mtime_ns: int
    ctime_ns: int
    size: int
    ino: int
    uid: int
    gid: int

    @property
    def is_link(self) -> bool:
        return stat.S_ISLNK(self.mode)

    def to_json(self) -> list[Any]:
        return list(self)

    @classmethod
    def from_json(cls, item: list[Any]) -> Vouched:
        return cls(*item)


class Copied(NamedTuple):
    """A clone's own stat result, as far as git keeps it in the cell's index."""

    path: str
    ctime_ns: int
    mtime_ns: int
    dev: int
    ino: int
    uid: int
    gid: int
    size: int

    @classmethod
    def of(cls, path: str, st: os.stat_result) -> Copied:
        return cls(
            path, st.st_ctime_ns, st.st_mtime_ns, st.st_dev, st.st_ino, st.st_uid, st.st_gid,
            st.st_size,
        )  # fmt: skip

    def to_json(self) -> list[Any]:
        return list(self)

    @classmethod
    def from_json(cls, item: list[Any]) -> Copied:
        return cls(*item)


_S_IFMT = 0o170000
#: Opening a tracked path failed because it is no longer that file: git writes it.
_NOT_THAT_FILE = frozenset((errno.ENOENT, errno.ELOOP, errno.ENOTDIR, errno.EISDIR))


def stat_matches(st: os.stat_result, known: Vouched) -> bool:
    """Git's stat check of a file against its index entry: type, exec bit, mtime, ctime,
    size, inode, owner (the device is not compared); times to the nanosecond."""
    if known.is_link:
        kind_ok = st.st_mode & _S_IFMT == stat.S_IFLNK
    else:
        kind_ok = st.st_mode & (_S_IFMT | 0o100) == stat.S_IFREG | (known.mode & 0o100)
    return (
        kind_ok
        and st.st_mtime_ns == known.mtime_ns
        and st.st_ctime_ns == known.ctime_ns
        and st.st_size & _U32 == known.size
        and st.st_ino & _U32 == known.ino
        and st.st_uid == known.uid
        and st.st_gid == known.gid
    )


@dataclass
class ClonedFiles:
    cloned: list[Copied] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    """Paths whose source was not what the index vouched for: git writes them."""
    reflinked_bytes: int = 0
    byte_copies: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "cloned": [c.to_json() for c in self.cloned],
            "changed": self.changed,
            "reflinkedBytes": self.reflinked_bytes,
            "byteCopies": self.byte_copies,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ClonedFiles:
        cloned = [Copied.from_json(item) for item in data["cloned"]]
        return cls(cloned, list(data["changed"]), data["reflinkedBytes"], data["byteCopies"])

    def add(self, other: ClonedFiles) -> None:
        self.cloned += other.cloned
        self.changed += other.changed
        self.reflinked_bytes += other.reflinked_bytes
        self.byte_copies += other.byte_copies


def clone_tracked(
    source: str, dest: str, files: Iterable[Vouched], stop: threading.Event
) -> ClonedFiles:
    """Clone `files` from the checkout at `source` into `dest` (parents made as needed).

    A stop raises CopyStoppedError after the file in hand.
    """
    cloner = Cloner()
    done = ClonedFiles()
    source_prefix, dest_prefix = source.rstrip("/") + "/", dest.rstrip("/") + "/"
    made: set[str] = set()
    for known in files:
        if stop.is_set():
            raise CopyStoppedError("the checkout was stopped before it finished")
        rel = known.path
        parent = rel.rpartition("/")[0]
        if parent and parent not in made:
            os.makedirs(dest_prefix + parent, exist_ok=True)  # noqa: PTH103 - str paths: hot loop
            made.add(parent)
        copied = (_clone_link if known.is_link else _clone_file)(
            cloner, source_prefix + rel, dest_prefix + rel, known
        )
        if copied is None:
            done.changed.append(rel)
        else:
            done.cloned.append(Copied.of(rel, copied))
    done.reflinked_bytes, done.byte_copies = cloner.reflinked_bytes, cloner.fallback
    return done


def _clone_file(cloner: Cloner, source: str, target: str, known: Vouched) -> os.stat_result | None:
    try:
        # Non-blocking: a FIFO put at a tracked path would hold a plain open for ever.
        src = os.open(source, READ_FLAGS | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno in _NOT_THAT_FILE:
            return None  # gone or another kind of file now
        raise
    try:
        st = os.fstat(src)
        if not stat_matches(st, known):
            return None
        # The mode git's checkout gives it, not the source's (a chmod there stays there).
        checkout_mode = 0o777 if known.mode & 0o100 else 0o666
        copied = cloner.copy_open(src, st, target, checkout_mode=checkout_mode)
        # Written to since it was checked? git's `checkout-index -f` replaces the clone.
        return copied if stat_matches(os.fstat(src), known) else None
    finally:
        os.close(src)


def _clone_link(_cloner: Cloner, source: str, target: str, known: Vouched) -> os.stat_result | None:
    try:
        if not stat_matches(os.lstat(source), known):
            return None
        copy_symlink(source, target)
        if not stat_matches(os.lstat(source), known):
            return None
    except OSError as exc:
        if exc.errno in _NOT_THAT_FILE or exc.errno == errno.EINVAL:
            return None  # gone, not a link any more, or a parent not a directory
        raise
    return os.lstat(target)


def split_by_directory(files: Sequence[Vouched], parts: int) -> list[list[Vouched]]:
    """`files` in `parts` shares of about as many files, no directory split between two
    (two processes filling one directory wait on its lock). Each keeps the given order."""
    by_directory: dict[str, list[Vouched]] = {}
    for known in files:
        by_directory.setdefault(known.path.rpartition("/")[0], []).append(known)
    shares: list[list[Vouched]] = [[] for _ in range(max(1, parts))]
    for group in sorted(by_directory.values(), key=len, reverse=True):
        min(shares, key=len).extend(group)
    return shares
