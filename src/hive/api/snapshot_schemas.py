"""Bodies of the snapshot endpoints: the work deletes kept, a rescue, a prune."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import Field

from hive.api.bodies import _UNICODE, _Body, _Request
from hive.core.time_bounds import stored_form
from hive.provisioning.requests.snapshots import Rescued, WorkspaceSnapshot


class StoredSnapshotOut(_Body):
    cell_id: str
    workspace_id: str
    repository: str
    ref: str
    commit: str
    created_at: str
    subject: str

    @classmethod
    def of(cls, item: WorkspaceSnapshot) -> StoredSnapshotOut:
        s = item.snapshot
        return cls(
            cell_id=s.cell_id,
            workspace_id=item.workspace.id,
            repository=str(item.workspace.path),
            ref=s.ref,
            commit=s.commit,
            created_at=stored_form(datetime.fromtimestamp(s.created_at, UTC)),
            subject=s.subject,
        )


class SnapshotList(_Body):
    snapshots: list[StoredSnapshotOut]
    deleted: bool
    """True when these were pruned (DELETE); False for a listing."""


class RescueSnapshot(_Request):
    path: Annotated[str, Field(min_length=1, max_length=4096), _UNICODE] | None = None
    """Absolute path of the new worktree; default: beside the repository."""


class RescuedOut(_Body):
    snapshot: StoredSnapshotOut
    path: str
    branch: str

    @classmethod
    def of(cls, rescued: Rescued) -> RescuedOut:
        return cls(
            snapshot=StoredSnapshotOut.of(rescued.snapshot),
            path=str(rescued.path),
            branch=rescued.branch,
        )
