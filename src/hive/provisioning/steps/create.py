"""The create workflow as data: its steps in order, each built with what it uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hive.config.cache import ConfigCache
from hive.core.failures import RollbackStep
from hive.core.status import CellStatus
from hive.core.steps import Step
from hive.ports.allocator import PortAllocator
from hive.prompts.remote import PromptFetcher
from hive.provisioning.agent_sessions import AgentSessions
from hive.provisioning.engine.context import RunContext
from hive.provisioning.engine.workflow import StepSpec, WorkflowSpec, never_done
from hive.provisioning.environment import CellEnvironments
from hive.provisioning.steps.agent import EnsureAgentSession, stop_agent
from hive.provisioning.steps.prompt import AssemblePrompt
from hive.provisioning.steps.services import AllocatePorts, EnsureServices
from hive.provisioning.steps.setup import RunSetup
from hive.provisioning.steps.worktree import CreateWorktree
from hive.services.cell_release import stop_and_release
from hive.services.process_records import ProcessRecords
from hive.services.supervisor import Supervisor
from hive.store.cells import CellStore
from hive.store.records import CellRecord
from hive.store.services import ServiceStore
from hive.workspace.clone_support import CloneSupport
from hive.workspace.copy_process import CopyWorkerPool


class MarkReady:
    def __init__(self, cells: CellStore) -> None:
        self._cells = cells

    async def run(self, ctx: RunContext, metadata: dict[str, Any]) -> None:
        ctx.cell = await self._cells.transition(
            ctx.cell.id, CellStatus.READY, last_setup_error=None, run_id=None
        )
        metadata["status"] = str(ctx.cell.status)


def create_workflow(
    *,
    cells: CellStore,
    environments: CellEnvironments,
    supervisor: Supervisor,
    allocator: PortAllocator,
    records: ProcessRecords,
    copy_workers: CopyWorkerPool,
    copy_threads: int | None,
    logs_root: Path,
    setup_timeout_s: float,
    grace_s: float,
    services_store: ServiceStore,
    configs: ConfigCache,
    prompt_fetcher: PromptFetcher,
    agents: AgentSessions,
    agent_timeout_s: float,
    clone_support: CloneSupport | None = None,
) -> WorkflowSpec:
    """create_worktree → allocate_ports → run_setup → ensure_services → assemble_prompt
    → ensure_agent_session → mark_ready.

    A failed or interrupted run interrupts its agent, stops what it started and gives
    its ports back; the worktree stays for inspection and repair, and a retry resumes
    at the failed step (ports, services, the prompt and the agent's session are made
    again, or found again, on every attempt; the first message is sent once).
    """
    worktree = CreateWorktree(cells, copy_workers, copy_threads, clone_support)
    setup = RunSetup(
        cells, environments, records, logs_root, timeout_s=setup_timeout_s, grace_s=grace_s
    )
    services = EnsureServices(supervisor, environments, records)
    prompt = AssemblePrompt(cells, environments, services_store, configs, prompt_fetcher)

    async def compensate(cell: CellRecord) -> tuple[RollbackStep, ...]:
        agent = await stop_agent(agents, cells, cell.id, timeout_s=30)
        return (*agent, *await stop_and_release(supervisor, allocator, cell.id))

    return WorkflowSpec(
        steps=(
            StepSpec(Step.CREATE_WORKTREE, worktree.run, throttled=True, done=worktree.done),
            StepSpec(
                Step.ALLOCATE_PORTS, AllocatePorts(environments).run, timeout_s=120, done=never_done
            ),
            StepSpec(Step.RUN_SETUP, setup.run),
            StepSpec(Step.ENSURE_SERVICES, services.run, done=never_done),
            # Its URL fetches are bounded each; the whole bounds a slow disk or many URLs.
            StepSpec(Step.ASSEMBLE_PROMPT, prompt.run, timeout_s=120, done=never_done),
            StepSpec(
                Step.ENSURE_AGENT_SESSION,
                EnsureAgentSession(agents, cells, environments, configs).run,
                timeout_s=agent_timeout_s,
                done=never_done,
            ),
            StepSpec(Step.MARK_READY, MarkReady(cells).run, timeout_s=30),
        ),
        compensate=compensate,
        prepare=lambda cell: supervisor.reopen(cell.id),
    )
