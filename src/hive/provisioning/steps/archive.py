"""The archive workflow: interrupt the cell's agent (its session kept), stop its
services (and anything else started for it), then give its ports back. The worktree,
branch, logs and timings stay: a restore runs the create workflow again from
`allocate_ports` (setup is not run again)."""

from __future__ import annotations

from typing import Any

from hive.core.steps import Step
from hive.ports.allocator import PortAllocator
from hive.provisioning.agent_sessions import AgentSessions
from hive.provisioning.engine.context import RunContext
from hive.provisioning.engine.workflow import StepSpec, WorkflowSpec
from hive.provisioning.steps.agent import CloseAgentSession
from hive.services.backend import ProcessBackend
from hive.services.cell_release import release_if_stopped
from hive.services.process_group import stop_tagged
from hive.services.process_tag import cell_tag
from hive.services.supervisor import Supervisor
from hive.store.services import ServiceStore


def archive_workflow(
    *,
    supervisor: Supervisor,
    services: ServiceStore,
    backend: ProcessBackend,
    allocator: PortAllocator,
    step_timeout_s: float,
    grace_s: float,
    agents: AgentSessions,
) -> WorkflowSpec:
    async def stop_services(ctx: RunContext, metadata: dict[str, Any]) -> None:
        metadata["stopped"] = await supervisor.stop_cell(ctx.cell.id)
        metadata["strays"] = await stop_tagged(cell_tag(ctx.cell.id), grace=grace_s, prefix=True)

    async def release_ports(ctx: RunContext, metadata: dict[str, Any]) -> None:
        metadata["released"] = await release_if_stopped(services, backend, allocator, ctx.cell.id)

    return WorkflowSpec(
        steps=(
            # Interrupted, not ended: a restore finds the same session again.
            StepSpec(
                Step.CLOSE_AGENT_SESSION,
                CloseAgentSession(agents, keep=True).run,
                timeout_s=step_timeout_s,
                best_effort=True,
            ),
            StepSpec(Step.STOP_SERVICES, stop_services, timeout_s=step_timeout_s),
            StepSpec(Step.RELEASE_PORTS, release_ports, timeout_s=step_timeout_s),
        )
    )
