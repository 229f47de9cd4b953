"""What each agent is doing, as it changes: working, idle (its turn is over), waiting
(for the user: a permission or a question), error, stopped.

OpenCode: one `opencode serve` serves every cell, and its `GET /global/event` carries
every directory's events, so one follower per server reads them all. `status_change`
maps one event to a session's new status (a pure function); `follow_opencode` follows
the stream for good, reconnecting with backoff, and reports each session's changes.

Command agents (tmux) send no events: `follow_command` polls `TmuxAgent.state` until
the command has stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hive.agents.models import Event, GlobalEvent
from hive.agents.opencode_client import OpenCodeClient, OpenCodeError
from hive.agents.protocol import AgentSession, AgentStatus
from hive.agents.tmux import TmuxError
from hive.agents.tmux_agent import CommandState, TmuxAgent

log = logging.getLogger(__name__)

# The error a turn ends with when the user or Hive aborts it: the agent is idle.
ABORTED_ERROR = "MessageAbortedError"

_SESSION_STATUS = {
    "busy": AgentStatus.WORKING,
    "retry": AgentStatus.WORKING,  # a provider error it will retry: still its turn
    "idle": AgentStatus.IDLE,
}
_WAITING = frozenset({"permission.asked", "question.asked"})
# Answered (a rejection too): the turn goes on, and ends with its own idle.
_ANSWERED = frozenset({"permission.replied", "question.replied", "question.rejected"})


@dataclass(frozen=True)
class StatusChange:
    """A session's new status; `error` says what went wrong when it is ERROR; the
    directory is the worktree the server named, when it did."""

    session_id: str
    status: AgentStatus
    error: str | None = None
    directory: str | None = None


def status_change(event: Event) -> StatusChange | None:
    """The status `event` gives its session, or None when it changes none (other
    types, heartbeats, shapes this does not know, events of no session)."""
    found = _status(event.type, event.properties)
    if found is None:
        return None
    session_id = event.session_id
    if event.type == "session.deleted":
        info = event.properties.get("info")
        deleted = info.get("id") if isinstance(info, Mapping) else None
        session_id = deleted if isinstance(deleted, str) else session_id
    if not session_id:
        return None
    status, error = found
    directory = event.directory if isinstance(event, GlobalEvent) else None
    return StatusChange(session_id, status, error, directory)


def _status(kind: str, properties: Mapping[str, Any]) -> tuple[AgentStatus, str | None] | None:
    if kind == "session.status":
        state = properties.get("status")
        name = state.get("type") if isinstance(state, Mapping) else None
        status = _SESSION_STATUS.get(name) if isinstance(name, str) else None
        return None if status is None else (status, None)
    if kind == "session.idle":
        return AgentStatus.IDLE, None
    if kind in _WAITING:
        return AgentStatus.WAITING, None
    if kind in _ANSWERED:
        return AgentStatus.WORKING, None
    if kind == "session.error":
        error = properties.get("error")
        error = error if isinstance(error, Mapping) else {}
        if error.get("name") == ABORTED_ERROR:
            return AgentStatus.IDLE, None
        return AgentStatus.ERROR, _error_message(error)
    if kind == "session.deleted":
        return AgentStatus.STOPPED, None
    return None


def _error_message(error: Mapping[str, Any]) -> str:
    data = error.get("data")
    message = data.get("message") if isinstance(data, Mapping) else None
    if isinstance(message, str) and message:
        return message
    name = error.get("name")
    return name if isinstance(name, str) and name else "unknown error"


def is_news(previous: StatusChange | None, change: StatusChange) -> bool:
    """Whether `change` is worth reporting after `previous` (the last one reported for
    its session): not a repeat (the server sends `busy` many times a turn, and `idle`
    twice), and not the idle that ends a failed turn, which would hide its error (the
    session stays in error until its next turn starts)."""
    if previous is None:
        return True
    if previous.status is AgentStatus.ERROR and change.status is AgentStatus.IDLE:
        return False
    return (previous.status, previous.error) != (change.status, change.error)


@dataclass
class Backoff:
    """Delays between reconnections: `initial_s` doubling up to `max_s`, from
    `initial_s` again after a `reset` (a stream that came up)."""

    initial_s: float = 0.5
    max_s: float = 10.0
    _next_s: float = field(init=False)

    def __post_init__(self) -> None:
        self._next_s = self.initial_s

    def next(self) -> float:
        delay = self._next_s
        self._next_s = min(delay * 2, self.max_s)
        return delay

    def reset(self) -> None:
        self._next_s = self.initial_s


async def follow_opencode(
    connect: Callable[[], Awaitable[OpenCodeClient]],
    on_change: Callable[[StatusChange], Awaitable[None]],
    on_connected: Callable[[], Awaitable[None]],
    *,
    idle_timeout_s: float = 60.0,
    backoff: Backoff | None = None,
) -> None:
    """Follow the status of every session of one OpenCode server until cancelled.

    `connect` gives the client to read from; it is called again for each connection
    (the follower never closes the client) and may raise while the server is away.
    `on_connected` is awaited each time a stream is subscribed, before any of its events
    is handled: statuses may have changed while no stream was up, so the caller reads
    them there (`session_statuses`); if it raises, the follower reconnects.
    `on_change` is awaited for each change `is_news` lets through, judged against what
    this connection reported (a new connection starts afresh, as `on_connected`
    resyncs); if it raises, that is logged and the follower goes on.

    A stream that drops or goes silent, a server that refuses or is away, is retried
    after a delay (`Backoff`: 0.5 s doubling to 10 s, back to 0.5 s once a stream is
    up). An event that is not understood is logged and skipped.
    """
    delays = backoff or Backoff()
    while True:
        try:
            client = await connect()
            await _follow_stream(client, on_change, on_connected, delays, idle_timeout_s)
            log.info("opencode event stream ended; reconnecting")
        except Exception as exc:
            # An OpenCodeError is the server's doing and says enough; anything else is
            # unexpected, so it comes with its traceback.
            unexpected = not isinstance(exc, OpenCodeError)
            log.warning("opencode event stream: %s; reconnecting", exc, exc_info=unexpected)
        await asyncio.sleep(delays.next())


async def _follow_stream(
    client: OpenCodeClient,
    on_change: Callable[[StatusChange], Awaitable[None]],
    on_connected: Callable[[], Awaitable[None]],
    delays: Backoff,
    idle_timeout_s: float,
) -> None:
    reported: dict[str, StatusChange] = {}
    subscribed = False
    async with contextlib.aclosing(client.global_events(idle_timeout_s=idle_timeout_s)) as stream:
        async for event in stream:
            if not subscribed:
                # The first event (the server's `server.connected`) comes once the
                # stream is subscribed: what happens from here on is in it.
                await on_connected()
                subscribed = True
                delays.reset()
            try:
                change = status_change(event)
            except Exception:
                log.exception("opencode event stream: skipped an event: %r", event)
                continue
            if change is None or not is_news(reported.get(change.session_id), change):
                continue
            if change.status is AgentStatus.STOPPED:
                reported.pop(change.session_id, None)
            else:
                reported[change.session_id] = change
            try:
                await on_change(change)
            except Exception:
                log.exception("agent status change %s: the handler failed", change)


async def follow_command(
    agent: TmuxAgent,
    session: AgentSession,
    on_change: Callable[[CommandState], Awaitable[None]],
    *,
    interval_s: float = 1.0,
) -> CommandState:
    """Poll a command agent every `interval_s` until it has stopped: `on_change` gets
    its first state and each change (working, then stopped with the exit code), and the
    stopped state is returned. A failed poll (tmux timing out) is logged and retried; a
    raising `on_change` is logged."""
    last: CommandState | None = None
    while True:
        try:
            state = await agent.state(session)
            if state.status is AgentStatus.STOPPED and state.exit_code is None:
                # Gone without a code: read once more, in case the runner was writing it.
                await asyncio.sleep(interval_s)
                state = await agent.state(session)
        except (TmuxError, OSError) as exc:
            log.warning("command agent %s: cannot read its state: %s", session.session_id, exc)
        else:
            if state != last:
                last = state
                try:
                    await on_change(state)
                except Exception:
                    log.exception("command agent %s: the status handler failed", session.session_id)
            if state.status is AgentStatus.STOPPED:
                return state
        await asyncio.sleep(interval_s)
