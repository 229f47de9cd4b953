"""`create_worktree`: the base commit, the checkout (copy-on-write where the file system
clones, else `git worktree add`), and the include-copy beside it."""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

from hive.config.schema import Template
from hive.core.errors import InvalidInputError
from hive.core.steps import Step, substep
from hive.provisioning.engine.context import RunContext
from hive.provisioning.engine.workflow import checkpointed
from hive.store.cells import CellStore
from hive.store.clock import now_iso
from hive.workspace.checkout_report import CheckoutReport
from hive.workspace.clone_support import CloneSupport
from hive.workspace.copy_process import CopyWorkerPool
from hive.workspace.cow_checkout import CowUnavailable, make_cow_worktree, prepare_cow
from hive.workspace.git import GitError, branch_exists, head_commit
from hive.workspace.git_index import UnreadableIndexError, entry_count
from hive.workspace.include_copy import CopyProgress, copy_included
from hive.workspace.placement import move_into
from hive.workspace.worktree import (
    add_worktree,
    attach_worktree,
    checkout_finished,
    remove_worktree,
    worktree_exists,
    worktree_git_dir,
)

_log = logging.getLogger(__name__)


class CreateWorktree:
    def __init__(
        self,
        cells: CellStore,
        copy_workers: CopyWorkerPool,
        copy_threads: int | None,
        clone_support: CloneSupport | None = None,
    ) -> None:
        """`clone_support` None: every checkout is `git worktree add`."""
        self._cells = cells
        self._copy_workers = copy_workers
        self._copy_threads = copy_threads
        self._clone_support = clone_support

    async def done(self, ctx: RunContext) -> bool:
        """Made earlier and still there (removed by hand since: made again, rather than
        run setup in a void)."""
        return await checkpointed(ctx, Step.CREATE_WORKTREE) and await asyncio.to_thread(
            ctx.cell.worktree_path.is_dir
        )

    async def run(self, ctx: RunContext, metadata: dict[str, Any]) -> None:
        template = ctx.require_template()
        repo, path = ctx.workspace.path, ctx.cell.worktree_path
        metadata.update(path=str(path), branch=ctx.cell.branch_name)
        async with ctx.timed(substep(Step.CREATE_WORKTREE, "base_commit")) as meta:
            if ctx.cell.base_commit is None:
                ctx.cell = await self._cells.update(
                    ctx.cell.id, base_commit=await head_commit(repo)
                )
            meta.update(baseCommit=ctx.cell.base_commit, baseRef=ctx.cell.base_ref or "HEAD")
        staging = path.parent / f".{path.name}.include"
        # On a retry the worktree may already be there; git is asked only in that case.
        exists = await asyncio.to_thread(path.exists) and await worktree_exists(repo, path)
        if exists and not await asyncio.to_thread(checkout_finished, path):
            # Cut short before its index was written (a killed server): made again.
            await remove_worktree(repo, path)
        if await asyncio.to_thread(path.exists) and await worktree_exists(repo, path):
            metadata["reused"] = True
            # A run killed between `git worktree add` and placing its copy left staging.
            await asyncio.to_thread(shutil.rmtree, staging, True)
            await self._include_copy(ctx, template, path)
            return
        # Check out and copy at once: the copy goes to a staging directory (git wants an
        # empty target) and is renamed into the worktree afterwards.
        await asyncio.to_thread(_empty_directory, staging)
        try:
            await _both(self._git_add(ctx, metadata), self._include_copy(ctx, template, staging))
            async with ctx.timed(substep(Step.CREATE_WORKTREE, "place_included")) as meta:
                meta["renames"] = await asyncio.to_thread(move_into, staging, path)
        finally:
            await asyncio.shield(asyncio.to_thread(shutil.rmtree, staging, True))

    async def _git_add(self, ctx: RunContext, metadata: dict[str, Any]) -> None:
        repo, path, branch = ctx.workspace.path, ctx.cell.worktree_path, ctx.cell.branch_name
        async with ctx.timed(substep(Step.CREATE_WORKTREE, "git_add")) as meta:
            meta.update(branch=branch, startCommit=ctx.cell.base_commit)
            # A retry whose worktree was removed by hand keeps the branch and its work.
            reattach = await branch_exists(repo, branch)
            if reattach:
                meta["reattached"] = True
            report = await self._checkout(repo, path, branch, ctx.cell.base_commit, reattach)
            meta.update(report.metadata())
            metadata.update(report.metadata())

    async def _checkout(
        self, repo: Path, path: Path, branch: str, base_commit: str | None, reattach: bool
    ) -> CheckoutReport:
        """Copy-on-write where it is exact and the file system clones, else git."""
        commit = branch if reattach else base_commit or ""
        reason, files = "copy-on-write checkouts are off (HIVE_COW_CHECKOUT)", None
        if self._clone_support is not None:
            try:
                prepared = await prepare_cow(
                    repo, commit, path.parent, self._clone_support, self._copy_workers
                )
                return await make_cow_worktree(
                    repo, path, branch, commit, prepared, new_branch=not reattach
                )
            except CowUnavailable as exc:
                reason, files = exc.reason, exc.files
                if exc.__cause__ is not None:
                    _log.warning("copy-on-write checkout of %s: %s", path, reason)
            except (GitError, OSError, UnreadableIndexError) as exc:
                # Reading the main checkout failed; nothing was made yet.
                reason = f"the main checkout could not be read: {exc}"
            # A failed cow checkout made the branch before it was undone.
            reattach = reattach or await branch_exists(repo, branch)
        if reattach:
            await attach_worktree(repo, path, branch)
        else:
            await add_worktree(repo, path, branch, base_commit or "")
        if files is None:  # the new index's header says how many files git wrote
            files = await asyncio.to_thread(_entries_of, path)
        return CheckoutReport(checkout="git", reason=reason, files_checked_out=files)

    async def _include_copy(self, ctx: RunContext, template: Template, dest: Path) -> None:
        step = substep(Step.CREATE_WORKTREE, "include_copy")

        async def progress(update: CopyProgress) -> None:
            # Saved on the cell so a progress view can move (best-effort).
            counts = {"done": update.done, "total": update.total, "bytes": update.bytes}
            ctx.cell = await self._cells.update(
                ctx.cell.id, progress={"step": step, **counts, "runId": ctx.run_id, "at": now_iso()}
            )

        async with ctx.timed(step, announce=True) as meta:
            report = await copy_included(
                ctx.workspace.path,
                dest,
                template.include_patterns,
                template.ignore_patterns,
                on_progress=progress,
                threads=self._copy_threads,
                worker_pool=self._copy_workers,
            )
            meta.update(report.metadata())


async def _both(first: Awaitable[None], second: Awaitable[None]) -> None:
    """Run two coroutines at once; if one fails (or we are cancelled), stop the other."""
    tasks = [asyncio.ensure_future(first), asyncio.ensure_future(second)]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in tasks:
            task.cancel()  # no-op for a finished task
        await asyncio.shield(asyncio.wait(tasks))
    for task in tasks:
        if not task.cancelled() and (error := task.exception()) is not None:
            raise error


def _entries_of(worktree: Path) -> int | None:
    try:
        return entry_count(worktree_git_dir(worktree) / "index")
    except (OSError, ValueError, InvalidInputError):
        return None


def _empty_directory(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
