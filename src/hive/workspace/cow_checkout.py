"""A cell's checkout by copy-on-write clones of the main checkout, where that is exact.

The work is a copy worker's (`cow_job`, in its own process); here the event loop
drives it:

1. `prepare_cow` has a worker read and plan (nothing is changed), then probes once per
   file system whether it clones (`CloneSupport`). A verdict against it
   (`CowUnavailable`, with the reason) leaves the checkout to `git worktree add`.
2. `make_cow_worktree` runs `git worktree add --no-checkout` and has the same worker
   fill it. A failure then removes the worktree (the branch stays) and is a verdict
   too: git can still check it out.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hive.core.errors import StepError
from hive.workspace.checkout_report import CheckoutReport
from hive.workspace.clone_support import CloneSupport
from hive.workspace.copy_process import CopyWorker, CopyWorkerPool, wait_through_cancel
from hive.workspace.git_index import UnreadableIndexError
from hive.workspace.worktree import add_worktree, attach_worktree, remove_worktree


class CowUnavailable(Exception):  # noqa: N818 - a verdict, not a failure
    """This checkout is for `git worktree add`; `reason` says why."""

    def __init__(self, reason: str, files: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.files = files
        """Tracked files of the base tree, when they were listed before the verdict."""


@dataclass
class CowPrepared:
    """A worker holding a plan in favour of cloning, for `make_cow_worktree` (whose
    end is the worker's too)."""

    worker: CopyWorker
    summary: dict[str, Any]
    planned: float
    """`time.perf_counter()` when the plan was ready."""

    @property
    def reasons(self) -> dict[str, int]:
        """Why files go to git (differs, untrusted, racy), counted."""
        return dict(self.summary["reasons"])

    @property
    def files(self) -> int:
        return int(self.summary["files"])


async def prepare_cow(
    repo: Path,
    commit: str,
    cells_dir: Path,
    support: CloneSupport,
    worker_pool: CopyWorkerPool | None = None,
) -> CowPrepared:
    """Decide whether `commit` can be checked out by clones from `repo`'s checkout.

    Raises CowUnavailable with the reason when it cannot (UnreadableIndexError for a
    main index that cannot be read); changes nothing (but makes the cells root, as the
    checkout would).
    """
    await asyncio.to_thread(cells_dir.mkdir, parents=True, exist_ok=True)
    if reason := await asyncio.to_thread(support.remembered, repo, cells_dir):
        raise CowUnavailable(reason)
    worker = await (worker_pool.take() if worker_pool else CopyWorker.start())
    try:
        await worker.send({"checkout": {"repo": str(repo), "commit": commit}})
        try:
            answer = await worker.receive()
        except (StepError, ValueError) as exc:  # a garbled or overlong line
            raise CowUnavailable(f"the copy worker's plan could not be read: {exc}") from exc
        if "plan" not in answer:
            raise await _verdict(worker, answer)
        summary = answer["plan"]
        if summary["probe"] is not None:
            source = Path(summary["mainRoot"]) / summary["probe"]
            if reason := await asyncio.to_thread(support.refusal, source, cells_dir):
                raise CowUnavailable(reason, summary["files"])
    except BaseException:
        await wait_through_cancel(asyncio.ensure_future(worker.close()))
        raise
    return CowPrepared(worker, summary, time.perf_counter())


async def _verdict(worker: CopyWorker, answer: dict[str, Any]) -> Exception:
    if "unavailable" in answer:
        return CowUnavailable(answer["unavailable"]["reason"], answer["unavailable"]["files"])
    if "error" in answer:
        error = answer["error"]
        if error.get("kind") == "unreadable-index":
            return UnreadableIndexError(error["message"])
        return CowUnavailable(f"the main checkout could not be read: {error['message']}")
    return CowUnavailable(f"the copy-on-write worker ended ({await worker.last_words()})")


async def make_cow_worktree(
    repo: Path,
    path: Path,
    branch: str,
    commit: str,
    prepared: CowPrepared,
    *,
    new_branch: bool,
) -> CheckoutReport:
    """Add the worktree without a checkout, then have the worker fill it.

    A failure once the worktree exists removes it (the branch stays) and raises
    CowUnavailable: git can still check it out. One before (git refusing the add) is
    raised as it is, as `git worktree add` would have failed the same way. Cancelled,
    it stops the worker and waits for it (no clone lands after it returns).
    """
    worker = prepared.worker
    try:
        if new_branch:
            await add_worktree(repo, path, branch, commit, checkout=False)
        else:
            await attach_worktree(repo, path, branch, checkout=False)
        added = time.perf_counter()
        try:
            await worker.send({"fill": {"dest": str(path)}})
            answer = await worker.receive()
            if "result" not in answer:
                error = answer.get("error", {}).get("message")
                if error is None:
                    error = f"the worker ended ({await worker.last_words()})"
                raise RuntimeError(error)
        except Exception as exc:
            await wait_through_cancel(asyncio.ensure_future(worker.close()))
            await remove_worktree(repo, path)
            raise CowUnavailable(
                f"the copy-on-write checkout failed: {exc}", prepared.files
            ) from exc
        report = CheckoutReport.from_json(answer["result"])
        report.add_ms = (added - prepared.planned) * 1000
        return report
    finally:
        await wait_through_cancel(asyncio.ensure_future(worker.close()))
