"""A cell's checkout by copy-on-write clones of the main checkout, where that is exact.

1. `prepare_cow` reads, and changes nothing: the base tree (`git ls-tree`), the main
   checkout's index (dulwich), git's config and attributes. It refuses (`CowUnavailable`,
   with the reason) whatever git should handle (`checkout_plan.unusual`) and a file
   system that cannot clone (`CloneSupport`), and splits the tree between clones and
   files git writes (`checkout_plan.plan_checkout`).
2. `make_cow_worktree` runs `git worktree add --no-checkout`, has the include-copy's
   worker process clone the files in batches (FICLONE first), checks every source
   again (a file changed meanwhile goes to git), has `git checkout-index` write the
   rest, and writes the cell's index last: blob ids from git, stat data from the
   cell's own files (then `git write-tree` adds the cache tree). The clones keep
   their sources' mtimes, which the main index already holds older than itself, so
   none is racy and `git status` re-hashes nothing it cloned; files git wrote follow
   git's own racy rule.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from hive.workspace.checkout_plan import (
    CheckoutPlan,
    TreeEntry,
    parse_ls_tree,
    plan_checkout,
    source_matches,
    unusual,
)
from hive.workspace.checkout_report import CheckoutReport
from hive.workspace.clone_support import CloneSupport
from hive.workspace.copy_process import CopyWorker, CopyWorkerPool, wait_through_cancel
from hive.workspace.git import run_git
from hive.workspace.git_index import (
    NO_STAT,
    CellEntry,
    MainIndex,
    StatData,
    racy_entries,
    read_main_index,
    time_pair,
    write_index,
)
from hive.workspace.git_settings import parse_config, read_attributes
from hive.workspace.tree_copy import CopyTotals, Progress
from hive.workspace.tree_walk import BATCH_ITEMS, CopyWork
from hive.workspace.worktree import (
    add_worktree,
    attach_worktree,
    remove_worktree,
    worktree_git_dir,
)

_CHECK_EVERY_S = 0.05
NO_FILE_VOUCHED_FOR = (
    "the main checkout's index vouches for none of its files (`git status` there refreshes it)"
)


class CowUnavailable(Exception):  # noqa: N818 - a verdict, not a failure
    """This checkout is for `git worktree add`; `reason` says why."""

    def __init__(self, reason: str, files: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.files = files
        """Tracked files of the base tree, when they were listed before the verdict."""


@dataclass(frozen=True)
class CowPrepared:
    main_root: Path
    main: MainIndex
    plan: CheckoutPlan
    began: float
    planned: float
    """`time.perf_counter()` when the decision began and when it was made."""


async def prepare_cow(
    repo: Path, commit: str, cells_dir: Path, support: CloneSupport
) -> CowPrepared:
    """Decide whether `commit` can be checked out by clones from `repo`'s checkout.

    Raises CowUnavailable with the reason when it cannot; changes nothing (but makes
    the cells root, as the checkout would).
    """
    began = time.perf_counter()
    await asyncio.to_thread(cells_dir.mkdir, parents=True, exist_ok=True)
    if reason := await asyncio.to_thread(support.remembered, repo, cells_dir):
        raise CowUnavailable(reason)
    located = await run_git(
        repo, "rev-parse", "--show-toplevel", "--git-path", "index", "--git-common-dir"
    )
    top, index_path, common_dir = located.stdout.splitlines()[:3]
    main_root = Path(top)
    # Independent reads at once: two git processes and the index on a thread.
    configured, listed, main = await asyncio.gather(
        run_git(repo, "config", "-z", "--list"),
        run_git(repo, "ls-tree", "-r", "-z", "--full-tree", "--end-of-options", commit),
        asyncio.to_thread(read_main_index, repo / index_path),
    )
    config = parse_config(configured.stdout)
    tree = parse_ls_tree(os.fsencode(listed.stdout))
    attributes = await read_attributes(repo, repo / common_dir, tree, config)
    if reason := unusual(tree, main, config, attributes):
        raise CowUnavailable(reason, len(tree))
    plan = await asyncio.to_thread(plan_checkout, tree, main)
    if not plan.clone:
        raise CowUnavailable(NO_FILE_VOUCHED_FOR, len(tree))
    probe = next((e for e in plan.clone if not e.is_link and main.entries[e.path].size), None)
    if probe is not None:
        source = main_root / os.fsdecode(probe.path)
        if reason := await asyncio.to_thread(support.refusal, source, cells_dir):
            raise CowUnavailable(reason, len(tree))
    return CowPrepared(main_root, main, plan, began, time.perf_counter())


async def make_cow_worktree(
    repo: Path,
    path: Path,
    branch: str,
    commit: str,
    prepared: CowPrepared,
    *,
    new_branch: bool,
    worker_pool: CopyWorkerPool | None = None,
) -> CheckoutReport:
    """Add the worktree without a checkout, then clone, have git write the rest, index.

    A failure once the worktree exists removes it (the branch stays) and raises
    CowUnavailable: git can still check it out. One before (git refusing the add) is
    raised as it is, as `git worktree add` would have failed the same way.
    """
    if new_branch:
        await add_worktree(repo, path, branch, commit, checkout=False)
    else:
        await attach_worktree(repo, path, branch, checkout=False)
    try:
        return await _fill(path, prepared, worker_pool)
    except Exception as exc:
        await remove_worktree(repo, path)
        raise CowUnavailable(
            f"the copy-on-write checkout failed: {exc}",
            len(prepared.plan.clone) + len(prepared.plan.from_git),
        ) from exc


async def _fill(path: Path, prepared: CowPrepared, pool: CopyWorkerPool | None) -> CheckoutReport:
    plan, main = prepared.plan, prepared.main
    report = CheckoutReport(checkout="cow", reason="the file system clones")
    began = time.perf_counter()
    report.plan_ms = (prepared.planned - prepared.began) * 1000
    report.add_ms = (began - prepared.planned) * 1000
    totals, cloned, changed = await _clone(prepared.main_root, path, plan.clone, main, pool)
    report.byte_copies = totals.fallback
    report.clone_ms = (time.perf_counter() - began) * 1000

    began = time.perf_counter()
    git_dir = await asyncio.to_thread(worktree_git_dir, path)
    written = await _git_writes(path, git_dir, [*plan.from_git, *changed])
    report.git_ms = (time.perf_counter() - began) * 1000

    began = time.perf_counter()
    entries = [*cloned, *written]
    index = git_dir / "index"
    await asyncio.to_thread(write_index, index, entries, main.version)
    # Dulwich writes no cache tree; without one `git status` compares every entry with
    # HEAD's trees. `git write-tree` adds it (the trees exist: it only hashes them).
    await run_git(path, "write-tree")
    report.racy = len(await asyncio.to_thread(racy_entries, index, entries))
    report.index_ms = (time.perf_counter() - began) * 1000

    report.files_cloned, report.files_checked_out = len(cloned), len(written)
    # The clones that stayed (git rewrote the changed ones), regular files only.
    kept = sum(e.stat.size for e in cloned if e.mode != stat.S_IFLNK)
    report.reflinked_bytes = min(kept, totals.reflinked_bytes)
    report.from_git = dict(plan.reasons)
    if changed:
        report.from_git["changed"] = report.from_git.get("changed", 0) + len(changed)
    return report


async def _clone(
    source: Path,
    dest: Path,
    entries: list[TreeEntry],
    main: MainIndex,
    pool: CopyWorkerPool | None,
) -> tuple[CopyTotals, list[CellEntry], list[TreeEntry]]:
    """The include-copy engine's worker clones the files, fed in batches; the clones it
    has made are checked (`_verify_clones`) on a thread here while it goes on."""
    batches: asyncio.Queue[CopyWork | None] = asyncio.Queue()
    for start in range(0, len(entries), BATCH_ITEMS):
        work = CopyWork()
        for entry in entries[start : start + BATCH_ITEMS]:
            rel = os.fsdecode(entry.path)
            (work.links if entry.is_link else work.files).append(rel)
            work.parents.add(rel.rpartition("/")[0])
        batches.put_nowait(work)
    batches.put_nowait(None)
    progress = Progress()
    cloned: list[CellEntry] = []
    changed: list[TreeEntry] = []
    worker = await (pool.take() if pool else CopyWorker.start())
    copying = asyncio.ensure_future(worker.copy(source, dest, batches, progress, threads=None))
    try:
        checked = 0
        while checked < len(entries) or not copying.done():
            finished = copying.done()
            # Clones run on one thread, in order: the worker's count is a prefix. (Were it
            # not, a file checked before it was made fails the check and git writes it.)
            reached = len(entries) if finished else min(progress.snapshot()[0], len(entries))
            if reached > checked:
                part = entries[checked:reached]
                good, bad = await asyncio.to_thread(_verify_clones, source, dest, part, main)
                cloned += good
                changed += bad
                checked = reached
            elif not finished:
                await asyncio.wait([copying], timeout=_CHECK_EVERY_S)
        totals = copying.result()
    except BaseException:
        copying.cancel()  # the worker is stopped and waited for before this goes on
        await wait_through_cancel(copying)
        raise
    finally:
        await worker.close()
    return totals, cloned, changed


def _verify_clones(
    source: Path, dest: Path, entries: list[TreeEntry], main: MainIndex
) -> tuple[list[CellEntry], list[TreeEntry]]:
    """Stat every clone for the index; one whose source changed goes to git instead.

    A source changed before the worker read it gave the clone another mtime or size
    than the main index vouched for; one changed while or after it was cloned has
    another ctime or mtime now (`source_matches`)."""
    source_prefix, dest_prefix = f"{source}/", f"{dest}/"
    cloned: list[CellEntry] = []
    changed: list[TreeEntry] = []
    for entry in entries:
        rel = os.fsdecode(entry.path)
        known = main.entries[entry.path]
        try:
            st = os.lstat(dest_prefix + rel)
        except OSError:
            changed.append(entry)
            continue
        recorded = StatData.of(st)
        if (
            recorded.mtime != time_pair(known.mtime)
            or recorded.size != known.size
            or stat.S_ISLNK(st.st_mode) != entry.is_link
            or not source_matches(source_prefix + rel, known)
        ):
            changed.append(entry)
            continue
        cloned.append(CellEntry(entry.path, entry.sha, entry.mode, recorded))
    return cloned, changed


async def _git_writes(path: Path, git_dir: Path, entries: list[TreeEntry]) -> list[CellEntry]:
    """`git checkout-index` writes these files from a temporary index; their stat data."""
    if not entries:
        return []
    scratch = git_dir / "index.hive-cow"
    stub = [CellEntry(e.path, e.sha, e.mode, NO_STAT) for e in entries]
    await asyncio.to_thread(write_index, scratch, stub)
    try:
        await run_git(
            path,
            "checkout-index",
            "-f",
            "-z",
            "--stdin",
            env={"GIT_INDEX_FILE": str(scratch)},
            stdin=b"\0".join(e.path for e in entries) + b"\0",
        )
    finally:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(scratch.unlink)
    return await asyncio.to_thread(_stat_written, path, entries)


def _stat_written(path: Path, entries: list[TreeEntry]) -> list[CellEntry]:
    prefix = f"{path}/"
    return [
        CellEntry(e.path, e.sha, e.mode, StatData.of(os.lstat(prefix + os.fsdecode(e.path))))
        for e in entries
    ]
