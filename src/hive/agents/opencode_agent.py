"""The Agent protocol over a running OpenCode server."""

from __future__ import annotations

from pathlib import Path

from hive.agents.models import ModelRef
from hive.agents.opencode_client import OpenCodeClient, OpenCodeError
from hive.agents.protocol import AgentSession, AgentStatus

_STATUS = {"busy": AgentStatus.WORKING, "retry": AgentStatus.WORKING}


class OpenCodeAgent:
    """`mode` is the OpenCode agent a turn runs as (`build`, `plan`), None for its default."""

    def __init__(self, client: OpenCodeClient, *, mode: str | None = None) -> None:
        self._client = client
        self._mode = mode

    async def ensure_session(
        self, directory: Path, model: ModelRef, *, session_id: str | None = None
    ) -> AgentSession:
        await self._client.check_model(directory, model)
        if session_id is not None:
            known = {s.id for s in await self._client.list_sessions(directory)}
            if session_id in known:
                return AgentSession(session_id, directory, model)
        created = await self._client.create_session(directory)
        return AgentSession(created.id, directory, model)

    async def send(self, session: AgentSession, text: str, *, no_reply: bool = False) -> None:
        if no_reply:
            await self._client.send_message(
                session.session_id,
                session.directory,
                text,
                session.model,
                no_reply=True,
                agent=self._mode,
            )
        else:
            await self._client.prompt_async(
                session.session_id, session.directory, text, session.model, agent=self._mode
            )

    async def abort(self, session: AgentSession) -> None:
        await self._client.abort(session.session_id, session.directory)

    async def close(self, session: AgentSession) -> None:
        try:
            await self._client.delete_session(session.session_id, session.directory)
        except OpenCodeError as exc:
            if exc.status != 404:
                raise

    async def status(self, session: AgentSession) -> AgentStatus:
        # Only a point-in-time view: `waiting` and `error` come from the event stream,
        # which the cell's watcher will follow.
        known = {s.id for s in await self._client.list_sessions(session.directory)}
        if session.session_id not in known:
            return AgentStatus.STOPPED
        statuses = await self._client.session_statuses(session.directory)
        return _STATUS.get(statuses.get(session.session_id, "idle"), AgentStatus.IDLE)
