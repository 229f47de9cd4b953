"""Requests on the snapshots deletes kept: list them, rescue one into a worktree, prune
old ones. They live in the workspaces' repositories, not in the database: a cell's
record is gone once its snapshot exists."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from hive.core.errors import HiveError, InvalidInputError
from hive.core.time_bounds import parse_bound
from hive.store.records import WorkspaceRecord
from hive.store.workspaces import WorkspaceStore
from hive.workspace.git import revision_problem
from hive.workspace.snapshots import (
    StoredSnapshot,
    delete_snapshot,
    find_snapshot,
    list_snapshots,
    rescue_snapshot,
)

log = logging.getLogger(__name__)

_ID_CHARS = 8


@dataclass(frozen=True)
class WorkspaceSnapshot:
    workspace: WorkspaceRecord
    snapshot: StoredSnapshot


@dataclass(frozen=True)
class Rescued:
    snapshot: WorkspaceSnapshot
    path: Path
    branch: str


class SnapshotRequests:
    def __init__(self, workspaces: WorkspaceStore) -> None:
        self._workspaces = workspaces

    async def find(self, older_than: str | None = None) -> list[WorkspaceSnapshot]:
        """Every workspace's snapshots (taken before `older_than`, when given)."""
        cutoff = _cutoff(older_than) if older_than is not None else None
        found = []
        for workspace in await self._workspaces.list():
            try:
                snapshots = await list_snapshots(workspace.path)
            except HiveError as exc:
                # A repository moved or deleted holds nothing Hive could show or prune.
                log.warning("snapshots of workspace %s unreadable: %s", workspace.id, exc)
                continue
            found += [
                WorkspaceSnapshot(workspace, s)
                for s in snapshots
                if cutoff is None or s.created_at < cutoff
            ]
        return found

    async def prune(self, older_than: str) -> list[WorkspaceSnapshot]:
        """Delete the snapshots taken before `older_than`; returns them."""
        pruned = await self.find(older_than)
        for item in pruned:
            await delete_snapshot(item.workspace.path, item.snapshot)
        return pruned

    async def rescue(self, cell_id: str, path: str | None = None) -> Rescued:
        """A worktree on a new branch `hive/rescue-<id8>` whose last commit is the
        snapshot; beside the repository unless `path` says where."""
        snapshots = await self.find()
        stored = find_snapshot([s.snapshot for s in snapshots], cell_id)
        item = next(s for s in snapshots if s.snapshot is stored)
        repo = item.workspace.path
        short = stored.cell_id[:_ID_CHARS]
        target = _target(path) if path is not None else repo.parent / f"{repo.name}-rescue-{short}"
        branch = f"hive/rescue-{short}"
        await rescue_snapshot(repo, stored, target, branch)
        return Rescued(item, target, branch)


def _cutoff(older_than: str) -> float:
    try:
        bound = parse_bound(older_than, datetime.now(UTC))
    except ValueError as exc:
        raise InvalidInputError(f"olderThan: {exc}") from None
    return datetime.fromisoformat(bound).timestamp()


def _target(text: str) -> Path:
    if problem := revision_problem(text):  # the same rules a path's text must meet
        raise InvalidInputError(f"path: {text!r} cannot be used: {problem}")
    path = Path(text).expanduser()
    if not path.is_absolute():
        raise InvalidInputError(
            f"path: {text!r} is relative", hint="give the absolute path of the new worktree"
        )
    return path
