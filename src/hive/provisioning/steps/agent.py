"""`ensure_agent_session` (create): the cell's agent started in its worktree with the
assembled prompt; `close_agent_session` (delete, archive): its session ended."""

from __future__ import annotations

import asyncio
from typing import Any

from hive.config.cache import ConfigCache
from hive.core.failures import RollbackStep, describe_error
from hive.core.steps import Step
from hive.provisioning.agent_sessions import AgentSessions
from hive.provisioning.engine.context import RunContext
from hive.provisioning.environment import CellEnvironments
from hive.store.cells import CellStore
from hive.workspace.cell_files import read_prompt


class EnsureAgentSession:
    def __init__(
        self,
        sessions: AgentSessions,
        cells: CellStore,
        environments: CellEnvironments,
        configs: ConfigCache,
    ) -> None:
        self._sessions = sessions
        self._cells = cells
        self._environments = environments
        self._configs = configs

    async def run(self, ctx: RunContext, metadata: dict[str, Any]) -> None:
        template = ctx.require_template()
        config = await self._configs.aget(ctx.workspace.path)
        environment = await self._environments.of(ctx.cell, ctx.workspace.path, template)
        # assemble_prompt wrote it just before, on this attempt.
        prompt = await asyncio.to_thread(read_prompt, ctx.cell.worktree_path) or ""
        started = await self._sessions.ensure(
            ctx.cell, config, template, prompt, environment.setup_env()
        )
        metadata.update(started.metadata)
        # mark_ready's transition must not write back an agent record from before.
        ctx.cell = await self._cells.get(ctx.cell.id, include_hidden=True)


class CloseAgentSession:
    """Delete ends the session for good; archive only interrupts it (`keep`), so a
    restore finds the same conversation again."""

    def __init__(self, sessions: AgentSessions, *, keep: bool) -> None:
        self._sessions = sessions
        self._keep = keep

    async def run(self, ctx: RunContext, metadata: dict[str, Any]) -> None:
        if self._keep:
            metadata["agentSession"] = (ctx.cell.agent or {}).get("sessionId")
            metadata["result"] = await self._sessions.stop(ctx.cell)
        else:
            metadata.update(await self._sessions.close(ctx.cell))


async def stop_agent(
    sessions: AgentSessions, cells: CellStore, cell_id: str, timeout_s: float
) -> tuple[RollbackStep, ...]:
    """A failed or interrupted run's undo of its agent: the turn interrupted, the session
    kept for the retry. Nothing to undo (and nothing reported) without a session."""
    cell = await cells.find(cell_id)
    if cell is None or not (cell.agent or {}).get("sessionId"):
        return ()
    step = str(Step.CLOSE_AGENT_SESSION)
    try:
        async with asyncio.timeout(timeout_s):
            await sessions.stop(cell)
    except TimeoutError:
        return (RollbackStep(step, f"failed: did not finish within {timeout_s:g}s"),)
    except Exception as exc:
        return (RollbackStep(step, f"failed: {describe_error(exc)}"),)
    return (RollbackStep(step, "ok"),)
