"""An async client for a running `opencode serve`, written against its own OpenAPI
(`GET /doc`, verified on 1.18.33), not the stale `opencode-ai` package on PyPI.

Every instance call names its directory (`x-opencode-directory`): one server serves many
worktrees, and the header picks the project instance. Every call has a deadline: an
unknown model or an unreachable provider can keep the server busy for good, so a
message whose deadline passes is also aborted. Models are checked against
`/config/providers` before any prompt, because the server answers an unknown one with
a bare 500.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from hive.agents.models import (
    Event,
    GlobalEvent,
    Health,
    MessageResult,
    ModelRef,
    Providers,
    Session,
)
from hive.core.errors import HiveError, InvalidInputError

DEFAULT_TIMEOUT_S = 30.0
# A prompt runs a whole agent turn (model calls and tools), so it gets longer.
DEFAULT_PROMPT_TIMEOUT_S = 600.0
_ABORT_TIMEOUT_S = 5.0
USERNAME = "opencode"  # the server's default OPENCODE_SERVER_USERNAME

log = logging.getLogger(__name__)


class OpenCodeError(HiveError):
    """The OpenCode server failed a call, refused it, or did not answer in time."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def _directory_headers(directory: Path) -> dict[str, str]:
    if not directory.is_absolute():
        raise InvalidInputError(f"agent directory must be absolute: {directory}")
    # Percent-encoded, as OpenCode's own SDK sends it (the server decodes it): header
    # values are Latin-1 on the wire, paths need not be.
    return {"x-opencode-directory": quote(str(directory), safe="/")}


