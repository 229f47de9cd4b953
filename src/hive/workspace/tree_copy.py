"""Carry out walked copy work: make the directories, copy files and links on threads.

Blocking by design, and free of patterns: `include_copy.copy_included` runs it in a
worker process (`copy_worker`) for whole trees and on a thread for single files, and
reads `Progress` meanwhile.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hive.core.errors import StepError
from hive.workspace.clone import Cloner, copy_symlink, unsure_mode_bits
from hive.workspace.tree_walk import CopyWork

_CHUNK = 256
_ERRORS_LISTED = 5


_ChunkResult = tuple[int, int, int, list[str], list[str]]
"""Files, symlinks, bytes, vanished paths, failures."""


def default_copy_threads() -> int:
    """Threads for byte copies when nobody chose: the cores, at least two."""
    return max(2, os.cpu_count() or 2)


class CopyStoppedError(Exception):
    """The copy ended early because `TreeCopier.stop` was set."""


class Progress:
    """Counters the copy threads bump and the event loop reads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.total = 0
        self.done = 0
        self.bytes = 0

    def add(self, files: int, size: int) -> None:
        with self._lock:
            self.done += files
            self.bytes += size

    def grow(self, items: int) -> None:
        with self._lock:
            self.total += items

    def set(self, done: int, total: int, size: int) -> None:
        """Take counts from elsewhere (a worker process reports them)."""
        with self._lock:
            self.done, self.total, self.bytes = done, total, size

    def snapshot(self) -> tuple[int, int, int]:
        with self._lock:
            return self.done, self.total, self.bytes


@dataclass
class CopyTotals:
    """What a copy did; JSON-able, so a worker process can hand it back."""

    files: int = 0
    symlinks: int = 0
    bytes: int = 0
    directories: int = 0
    reflinked: int = 0
    reflinked_bytes: int = 0
    """Bytes of the files cloned: shared with the source until either changes."""
    fallback: int = 0
    threads: int = 0
    missing: list[str] = field(default_factory=list)
    """Paths that vanished between the listing and the copy: reported, not fatal."""
    missing_count: int = 0
    failed: list[str] = field(default_factory=list)
    """`path: reason` of files that could not be copied."""
    failed_count: int = 0
    worker_cpu_ms: float = 0.0
    """CPU time of the worker process that copied (0 when copied on a thread)."""

    def to_json(self, listed: int = 100) -> dict[str, Any]:
        """JSON, with at most `listed` missing and failed paths (the counts are exact)."""
        data = asdict(self)
        data["missing"], data["failed"] = self.missing[:listed], self.failed[:listed]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CopyTotals:
        return cls(**data)

    def raise_for_failures(self) -> None:
        if self.failed_count:
            listed = "; ".join(self.failed[:_ERRORS_LISTED])
            extra = self.failed_count - _ERRORS_LISTED
            more = f" (and {extra} more)" if extra > 0 else ""
            raise StepError(
                f"could not copy {self.failed_count} included file(s): {listed}{more}",
                hint="check those files' permissions, or exclude them with ignorePatterns",
            )


