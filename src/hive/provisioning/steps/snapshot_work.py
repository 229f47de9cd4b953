"""The delete step that keeps uncommitted work: a snapshot commit on a private ref
before the worktree goes. Not best-effort: work that cannot be saved stops the delete."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from hive.core.errors import HiveError, StepError
from hive.provisioning.engine.context import RunContext
from hive.workspace.snapshots import Snapshot, take_snapshot
from hive.workspace.worktree import worktree_exists

SNAPSHOT_OUTCOME = "snapshot"
"""Key of the run's outcome holding the `KeptSnapshot`, when one was made."""


@dataclass(frozen=True)
class KeptSnapshot:
    """A snapshot made by a delete, and how to get it back."""

    snapshot: Snapshot
    cell_id: str

    @property
    def rescue_command(self) -> str:
        return f"hive rescue {self.cell_id}"

    @property
    def git_command(self) -> str:
        return f"git worktree add ../rescue {self.snapshot.ref}"

    def summary(self) -> str:
        s = self.snapshot
        names = ", ".join([*s.changed, *s.added])
        more = " …" if len(s.changed) + len(s.added) < s.files_changed + s.files_added else ""
        return (
            f"uncommitted work kept in {s.ref} ({s.files_changed} changed, "
            f"{s.files_added} added: {names}{more}); bring it back with "
            f"`{self.rescue_command}` or `{self.git_command}`"
        )


async def snapshot_work(ctx: RunContext, metadata: dict[str, Any]) -> None:
    cell, repo = ctx.cell, ctx.workspace.path
    message = f"hive: uncommitted work of cell {cell.name!r} ({cell.id}) before its delete"
    try:
        # A directory git does not list as a worktree (a create that failed early) holds
        # no checkout of the repository's, so nothing of the user's to keep.
        if not await asyncio.to_thread(cell.worktree_path.is_dir) or not await worktree_exists(
            repo, cell.worktree_path
        ):
            metadata.update(snapshot=None, reason="no worktree: nothing to keep")
            return
        snapshot = await take_snapshot(cell.worktree_path, cell.id, message)
    except HiveError as exc:
        raise StepError(
            f"the cell was not deleted: its uncommitted work in {cell.worktree_path} could "
            f"not be saved as a snapshot: {exc.message}",
            hint="the worktree is intact; fix the cause (disk space, the repository's "
            "refs), or commit or discard the changes yourself, then delete it again",
        ) from exc
    if snapshot is None:
        metadata.update(snapshot=None, reason="no uncommitted changes")
        return
    kept = KeptSnapshot(snapshot, cell.id)
    ctx.outcome[SNAPSHOT_OUTCOME] = kept
    metadata.update(
        snapshot=snapshot.ref,
        commit=snapshot.commit,
        parent=snapshot.parent,
        filesChanged=snapshot.files_changed,
        filesAdded=snapshot.files_added,
    )
