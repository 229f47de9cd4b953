"""Workspaces: git repositories registered with Hive."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Response

from hive.api.deps import Runtime
from hive.api.schemas import AddWorkspace, WorkspaceList, WorkspaceOut
from hive.provisioning.requests.workspaces import register_workspace

router = APIRouter(prefix="/api/workspaces", tags=["workspaces"])


@router.get("")
async def list_workspaces(runtime: Runtime) -> WorkspaceList:
    records = await runtime.stores.workspaces.list()
    return WorkspaceList(workspaces=[WorkspaceOut.of(r) for r in records])


@router.post("", status_code=201)
async def add_workspace(body: AddWorkspace, runtime: Runtime, response: Response) -> WorkspaceOut:
    record, created = await register_workspace(
        runtime.stores.workspaces, Path(body.path), body.label
    )
    if not created:
        response.status_code = 200
    return WorkspaceOut.of(record)
