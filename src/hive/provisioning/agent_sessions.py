"""Every cell's agent session: started by `ensure_agent_session`, watched while it lives
(its status is part of the cell, so list views show which agent works, which finished
and which waits for the user), messaged, stopped and closed.

The cell's `agent` column is the record: `{type, sessionId, status, model, mode, attach,
directory, promptSent, error, warning, exitCode}`, written as JSON patches so the
watchers and the steps never overwrite each other's keys. One OpenCode event stream
serves every OpenCode session; each command agent has a poller of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hive.agents.choice import AgentPlan, AgentRequest, plan_agent, resolve_model
from hive.agents.models import ModelRef, Providers, UnknownModelError
from hive.agents.opencode_agent import OpenCodeAgent
from hive.agents.opencode_client import OpenCodeClient, OpenCodeError
from hive.agents.opencode_host import AgentUnavailableError, OpenCodeHost
from hive.agents.protocol import AgentSession, AgentStatus
from hive.agents.status_feed import StatusChange, follow_command, follow_opencode
from hive.agents.tmux import Tmux, TmuxError
from hive.agents.tmux_agent import CommandAgentSpec, CommandState, TmuxAgent
from hive.config.loader import WorkspaceConfig
from hive.config.schema import Template
from hive.core.errors import ConflictError, HiveError, StepError
from hive.store.cells import CellStore
from hive.store.records import CellRecord

log = logging.getLogger(__name__)

#: How long a first message waits for the status feed to be connected and synced.
FEED_SYNC_WAIT_S = 10.0

#: A command agent's model is whatever its command says; the protocol still takes one.
_COMMAND_MODEL = ModelRef("command", "command")


@dataclass(frozen=True)
class Started:
    """What ensure_agent_session did, for its timing metadata."""

    agent: dict[str, Any]
    metadata: dict[str, Any]


class AgentSessions:
    def __init__(self, *, cells: CellStore, host: OpenCodeHost, tmux: Tmux, grace_s: float) -> None:
        self._cells = cells
        self._host = host
        self._tmux = tmux
        self._grace_s = grace_s
        # OpenCode session id → (cell id, worktree): whose status an event changes.
        self._opencode: dict[str, tuple[str, Path]] = {}
        self._feed: asyncio.Task[None] | None = None
        self._feed_client: OpenCodeClient | None = None
        # Set once the feed has read the statuses after connecting: a message sent
        # before that could be taken for idle by that read (its turn not begun yet).
        self._feed_synced = asyncio.Event()
        self._pollers: dict[str, asyncio.Task[CommandState]] = {}

    # --- choosing ----------------------------------------------------------------

    def plan(self, config: WorkspaceConfig, template: Template, request: AgentRequest) -> AgentPlan:
        """The cell's agent plan; InvalidInputError for a model no agent can take."""
        return plan_agent(
            template.agent,
            config.opencode,
            config.defaults,
            request,
            opencode_unavailable=self._host.unavailable_reason,
        )

    async def models(self, directory: Path) -> Providers:
        """The providers and models the OpenCode agent offers in `directory`."""
        async with await self._host.client() as client:
            return await client.providers(directory)

    # --- starting ----------------------------------------------------------------

    async def ensure(
        self,
        cell: CellRecord,
        config: WorkspaceConfig,
        template: Template,
        prompt: str,
        env: dict[str, str],
    ) -> Started:
        """The cell's session, started or found again, and its first message sent once."""
        request = AgentRequest.from_json(cell.agent_request)
        plan = self.plan(config, template, request)
        # Nothing asked for an agent explicitly: one that cannot start is a warning.
        explicit = template.agent is not None or request.chooses_model
        if plan.kind == "command":
            return await self._ensure_command(cell, plan, env)
        if plan.kind == "opencode":
            try:
                return await self._ensure_opencode(cell, plan, prompt)
            except (AgentUnavailableError, UnknownModelError, OpenCodeError) as exc:
                if explicit:
                    raise StepError(
                        f"the OpenCode agent cannot start: {exc.message}",
                        hint=exc.hint or "see GET /health and $HIVE_HOME/logs/opencode.log",
                    ) from exc
                plan = AgentPlan("none", warning=f"no agent: {exc.message}")
        agent = {"type": "none", "status": None, "sessionId": None, "warning": plan.warning}
        await self._cells.patch_agent(cell.id, agent)
        metadata: dict[str, Any] = {"type": "none"}
        if plan.warning:
            metadata["warnings"] = [plan.warning]
        return Started(agent, metadata)

    async def _ensure_opencode(self, cell: CellRecord, plan: AgentPlan, prompt: str) -> Started:
        directory = cell.worktree_path
        previous = cell.agent or {}
        async with await self._host.client() as client:
            providers = await client.providers(directory)
            model = resolve_model(plan, providers, await client.configured_model(directory))
            agent = OpenCodeAgent(client, mode=plan.mode)
            known = previous.get("sessionId") if previous.get("type") == "opencode" else None
            session = await agent.ensure_session(directory, model, session_id=known)
            resumed = session.session_id == known
            first = not (resumed and previous.get("promptSent"))
            record: dict[str, Any] = {
                "type": "opencode",
                "sessionId": session.session_id,
                "directory": str(directory),
                "model": _model_json(model),
                "mode": plan.mode,
                "attach": self._host.attach_command(directory, session.session_id),
                "error": None,
                "warning": None,
                "exitCode": None,
            }
            # Watched before the first message: its first events must find the cell.
            self._watch_opencode(session.session_id, cell.id, directory)
            await self._feed_ready()
            metadata: dict[str, Any] = {
                "type": "opencode",
                "sessionId": session.session_id,
                "model": str(model),
                "mode": plan.mode,
                "resumed": resumed,
            }
            if not first:
                status = await agent.status(session)
                record.update(status=str(status))
                metadata["firstMessage"] = "already sent"
            elif cell.description:
                # Working from before the send: the turn's own events may end it first.
                await self._cells.patch_agent(cell.id, {**record, "status": "working"})
                await agent.send(session, prompt)
                record.update(status="working", promptSent=True)
                metadata["firstMessage"] = "prompt"
            else:
                record.update(status="idle", promptSent=True)
                metadata["firstMessage"] = "seeded"
                try:
                    await agent.send(session, prompt, no_reply=True)
                except OpenCodeError as exc:
                    # The session works without it; the user's first message sets the model.
                    record["warning"] = f"the prompt could not be stored in the session: {exc}"
                    metadata["warnings"] = [record["warning"]]
        patched = await self._cells.patch_agent(cell.id, record)
        return Started(patched.agent if patched and patched.agent else record, metadata)

    async def _ensure_command(
        self, cell: CellRecord, plan: AgentPlan, env: dict[str, str]
    ) -> Started:
        assert plan.run is not None
        agent = self._command_agent(cell.id, plan.run, env)
        try:
            session = await agent.ensure_session(cell.worktree_path, _COMMAND_MODEL)
        except (TmuxError, OSError) as exc:
            raise StepError(
                f"the command agent could not start in tmux: {exc}",
                hint="check that tmux is installed (`tmux -V`) and the `run` command",
            ) from exc
        record = {
            "type": "command",
            "sessionId": session.session_id,
            "directory": str(cell.worktree_path),
            "status": "working",
            "model": None,
            "mode": None,
            "attach": agent.attach_command(session),
            "run": plan.run,
            "promptSent": True,
            "error": None,
            "warning": None,
            "exitCode": None,
        }
        await self._cells.patch_agent(cell.id, record)
        self._poll_command(cell.id, agent, session)
        return Started(record, {"type": "command", "session": session.session_id})

    def _command_agent(self, cell_id: str, run: str, env: dict[str, str]) -> TmuxAgent:
        spec = CommandAgentSpec(cell_id=cell_id, command=run, env=env, grace=self._grace_s)
        return TmuxAgent(self._tmux, spec)

    # --- talking -----------------------------------------------------------------

    async def send(self, cell: CellRecord, text: str) -> dict[str, Any]:
        """A follow-up message to the cell's agent; the agent record after it."""
        agent = cell.agent or {}
        kind, session_id = agent.get("type"), agent.get("sessionId")
        if kind not in ("opencode", "command") or not session_id:
            raise ConflictError(
                f"cell {cell.id} has no agent session to send a message to",
                hint="its template has no agent, or the cell is not provisioned yet",
            )
        directory = Path(agent.get("directory") or cell.worktree_path)
        if kind == "command":
            if agent.get("status") == "stopped":
                raise ConflictError(
                    f"the command agent of cell {cell.id} has ended "
                    f"(exit code {agent.get('exitCode')})",
                    hint="retry the cell to start it again",
                )
            session = AgentSession(session_id, directory, _COMMAND_MODEL)
            await self._command_agent(cell.id, agent.get("run") or "", {}).send(session, text)
        else:
            model = _model_of(agent)
            async with await self._host.client() as client:
                self._watch_opencode(session_id, cell.id, directory)
                await self._feed_ready()
                await self._cells.patch_agent(cell.id, {"status": "working", "error": None})
                await OpenCodeAgent(client, mode=agent.get("mode")).send(
                    AgentSession(session_id, directory, model), text
                )
        patched = await self._cells.patch_agent(cell.id, {})
        return (patched.agent if patched else None) or agent

    # --- stopping ----------------------------------------------------------------

    async def stop(self, cell: CellRecord) -> str:
        """Interrupt the agent but keep its session (a failed or cancelled run, an
        archive): OpenCode's turn is aborted, a command agent's process ends. What it did."""
        agent = cell.agent or {}
        kind, session_id = agent.get("type"), agent.get("sessionId")
        if not session_id or kind not in ("opencode", "command"):
            return "no agent session"
        directory = Path(agent.get("directory") or cell.worktree_path)
        if kind == "command":
            self._stop_poller(cell.id)
            session = AgentSession(session_id, directory, _COMMAND_MODEL)
            await self._command_agent(cell.id, agent.get("run") or "", {}).close(session)
            await self._cells.patch_agent(cell.id, {"status": "stopped"})
            return "command agent stopped"
        self._opencode.pop(session_id, None)
        async with await self._host.client() as client:
            await client.abort(session_id, directory)
        await self._cells.patch_agent(cell.id, {"status": "stopped"})
        return "turn aborted; session kept"

    async def close(self, cell: CellRecord) -> dict[str, Any]:
        """End the session for good (delete): what was closed."""
        agent = cell.agent or {}
        kind, session_id = agent.get("type"), agent.get("sessionId")
        if not session_id or kind not in ("opencode", "command"):
            return {"agentSession": None, "reason": "no agent session"}
        if kind == "command":
            await self.stop(cell)
        else:
            self._opencode.pop(session_id, None)
            directory = Path(agent.get("directory") or cell.worktree_path)
            async with await self._host.client() as client:
                with contextlib.suppress(OpenCodeError):
                    await client.abort(session_id, directory)
                await OpenCodeAgent(client).close(
                    AgentSession(session_id, directory, _model_of(agent))
                )
            await self._cells.patch_agent(cell.id, {"status": "stopped"})
        return {"agentSession": session_id, "type": kind, "closed": True}

    # --- watching ----------------------------------------------------------------

    def resume(self, cells: Iterable[CellRecord]) -> None:
        """Watch again the sessions of cells a restarted server found."""
        for cell in cells:
            agent = cell.agent or {}
            session_id = agent.get("sessionId")
            if not session_id or agent.get("status") == "stopped":
                continue
            directory = Path(agent.get("directory") or cell.worktree_path)
            if agent.get("type") == "opencode":
                self._watch_opencode(session_id, cell.id, directory)
            elif agent.get("type") == "command":
                tmux_agent = self._command_agent(cell.id, agent.get("run") or "", {})
                self._poll_command(
                    cell.id, tmux_agent, AgentSession(session_id, directory, _COMMAND_MODEL)
                )

    def _watch_opencode(self, session_id: str, cell_id: str, directory: Path) -> None:
        self._opencode[session_id] = (cell_id, directory)
        if self._feed is None or self._feed.done():
            self._feed_synced.clear()
            self._feed = asyncio.create_task(
                follow_opencode(self._connect_feed, self._on_opencode, self._resync),
                name="agent-status:opencode",
            )

    async def _connect_feed(self) -> OpenCodeClient:
        """The feed's client, new for each connection (the server may have moved)."""
        if self._feed_client is not None:
            await self._feed_client.aclose()
            self._feed_client = None
        self._feed_client = await self._host.client()
        return self._feed_client

    async def _on_opencode(self, change: StatusChange) -> None:
        owner = self._opencode.get(change.session_id)
        if owner is None:
            return
        changes: dict[str, Any] = {"status": str(change.status), "error": change.error}
        if change.status == AgentStatus.STOPPED:
            self._opencode.pop(change.session_id, None)
        await self._cells.patch_agent(owner[0], changes)

    async def _resync(self) -> None:
        """After a (re)connection: the statuses events may have been missed for."""
        client = self._feed_client
        if client is None:
            return
        directories = {directory for _, directory in self._opencode.values()}
        busy: set[str] = set()
        for directory in directories:
            with contextlib.suppress(OpenCodeError):
                busy |= set(await client.session_statuses(directory))
        for session_id, (cell_id, _) in list(self._opencode.items()):
            cell = await self._cells.find(cell_id)
            if cell is None:
                self._opencode.pop(session_id, None)
                continue
            current = (cell.agent or {}).get("status")
            if session_id in busy:
                wanted = current if current == "waiting" else "working"
            else:
                wanted = "idle"
            if wanted != current:
                await self._cells.patch_agent(cell_id, {"status": wanted})
        self._feed_synced.set()

    async def _feed_ready(self) -> None:
        """Until the feed has synced once (bounded: without it statuses still flow)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(FEED_SYNC_WAIT_S):
                await self._feed_synced.wait()

    def _poll_command(self, cell_id: str, agent: TmuxAgent, session: AgentSession) -> None:
        self._stop_poller(cell_id)

        async def on_change(state: CommandState) -> None:
            changes = {"status": str(state.status), "exitCode": state.exit_code}
            await self._cells.patch_agent(cell_id, changes)

        self._pollers[cell_id] = asyncio.create_task(
            follow_command(agent, session, on_change), name=f"agent-status:{cell_id}"
        )

    def _stop_poller(self, cell_id: str) -> None:
        task = self._pollers.pop(cell_id, None)
        if task is not None:
            task.cancel()

    async def aclose(self) -> None:
        """Stop watching (the agents keep running, to be watched again after a restart)."""
        tasks = [t for t in (self._feed, *self._pollers.values()) if t is not None]
        self._feed = None
        self._pollers.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, HiveError):
                await task
        if self._feed_client is not None:
            await self._feed_client.aclose()
            self._feed_client = None

    def has_opencode_sessions(self) -> bool:
        return bool(self._opencode)


def _model_json(model: ModelRef) -> dict[str, Any]:
    data: dict[str, Any] = {"providerId": model.provider_id, "modelId": model.model_id}
    if model.variant:
        data["variant"] = model.variant
    return data


def _model_of(agent: dict[str, Any]) -> ModelRef:
    model = agent.get("model") or {}
    return ModelRef(
        str(model.get("providerId", "")), str(model.get("modelId", "")), model.get("variant")
    )
