"""Copy chosen ignored files (`.env`, `node_modules/**`, …) from the repository into a worktree.

A worktree holds only tracked files; this brings along the ignored ones a cell needs.
Candidates come from git itself (`git ls-files --others --ignored --directory`), so an
ignored directory such as `node_modules/` is one entry, not 20,000: it is copied whole
when a static root names it, searched only when a file pattern could match inside it,
and skipped otherwise. `.worktreeinclude` at the repository root (gitignore syntax)
adds its patterns to every template's. Copies are exact (files' modes and times,
directories' modes, symlinks as symlinks), reflinked where the file system can, and
made off the event loop: whole trees in a worker process, single files on a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from hive.core.errors import InvalidInputError, StepError
from hive.workspace.copy_process import CopyWorker, CopyWorkerPool, wait_through_cancel
from hive.workspace.git import run_git
from hive.workspace.include_rules import IncludeRules
from hive.workspace.tree_copy import CopyTotals, Progress, TreeCopier
from hive.workspace.tree_walk import (
    CopyPlan,
    CopyWork,
    WalkSummary,
    walk_in_batches,
    walk_plan,
)

WORKTREEINCLUDE = ".worktreeinclude"
_MISSING_LISTED = 20
_PROGRESS_EVERY_S = 0.5
T = TypeVar("T")


@dataclass(frozen=True)
class CopyProgress:
    done: int
    total: int
    bytes: int


ProgressCallback = Callable[[CopyProgress], Awaitable[None]]


@dataclass
class CopyReport:
    """What one include-copy did; `metadata()` is the shape stored with timing rows."""

    patterns: list[str]
    ignore_patterns: list[str]
    static_roots: list[str] = field(default_factory=list)
    worktreeinclude: list[str] = field(default_factory=list)
    candidates: int = 0
    trees: int = 0
    searched_dirs: int = 0
    files: int = 0
    symlinks: int = 0
    directories: int = 0
    bytes: int = 0
    reflinked: int = 0
    reflinked_bytes: int = 0
    """Bytes of the reflinked files: a cell's disk measurement counts them as shared."""
    fallback: int = 0
    threads: int = 0
    worker: str = ""
    worker_cpu_ms: float = 0.0
    missing: list[str] = field(default_factory=list)
    missing_count: int = 0
    enumerate_ms: float = 0.0
    walk_ms: float = 0.0
    copy_ms: float = 0.0
    """From the first file to the last; for trees it overlaps the walk."""

    def metadata(self) -> dict[str, Any]:
        return {
            "patterns": list(self.patterns),
            "ignorePatterns": list(self.ignore_patterns),
            "worktreeinclude": list(self.worktreeinclude),
            "staticRoots": list(self.static_roots),
            "candidates": self.candidates,
            "trees": self.trees,
            "searchedDirs": self.searched_dirs,
            "files": self.files,
            "symlinks": self.symlinks,
            "directories": self.directories,
            "bytes": self.bytes,
            "reflinked": self.reflinked,
            "reflinkedBytes": self.reflinked_bytes,
            "fallback": self.fallback,
            "threads": self.threads,
            "worker": self.worker,
            "workerCpuMs": self.worker_cpu_ms,
            "missing": self.missing[:_MISSING_LISTED],
            "missingCount": max(self.missing_count, len(self.missing)),
            "enumerateMs": round(self.enumerate_ms, 3),
            "walkMs": round(self.walk_ms, 3),
            "copyMs": round(self.copy_ms, 3),
        }