class OpenCodeClient:
    """One connection pool to one server; use as `async with OpenCodeClient(url) as c`."""

    def __init__(
        self,
        base_url: str,
        *,
        password: str | None = None,
        username: str = USERNAME,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        auth = httpx.BasicAuth(username, password) if password else None
        self._timeout_s = timeout_s
        self._http = httpx.AsyncClient(
            base_url=base_url, auth=auth, timeout=timeout_s, transport=transport
        )

    async def __aenter__(self) -> OpenCodeClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(
        self,
        method: str,
        path: str,
        *,
        directory: Path | None,
        body: Mapping[str, Any] | None = None,
        timeout_s: float | None = None,
    ) -> httpx.Response:
        headers = _directory_headers(directory) if directory is not None else {}
        deadline = timeout_s if timeout_s is not None else self._timeout_s
        try:
            async with asyncio.timeout(deadline):
                response = await self._http.request(
                    method, path, headers=headers, json=body, timeout=deadline
                )
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise OpenCodeError(
                f"opencode {method} {path}: no answer within {deadline:g}s"
            ) from exc
        except httpx.HTTPError as exc:
            raise OpenCodeError(f"opencode {method} {path}: {exc}") from exc
        if response.is_error:
            raise OpenCodeError(
                f"opencode {method} {path}: HTTP {response.status_code} {response.text[:300]}",
                status=response.status_code,
            )
        return response

    async def health(self, *, timeout_s: float | None = None) -> Health:
        response = await self._call("GET", "/global/health", directory=None, timeout_s=timeout_s)
        return Health.parse(response.json())

    async def providers(self, directory: Path) -> Providers:
        response = await self._call("GET", "/config/providers", directory=directory)
        return Providers.parse(response.json())

    async def check_model(self, directory: Path, model: ModelRef) -> None:
        """Raise UnknownModelError (naming what is available) unless `model` is offered."""
        (await self.providers(directory)).check(model)

    async def configured_model(self, directory: Path) -> str | None:
        """The `provider/model` OpenCode's own config names as its default, if any."""
        response = await self._call("GET", "/config", directory=directory)
        model = response.json().get("model")
        return model if isinstance(model, str) and model else None

    async def create_session(self, directory: Path, *, title: str | None = None) -> Session:
        body = {"title": title} if title else {}
        response = await self._call("POST", "/session", directory=directory, body=body)
        return Session.parse(response.json())

    async def list_sessions(self, directory: Path) -> list[Session]:
        response = await self._call("GET", "/session", directory=directory)
        return [Session.parse(s) for s in response.json()]

    async def session_statuses(self, directory: Path) -> dict[str, str]:
        """Busy sessions by id: `busy` or `retry` (an idle session is not listed)."""
        response = await self._call("GET", "/session/status", directory=directory)
        return {sid: str(status.get("type", "")) for sid, status in response.json().items()}

    async def send_message(
        self,
        session_id: str,
        directory: Path,
        text: str,
        model: ModelRef,
        *,
        no_reply: bool = False,
        agent: str | None = None,
        timeout_s: float = DEFAULT_PROMPT_TIMEOUT_S,
    ) -> MessageResult:
        """Send and wait for the agent's whole turn (`no_reply`: only store the message,
        which also sets the session's model). Past the deadline the turn is aborted."""
        await self.check_model(directory, model)
        body = _prompt_body(text, model, no_reply=no_reply, agent=agent)
        path = f"/session/{session_id}/message"
        try:
            response = await self._call(
                "POST", path, directory=directory, body=body, timeout_s=timeout_s
            )
        except OpenCodeError:
            with contextlib.suppress(OpenCodeError):
                await self.abort(session_id, directory)
            raise
        return MessageResult.parse(response.json())

    async def prompt_async(
        self,
        session_id: str,
        directory: Path,
        text: str,
        model: ModelRef,
        *,
        agent: str | None = None,
    ) -> None:
        """Start a turn and return at once (204); progress arrives on `events`."""
        await self.check_model(directory, model)
        body = _prompt_body(text, model, no_reply=False, agent=agent)
        await self._call(
            "POST", f"/session/{session_id}/prompt_async", directory=directory, body=body
        )

    async def abort(self, session_id: str, directory: Path) -> bool:
        response = await self._call(
            "POST", f"/session/{session_id}/abort", directory=directory, timeout_s=_ABORT_TIMEOUT_S
        )
        return bool(response.json())

    async def delete_session(self, session_id: str, directory: Path) -> bool:
        response = await self._call("DELETE", f"/session/{session_id}", directory=directory)
        return bool(response.json())

    async def events(
        self, directory: Path, *, idle_timeout_s: float = 60.0
    ) -> AsyncIterator[Event]:
        """The instance's event stream (SSE) until the caller stops iterating. The server
        sends heartbeats, so `idle_timeout_s` without a byte means it is gone."""
        headers = _directory_headers(directory)
        async with contextlib.aclosing(self._stream("/event", headers, idle_timeout_s)) as stream:
            async for data in stream:
                if isinstance(data, dict) and isinstance(data.get("type"), str):
                    yield Event(type=data["type"], properties=data.get("properties") or {})

    async def global_events(
        self, *, idle_timeout_s: float = 60.0
    ) -> AsyncGenerator[GlobalEvent, None]:
        """Every directory's events in one stream (`GET /global/event`), each with the
        directory it happened in, until the caller stops iterating; the first is the
        server's `server.connected`, sent once the stream is subscribed. What does not
        parse as an event is logged and skipped. Raises OpenCodeError when the server
        cannot be reached, refuses, or is silent for `idle_timeout_s` (it sends
        heartbeats)."""
        async with contextlib.aclosing(self._stream("/global/event", {}, idle_timeout_s)) as stream:
            async for data in stream:
                event = GlobalEvent.parse(data)
                if event is not None:
                    yield event

    async def _stream(
        self, path: str, headers: Mapping[str, str], idle_timeout_s: float
    ) -> AsyncGenerator[object, None]:
        """The JSON of each SSE message of `GET path`; closing it closes the response."""
        timeout = httpx.Timeout(self._timeout_s, read=idle_timeout_s)
        try:
            async with self._http.stream("GET", path, headers=headers, timeout=timeout) as r:
                if r.is_error:
                    await r.aread()
                    raise OpenCodeError(
                        f"opencode GET {path}: HTTP {r.status_code} {r.text[:300]}",
                        status=r.status_code,
                    )
                async for data in _parse_sse(r.aiter_lines()):
                    yield data
        except httpx.TimeoutException as exc:
            raise OpenCodeError(f"opencode GET {path}: silent for {idle_timeout_s:g}s") from exc
        except httpx.HTTPError as exc:
            raise OpenCodeError(f"opencode GET {path}: {exc}") from exc


def _prompt_body(
    text: str, model: ModelRef, *, no_reply: bool, agent: str | None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "parts": [{"type": "text", "text": text}],
        "model": {"providerID": model.provider_id, "modelID": model.model_id},
        "noReply": no_reply,
    }
    if model.variant:
        body["variant"] = model.variant
    if agent:
        body["agent"] = agent
    return body


async def _parse_sse(lines: AsyncIterator[str]) -> AsyncIterator[object]:
    """The JSON of each message's `data:` lines; a message that is not JSON is logged
    and skipped, so one bad message does not end the stream."""
    data: list[str] = []
    async for line in lines:
        if line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
        elif not line and data:
            text = "\n".join(data)
            data = []
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError:
                log.warning(
                    "opencode event stream: skipped a message that is not JSON: %.200s", text
                )
                continue
            yield parsed
