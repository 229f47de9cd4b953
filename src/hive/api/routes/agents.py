"""A cell's agent (`/api/cells/{id}/agent`) and the models agents offer."""

from __future__ import annotations

from fastapi import APIRouter, Query

from hive.agents.opencode_host import AgentUnavailableError
from hive.api.agent_schemas import AgentMessage, AgentModelsOut, AgentOut
from hive.api.deps import Runtime
from hive.core.errors import NotFoundError

router = APIRouter(tags=["agents"])


def _agent_of(cell_id: str, agent: AgentOut | None) -> AgentOut:
    if agent is None:
        raise NotFoundError(
            f"cell {cell_id} has no agent yet",
            hint="its agent starts in the ensure_agent_session step of provisioning",
        )
    return agent


@router.get("/api/cells/{cell_id}/agent")
async def cell_agent(cell_id: str, runtime: Runtime) -> AgentOut:
    cell = await runtime.stores.cells.get(cell_id)
    return _agent_of(cell_id, AgentOut.of(cell.agent))


@router.post("/api/cells/{cell_id}/agent/message", status_code=202)
async def send_agent_message(cell_id: str, body: AgentMessage, runtime: Runtime) -> AgentOut:
    """Start a turn with `text`; answers once the agent has it, not when it is done."""
    cell = await runtime.stores.cells.get(cell_id)
    return _agent_of(cell_id, AgentOut.of(await runtime.agents.send(cell, body.text)))


@router.get("/api/agents/models")
async def agent_models(
    runtime: Runtime, workspace_id: str = Query(alias="workspaceId", min_length=1)
) -> AgentModelsOut:
    workspace = await runtime.stores.workspaces.get(workspace_id)
    try:
        return AgentModelsOut.of(await runtime.agents.models(workspace.path))
    except AgentUnavailableError as exc:
        return AgentModelsOut(agent="opencode", available=False, reason=exc.message, providers=[])