class TreeCopier:
    """Makes walked copy work real under `dest`; reflinks first (see `Cloner`)."""

    def __init__(
        self,
        repo: Path,
        dest: Path,
        cloner: Cloner | None = None,
        threads: int | None = None,
    ) -> None:
        """`threads` fixes the thread count; None picks it from what the first files show."""
        self._dest = os.path.realpath(dest)
        # Paths are joined by concatenation: os.path.join costs more than a clone.
        self._source_prefix = str(repo).rstrip("/") + "/"
        self._target_prefix = self._dest.rstrip("/") + "/"
        self._cloner = cloner or Cloner()
        self._mkdir_unsure = unsure_mode_bits()
        self._inherits_setgid = False
        self._threads = None if threads is None else max(1, threads)
        self.progress = Progress()
        self.threads = 0
        """How many threads copied files (known once `run` has copied)."""
        self.stop = threading.Event()
        """Set from another thread to end the copy early (the cell is being deleted)."""

    def run(self, work: CopyWork) -> CopyTotals:
        """Make the directories, copy the files and links.

        Files that cannot be copied are listed in the totals' `failed`; the caller
        decides (`CopyTotals.raise_for_failures`). A stop raises CopyStoppedError.
        """
        return self.run_batches([work])

    def run_batches(self, batches: Iterable[CopyWork]) -> CopyTotals:
        """`run` for work that arrives in batches (`tree_walk.walk_in_batches`)."""
        totals = CopyTotals()
        os.makedirs(self._dest, exist_ok=True)
        self._inherits_setgid = bool(os.stat(self._dest).st_mode & stat.S_ISGID)
        for batch in batches:
            if self.stop.is_set():
                break
            self.progress.grow(batch.items)
            totals.missing += batch.missing
            self._make_directories(batch, totals)
            totals.failed += self._copy_all(batch, totals)
        if self.stop.is_set():
            raise CopyStoppedError("the include-copy was stopped before it finished")
        totals.missing_count, totals.failed_count = len(totals.missing), len(totals.failed)
        totals.reflinked, totals.fallback = self._cloner.reflinked, self._cloner.fallback
        totals.reflinked_bytes = self._cloner.reflinked_bytes
        totals.threads = self.threads or 1
        return totals

    # -- directories ---------------------------------------------------------------

    def _target(self, rel: str) -> str:
        return self._target_prefix + rel

    def _make_directories(self, work: CopyWork, totals: CopyTotals) -> None:
        created = {rel for rel, _ in work.dirs}
        for parent in sorted(work.parents - created):
            if parent:
                self._ensure_parent(parent)
        for rel, mode in sorted(work.dirs):  # parents sort before their children
            target = self._target(rel)
            mode |= stat.S_IRWXU  # the owner must be able to fill it
            try:
                os.mkdir(target, mode)
            except FileExistsError:
                if not stat.S_ISDIR(os.lstat(target).st_mode):
                    raise StepError(
                        f"cannot copy directory {rel}: something else has that name in the "
                        "worktree",
                        hint="exclude it with ignorePatterns or remove it from the repository",
                    ) from None
                os.chmod(target, mode)
            else:
                if mode & self._mkdir_unsure or self._inherits_setgid:
                    os.chmod(target, mode)  # mkdir could not give it exactly
                    # Below a setgid directory every new one inherits it: check them all.
                    self._inherits_setgid |= bool(mode & stat.S_ISGID)
            totals.directories += 1

    def _ensure_parent(self, rel: str) -> None:
        """Create a parent directory inside the worktree, never through a symlink."""
        target = self._target(rel)
        existing = target
        while not os.path.lexists(existing):
            existing = os.path.dirname(existing)
        # Checked before anything is made: what exists must resolve inside the worktree.
        real = os.path.realpath(existing)
        if real != self._dest and not real.startswith(self._dest + os.sep):
            raise StepError(
                f"refusing to copy into {rel}: in the worktree it leads outside the worktree",
                hint="a symlink in the repository points elsewhere; exclude files below it",
            )
        os.makedirs(target, exist_ok=True)

    # -- files ---------------------------------------------------------------------

    def _copy_all(self, work: CopyWork, totals: CopyTotals) -> list[str]:
        items = [(rel, False) for rel in work.files] + [(rel, True) for rel in work.links]
        chunks = [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]
        errors: list[str] = []

        def tally(result: _ChunkResult) -> None:
            files, links, size, missing, failed = result
            totals.files += files
            totals.symlinks += links
            totals.bytes += size
            totals.missing.extend(missing)
            errors.extend(failed)

        cloner, start = self._cloner, 0
        # One chunk at a time until a file with data shows whether this destination clones.
        while start < len(chunks) and not (self.threads or cloner.reflinked or cloner.fallback):
            tally(self._copy_chunk(chunks[start]))
            start += 1
            if cloner.reflink_refused:
                break
        if start == len(chunks):
            return errors
        threads = self._threads or self.threads or self._threads_for(cloner)
        if threads == 1:
            for chunk in chunks[start:]:
                tally(self._copy_chunk(chunk))
        else:
            with ThreadPoolExecutor(threads, thread_name_prefix="hive-copy") as pool:
                for result in pool.map(self._copy_chunk, chunks[start:]):
                    tally(result)
        self.threads = threads
        return errors

    @staticmethod
    def _threads_for(cloner: Cloner) -> int:
        # A clone is a short system call between bits of interpreter work, so clones on
        # threads of one interpreter queue on its lock, and the file system serialises
        # them anyway (btrfs, 20,000 files: 1 thread 1.0 s, 2 threads 1.4 s, 8 threads
        # 1.7 s; 2 processes no faster than 1). Byte copies wait on the disk: threads help.
        if cloner.reflinked and not cloner.reflink_refused:
            return 1
        return default_copy_threads()

    def _copy_chunk(self, chunk: list[tuple[str, bool]]) -> _ChunkResult:
        files = links = size = 0
        missing: list[str] = []
        failed: list[str] = []
        if self.stop.is_set():
            return 0, 0, 0, [], []
        source_prefix, target_prefix = self._source_prefix, self._target_prefix
        copy_file = self._cloner.copy_file
        for rel, is_link in chunk:
            source, target = source_prefix + rel, target_prefix + rel
            try:
                if is_link:
                    copy_symlink(source, target)
                    links += 1
                else:
                    try:
                        size += copy_file(source, target)
                        files += 1
                    except OSError as exc:
                        if exc.errno != errno.ELOOP:  # O_NOFOLLOW met a symlink
                            raise
                        copy_symlink(source, target)
                        links += 1
            except FileNotFoundError:
                missing.append(rel)  # removed since it was listed: not fatal
            except OSError as exc:
                failed.append(f"{rel}: {exc.strerror or exc}")
        self.progress.add(len(chunk), size)
        return files, links, size, missing, failed
