"""What an agent adapter does for a cell, whatever the agent is (OpenCode over HTTP, a
terminal agent in tmux): keep one session in the cell's worktree, send it messages,
interrupt it, close it, and say what it is doing."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from hive.agents.models import ModelRef


class AgentStatus(StrEnum):
    STARTING = "starting"
    WORKING = "working"
    IDLE = "idle"  # finished its turn
    WAITING = "waiting"  # asks the user: a permission or a question
    ERROR = "error"
    STOPPED = "stopped"


@dataclass(frozen=True)
class AgentSession:
    """What the cell records to find its session again (after a Hive restart too)."""

    session_id: str
    directory: Path
    model: ModelRef


class Agent(Protocol):
    async def ensure_session(
        self, directory: Path, model: ModelRef, *, session_id: str | None = None
    ) -> AgentSession:
        """The session `session_id` if it still exists, else a new one in `directory`.
        Fails (UnknownModelError) when the agent does not offer `model`."""
        ...

    async def send(self, session: AgentSession, text: str, *, no_reply: bool = False) -> None:
        """Start a turn with `text` and return without waiting for it (`no_reply`: store
        it only, as a first message that sets the model)."""
        ...

    async def abort(self, session: AgentSession) -> None:
        """Interrupt the running turn, if any."""
        ...

    async def close(self, session: AgentSession) -> None:
        """End the session for good; closing one already gone is not an error."""
        ...

    async def status(self, session: AgentSession) -> AgentStatus: ...
