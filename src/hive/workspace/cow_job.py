"""A copy-on-write checkout's own work, done in a copy worker process (`copy_worker`).

Reading a tree and an index of tens of thousands of entries is interpreter work; on
the server's interpreter it queued behind every request being answered (measured:
the plan took twice as long there). Here it has an interpreter to itself.

1. `plan` reads, and changes nothing: the base tree (`git ls-tree`), the main
   checkout's index (dulwich), git's config and attributes. It refuses (`NotForCow`,
   with the reason) whatever git should handle (`checkout_plan.unusual`) and splits
   the tree between clones and files git writes (`checkout_plan.plan_checkout`).
2. The server makes the worktree (`git worktree add --no-checkout`) and asks for
   `fill`: the files are cloned and checked (`tracked_clone`), half of them by a
   helper process (btrfs makes files in two directories at once faster than in one
   after another: 10,000 files in 400 ms rather than 500), `git checkout-index` writes
   the rest, and the cell's index is written last: blob ids from git, stat data from
   the cell's own files (then `git write-tree` adds the cache tree). The clones keep
   their sources' mtimes, which the main index holds older than itself, so none is
   racy and `git status` re-hashes nothing it cloned; files git wrote follow git's
   own racy rule.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from hive.workspace.checkout_plan import (
    CheckoutPlan,
    TreeEntry,
    parse_ls_tree,
    plan_checkout,
    unusual,
)
from hive.workspace.checkout_report import CheckoutReport
from hive.workspace.git import GitError, git_environment
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
from hive.workspace.git_settings import git_output, parse_config, read_attributes
from hive.workspace.tracked_clone import (
    HELPER_ARGUMENT,
    ClonedFiles,
    Copied,
    Vouched,
    clone_tracked,
    split_by_directory,
)
from hive.workspace.tree_copy import CopyStoppedError
from hive.workspace.worktree import worktree_git_dir

#: A helper process pays an interpreter start (~50 ms of the other core): for fewer
#: files than this, one process clones them all.
HELPER_FROM_FILES = 2000
#: The helper is another copy worker (named here: that module imports this one).
_HELPER_MODULE = "hive.workspace.copy_worker"
_HELPER_STOP_WAIT_S = 10.0
_GIT_TIMEOUT_S = 120
NO_FILE_VOUCHED_FOR = (
    "the main checkout's index vouches for none of its files (`git status` there refreshes it)"
)


class NotForCow(Exception):  # noqa: N818 - a verdict, not a failure
    """This checkout is for `git worktree add`; `reason` says why."""

    def __init__(self, reason: str, files: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.files = files


@dataclass(frozen=True)
class PlannedCheckout:
    main_root: Path
    main: MainIndex
    plan: CheckoutPlan
    plan_ms: float

    def summary(self) -> dict[str, Any]:
        """What the server needs: a file to probe cloning with, counts, the time taken."""
        entries = self.main.entries
        probe = next((e for e in self.plan.clone if not e.is_link and entries[e.path].size), None)
        return {
            "mainRoot": str(self.main_root),
            "probe": None if probe is None else os.fsdecode(probe.path),
            "files": len(self.plan.clone) + len(self.plan.from_git),
            "reasons": dict(self.plan.reasons),
            "planMs": self.plan_ms,
        }


def plan(repo: Path, commit: str, on_index: Callable[[int], None] | None = None) -> PlannedCheckout:
    """Decide whether `commit` can be checked out by clones from `repo`'s checkout.

    `on_index` learns the main index's size as soon as it is read (to start a helper
    while the rest is read). Raises NotForCow, GitError, UnreadableIndexError, OSError.
    """
    began = time.perf_counter()
    located = git_output(
        repo, "rev-parse", "--show-toplevel", "--git-path", "index", "--git-common-dir"
    )
    top, index_path, common_dir = os.fsdecode(located).splitlines()[:3]
    # git lists the tree and the config while the index is read here.
    listing = _start_git(repo, "ls-tree", "-r", "-z", "--full-tree", "--end-of-options", commit)
    configuring = _start_git(repo, "config", "-z", "--list")
    try:
        main = read_main_index(repo / index_path)
        if on_index is not None:
            on_index(len(main.entries))
        tree = parse_ls_tree(_finish(listing))
        config = parse_config(os.fsdecode(_finish(configuring)))
    finally:
        for process in (listing, configuring):
            _reap(process)
    attributes = read_attributes(Path(top), repo / common_dir, tree, config)
    if reason := unusual(tree, main, config, attributes):
        raise NotForCow(reason, len(tree))
    planned = plan_checkout(tree, main)
    if not planned.clone:
        raise NotForCow(NO_FILE_VOUCHED_FOR, len(tree))
    return PlannedCheckout(Path(top), main, planned, (time.perf_counter() - began) * 1000)


def fill(
    planned: PlannedCheckout, dest: Path, stop: threading.Event, helper: CloneHelper | None
) -> CheckoutReport:
    """Clone, have git write the rest, write the index, into the worktree at `dest`
    (made with `--no-checkout`). A stop raises CopyStoppedError; any failure leaves the
    worktree without an index (`worktree.checkout_finished` is false)."""
    plan, main = planned.plan, planned.main
    report = CheckoutReport(checkout="cow", reason="the file system clones")
    report.plan_ms = planned.plan_ms
    began = time.perf_counter()
    files = [_vouched(entry, main) for entry in plan.clone]
    source = str(planned.main_root)
    by_path = {os.fsdecode(entry.path): entry for entry in plan.clone}
    mine, theirs = split_by_directory(files, 2) if helper is not None else (files, [])
    if helper is not None and not theirs:  # one directory holds them all
        helper.close()
        helper = None
    report.clone_processes = 1 if helper is None else 2
    if helper is None:
        done = clone_tracked(source, str(dest), mine, stop)
        cloned = _cell_entries(done.cloned, by_path)
    else:
        threading.Thread(target=_stop_with, args=(stop, helper), daemon=True).start()
        try:
            helper.clone(source, str(dest), theirs)
            done = clone_tracked(source, str(dest), mine, stop)
            cloned = _cell_entries(done.cloned, by_path)  # while the helper goes on
            helped = helper.result()
        finally:
            helper.close()
        done.add(helped)
        cloned += _cell_entries(helped.cloned, by_path)
    report.clone_ms = (time.perf_counter() - began) * 1000

    began = time.perf_counter()
    changed = [by_path[rel] for rel in done.changed]
    git_dir = worktree_git_dir(dest)
    written = _git_writes(dest, git_dir, [*plan.from_git, *changed])
    report.git_ms = (time.perf_counter() - began) * 1000

    began = time.perf_counter()
    entries = [*cloned, *written]
    index = git_dir / "index"
    write_index(index, entries, main.version)
    # Dulwich writes no cache tree; without one `git status` compares every entry with
    # HEAD's trees. `git write-tree` adds it (the trees exist: it only hashes them).
    git_output(dest, "write-tree")
    report.racy = len(racy_entries(index, entries))
    report.index_ms = (time.perf_counter() - began) * 1000

    report.files_cloned, report.files_checked_out = len(cloned), len(written)
    # The clones that stayed (git rewrote the changed ones), regular files only.
    kept = sum(e.stat.size for e in cloned if e.mode != stat.S_IFLNK)
    report.reflinked_bytes = min(kept, done.reflinked_bytes)
    report.byte_copies = done.byte_copies
    report.from_git = dict(plan.reasons)
    if changed:
        report.from_git["changed"] = report.from_git.get("changed", 0) + len(changed)
    return report


def _cell_entries(cloned: list[Copied], by_path: dict[str, TreeEntry]) -> list[CellEntry]:
    """Index entries of clones: git's blob and mode, the clone's own stat data."""
    entries = []
    for c in cloned:
        entry = by_path[c.path]
        stat_data = StatData.from_ns(c.ctime_ns, c.mtime_ns, c.dev, c.ino, c.uid, c.gid, c.size)
        entries.append(CellEntry(entry.path, entry.sha, entry.mode, stat_data))
    return entries


def _vouched(entry: TreeEntry, main: MainIndex) -> Vouched:
    known = main.entries[entry.path]
    return Vouched(
        os.fsdecode(entry.path),
        entry.mode,
        _ns(time_pair(known.mtime)),
        _ns(time_pair(known.ctime)),
        known.size,
        known.ino,
        known.uid,
        known.gid,
    )


def _ns(pair: tuple[int, int]) -> int:
    return pair[0] * 1_000_000_000 + pair[1]


def _stop_with(stop: threading.Event, helper: CloneHelper) -> None:
    stop.wait()
    helper.stop()


def _git_writes(path: Path, git_dir: Path, entries: list[TreeEntry]) -> list[CellEntry]:
    """`git checkout-index` writes these files from a temporary index; their stat data."""
    if not entries:
        return []
    scratch = git_dir / "index.hive-cow"
    write_index(scratch, [CellEntry(e.path, e.sha, e.mode, NO_STAT) for e in entries])
    try:
        git_output(
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
            scratch.unlink()
    prefix = f"{path}/"
    return [
        CellEntry(e.path, e.sha, e.mode, StatData.of(os.lstat(prefix + os.fsdecode(e.path))))
        for e in entries
    ]


def _start_git(repo: Path, *args: str) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            ["git", "-C", str(repo), *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=git_environment(),
        )
    except OSError as exc:
        raise GitError(list(args), 127, "", reason=f"git could not be started: {exc}") from exc


def _finish(process: subprocess.Popen[bytes]) -> bytes:
    args = [str(a) for a in process.args][3:]  # type: ignore[union-attr]
    try:
        out, err = process.communicate(timeout=_GIT_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:  # `_reap` ends it
        raise GitError(args, -1, "", reason=f"timed out after {_GIT_TIMEOUT_S}s") from exc
    if process.returncode != 0:
        raise GitError(args, process.returncode, err.decode(errors="replace"))
    return out


def _reap(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.communicate()


class CloneHelper:
    """Another copy worker that clones a share of the files (`tracked_clone`).

    Started as soon as the plan knows the checkout is large, so its interpreter starts
    while the rest is read. It is in this worker's process group: stopping the group
    stops it too. Its input stays open while its clones are wanted.
    """

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-P", "-m", _HELPER_MODULE, HELPER_ARGUMENT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=os.environ.copy(),
        )
        self._lock = threading.Lock()

    def clone(self, source: str, dest: str, files: list[Vouched]) -> None:
        job = {"share": {"source": source, "dest": dest, "files": [f.to_json() for f in files]}}
        stdin = self._stdin()
        if stdin is not None:
            # It ended (`result` says why), or a stop closed its input meanwhile.
            with contextlib.suppress(OSError, ValueError):
                stdin.write(json.dumps(job).encode() + b"\n")
                stdin.flush()

    def result(self) -> ClonedFiles:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        self._process.wait()
        outcome = json.loads(line) if line.strip() else {}
        if "result" in outcome:
            return ClonedFiles.from_json(outcome["result"])
        if outcome.get("stopped"):
            raise CopyStoppedError("the checkout was stopped before it finished")
        if "error" in outcome:
            raise OSError(outcome["error"]["message"])
        raise OSError(f"the clone helper ended with exit code {self._process.returncode}")

    def stop(self) -> None:
        """Ask it to stop after the file in hand (its input ends); idempotent."""
        with self._lock:
            stdin, self._process.stdin = self._process.stdin, None
        if stdin is not None:
            with contextlib.suppress(OSError):
                stdin.close()

    def close(self) -> None:
        """Stop it and wait until it has ended."""
        self.stop()
        # An answer nobody reads must not keep it blocked on a full pipe: closed, its
        # write fails and it ends.
        if self._process.stdout is not None:
            self._process.stdout.close()
        try:
            self._process.wait(_HELPER_STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.returncode

    def _stdin(self) -> IO[bytes] | None:
        with self._lock:
            return self._process.stdin