def read_worktreeinclude(repo: Path) -> list[str]:
    """Patterns of `.worktreeinclude` (gitignore syntax: comments and blanks skipped)."""
    try:
        text = (repo / WORKTREEINCLUDE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise StepError(f"cannot read {repo / WORKTREEINCLUDE}: {exc}") from exc
    patterns = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if not line or line.startswith("#"):
            continue
        try:
            IncludeRules.build([line], [])
        except InvalidInputError as exc:
            raise StepError(
                f"{repo / WORKTREEINCLUDE}:{number}: {exc.message}",
                hint="fix or remove that line; patterns are relative to the repository",
            ) from exc
        patterns.append(line)
    return patterns


async def list_ignored(repo: Path) -> list[str]:
    """Ignored, untracked entries; fully ignored directories end in `/` and are not entered."""
    result = await run_git(
        repo, "ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory"
    )
    return [entry for entry in result.stdout.split("\0") if entry]


def plan_copy(entries: Sequence[str], rules: IncludeRules) -> CopyPlan:
    """Decide per git entry: copy whole, search inside, copy the file, or skip."""
    plan = CopyPlan()
    # An untracked directory that is not ignored as a whole is listed *and* its ignored
    # contents are listed one by one; only directories listed alone are collapsed.
    containers = {parent for entry in entries for parent in _ancestors(entry.rstrip("/"))}
    for entry in entries:
        if entry.endswith("/"):
            directory = entry.rstrip("/")
            if directory in containers:
                continue
            if rules.root_covering(directory) or rules.includes_dir(directory):
                plan.trees.append(directory)
                continue
            plan.trees.extend(rules.roots_within(directory))
            if rules.may_match_within(directory):
                plan.walks.append(directory)
        elif rules.selects(entry):
            plan.files.append(entry)
    return plan


def _ancestors(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


async def copy_included(
    repo: Path,
    dest: Path,
    include_patterns: Sequence[str],
    ignore_patterns: Sequence[str],
    *,
    on_progress: ProgressCallback | None = None,
    threads: int | None = None,
    in_worker: bool = True,
    worker_pool: CopyWorkerPool | None = None,
) -> CopyReport:
    """Copy the repository's ignored files selected by the patterns into `dest`.

    `repo` is the repository's top level. Nothing here blocks the event loop: git runs
    as a subprocess, the walk on a thread, and the copy of whole trees in a worker
    process (`copy_worker`; on a thread when `in_worker` is false), which does not
    compete with the server for the interpreter lock (taken from `worker_pool` when
    given, else started for this copy). `threads` fixes the copy's
    threads (default: one for clones, several for byte copies). `on_progress` is
    awaited about twice a second while files are copied.
    """
    extra = await asyncio.to_thread(read_worktreeinclude, repo)
    report = CopyReport(
        patterns=list(include_patterns),
        ignore_patterns=list(ignore_patterns),
        worktreeinclude=extra,
    )
    rules = IncludeRules.build([*include_patterns, *extra], ignore_patterns)
    report.static_roots = list(rules.static_roots)
    if rules.empty:
        return report

    began = time.perf_counter()
    entries = await list_ignored(repo)
    plan = await asyncio.to_thread(plan_copy, entries, rules)
    report.candidates = len(entries)
    report.trees, report.searched_dirs = len(plan.trees), len(plan.walks)
    report.enumerate_ms = (time.perf_counter() - began) * 1000

    # Trees (thousands of files, often) are copied by a worker process (one started
    # ahead when there is a pool) that copies each batch of the walk as it comes, so
    # the copy's time includes the walk's. Single files (`.env`) copy on a thread here.
    began = time.perf_counter()
    if in_worker and (plan.trees or plan.walks):
        report.worker = "process"
        progress = Progress()
        copying = asyncio.ensure_future(
            _walk_into_worker(repo, dest, plan, rules, progress, threads, worker_pool)
        )
        summary, totals = await _stopped_on_cancel(copying, copying.cancel, progress, on_progress)
        report.walk_ms = summary.walk_ms
    else:
        report.worker = "thread"
        stop_walk = threading.Event()
        walked = await _stopped_on_cancel(
            asyncio.ensure_future(asyncio.to_thread(walk_plan, repo, plan, rules, stop_walk)),
            stop_walk.set,
        )
        report.walk_ms = walked.walk_ms
        began = time.perf_counter()
        copier = TreeCopier(repo, dest, threads=threads)
        totals = await _stopped_on_cancel(
            asyncio.ensure_future(asyncio.to_thread(copier.run, walked)),
            copier.stop.set,
            copier.progress,
            on_progress,
        )
    totals.raise_for_failures()
    report.copy_ms = (time.perf_counter() - began) * 1000
    report.files, report.symlinks = totals.files, totals.symlinks
    report.directories, report.bytes = totals.directories, totals.bytes
    report.missing, report.missing_count = totals.missing, totals.missing_count
    report.reflinked, report.fallback = totals.reflinked, totals.fallback
    report.reflinked_bytes = totals.reflinked_bytes
    report.threads, report.worker_cpu_ms = totals.threads, totals.worker_cpu_ms
    return report


async def _walk_into_worker(
    repo: Path,
    dest: Path,
    plan: CopyPlan,
    rules: IncludeRules,
    progress: Progress,
    threads: int | None,
    worker_pool: CopyWorkerPool | None,
) -> tuple[WalkSummary, CopyTotals]:
    """Walk on a thread and stream the batches to a worker process that copies them.

    Returns the walk's summary and the copy's totals. Cancelled, or should either side
    fail, both stop (the worker has ended) before this returns.
    """
    loop = asyncio.get_running_loop()
    batches: asyncio.Queue[CopyWork | None] = asyncio.Queue()
    stop_walk = threading.Event()

    def hand_over(batch: CopyWork) -> None:
        loop.call_soon_threadsafe(batches.put_nowait, batch)

    worker = await (worker_pool.take() if worker_pool else CopyWorker.start())
    copying = asyncio.ensure_future(worker.copy(repo, dest, batches, progress, threads=threads))
    copying.add_done_callback(lambda _: stop_walk.set())  # a failed copy needs no more
    walking = asyncio.ensure_future(
        asyncio.to_thread(walk_in_batches, repo, plan, rules, hand_over, stop_walk)
    )
    try:
        walked = await asyncio.shield(walking)  # a thread: cancelling would not stop it
        batches.put_nowait(None)  # after every batch: they were queued before the result
        totals = await copying
    except BaseException:
        stop_walk.set()
        copying.cancel()
        await wait_through_cancel(asyncio.ensure_future(asyncio.wait([walking, copying])))
        raise
    finally:
        await wait_through_cancel(asyncio.ensure_future(worker.close()))
    return walked, totals


async def _stopped_on_cancel(
    running: asyncio.Future[T],
    stop: Callable[[], object],
    progress: Progress | None = None,
    on_progress: ProgressCallback | None = None,
) -> T:
    """Await work on a thread or in a worker, reporting progress about twice a second.

    Cancelling does not stop a thread: on cancel, ask the work to stop and wait until it
    has, so whoever cancelled (a delete) never removes the target while files land.
    """
    try:
        while not running.done():
            await asyncio.wait([running], timeout=_PROGRESS_EVERY_S)
            if progress is not None and on_progress is not None:
                done, total, size = progress.snapshot()
                with contextlib.suppress(Exception):  # progress is best-effort
                    await on_progress(CopyProgress(done=done, total=total, bytes=size))
        return running.result()
    except asyncio.CancelledError:
        stop()
        await wait_through_cancel(running)
        if not running.cancelled():
            running.exception()  # stopped, or failed: we are cancelled anyway
        raise
