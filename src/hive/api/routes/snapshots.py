"""Snapshots: the uncommitted work deletes kept on `refs/hive/snapshots/<cell-id>`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hive.api.deps import Runtime
from hive.api.snapshot_schemas import RescuedOut, RescueSnapshot, SnapshotList, StoredSnapshotOut
from hive.provisioning.requests.snapshots import SnapshotRequests
from hive.runtime import HiveRuntime

router = APIRouter(prefix="/api/snapshots", tags=["snapshots"])

_OLDER_THAN = Query(
    alias="olderThan",
    min_length=1,
    max_length=64,
    description="a relative age (30d, 12h) or an ISO 8601 instant",
)
OlderThan = Annotated[str, _OLDER_THAN]
MaybeOlderThan = Annotated[str | None, _OLDER_THAN]


def _requests(runtime: HiveRuntime) -> SnapshotRequests:
    return SnapshotRequests(runtime.stores.workspaces)


@router.get("")
async def list_snapshots(runtime: Runtime, older_than: MaybeOlderThan = None) -> SnapshotList:
    found = await _requests(runtime).find(older_than)
    return SnapshotList(snapshots=[StoredSnapshotOut.of(s) for s in found], deleted=False)


@router.delete("")
async def prune_snapshots(runtime: Runtime, older_than: OlderThan) -> SnapshotList:
    """Delete the snapshot refs taken before `olderThan` (their work is then gone)."""
    pruned = await _requests(runtime).prune(older_than)
    return SnapshotList(snapshots=[StoredSnapshotOut.of(s) for s in pruned], deleted=True)


@router.post("/{cell_id}/rescue", status_code=201)
async def rescue_snapshot(
    cell_id: str, runtime: Runtime, body: RescueSnapshot | None = None
) -> RescuedOut:
    """Check the snapshot out in a new worktree on a new branch `hive/rescue-<id8>`."""
    rescued = await _requests(runtime).rescue(cell_id, body.path if body else None)
    return RescuedOut.of(rescued)
