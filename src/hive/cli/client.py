"""A small synchronous client of Hive's HTTP API with errors people can act on."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import httpx

from hive.access_token import AccessToken, client_token
from hive.cli.sse import SseEvent, parse_sse
from hive.settings import Settings

#: Longer than the server's heartbeat (15 s by default): silence this long means the
#: connection is gone, even when no error says so.
STREAM_SILENCE_S = 60.0


class ClientError(Exception):
    """Something the CLI reports and exits on: message plus what to do."""

    def __init__(self, message: str, hint: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.status = status
        """The HTTP status of the answer, when there was one."""


class StreamDroppedError(Exception):
    """An event stream ended without the server ending it: reconnect with Last-Event-ID."""


class HiveClient:
    """`token`: the server's; by default found as the server finds it (HIVE_TOKEN, else
    the file in the HIVE_HOME that `Settings.from_env()` names)."""

    def __init__(
        self,
        base_url: str | None = None,
        timeout: float = 60.0,
        *,
        token: AccessToken | None = None,
    ) -> None:
        self._settings = Settings.from_env()
        url = base_url or os.environ.get("HIVE_URL") or self._settings.base_url
        self.base_url = url.rstrip("/")
        self.token = token if token is not None else client_token(self._settings)
        headers = {"authorization": f"Bearer {self.token.value}"} if self.token else {}
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, headers=headers)

    def __enter__(self) -> HiveClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._http.close()

    def _no_server(self) -> ClientError:
        return ClientError(
            f"no Hive server is answering at {self.base_url}",
            hint="start one with `hive serve` inside your repository "
            "(or set HIVE_URL to the server's address)",
        )

    def _checked(self, send: Callable[[], httpx.Response]) -> httpx.Response:
        try:
            response = send()
        except httpx.ConnectError as exc:
            raise self._no_server() from exc
        except httpx.TimeoutException as exc:
            raise ClientError(f"the Hive server at {self.base_url} did not answer in time") from exc
        if not response.is_success:
            self._raise_for(response)
        return response

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._checked(lambda: self._http.request(method, path, **kwargs))
        return response.json() if response.content else None

    def _raise_for(self, response: httpx.Response) -> NoReturn:
        try:
            body = response.json()
        except ValueError:
            body = {"message": response.text or response.reason_phrase}
        hint = body.get("hint")
        if response.status_code == 401:
            hint = f"{hint}; {self._token_note()}" if hint else self._token_note()
        raise ClientError(
            f"{body.get('message', response.reason_phrase)} (HTTP {response.status_code})",
            hint=hint,
            status=response.status_code,
        )

    def _token_note(self) -> str:
        """Where this client's token came from, so a mismatch can be put right."""
        if self.token is None:
            return (
                f"this CLI found no token (no HIVE_TOKEN, no {self._settings.token_path}): "
                "set HIVE_HOME to the server's, or HIVE_TOKEN"
            )
        if self.token.file is None:
            return "this CLI sent its HIVE_TOKEN: unset it, or set it to the server's token"
        return (
            f"this CLI sent the token in {self.token.file}: set HIVE_HOME to the server's "
            "if the server keeps its state elsewhere"
        )

    def text(self, path: str, **params: Any) -> str:
        response = self._checked(lambda: self._http.get(path, params=params))
        return response.text

    def stream_text(self, path: str, **params: Any) -> Iterator[str]:
        """Chunks of a streaming text answer (`follow=true` logs), until the server ends it."""
        try:
            with self._http.stream("GET", path, params=params, timeout=None) as response:
                if not response.is_success:
                    response.read()
                    self._raise_for(response)
                yield from response.iter_text()
        except httpx.ConnectError as exc:
            raise self._no_server() from exc

    def events(self, path: str, *, last_event_id: str | None = None) -> Iterator[SseEvent]:
        """The events of an SSE stream until the server ends it; after `last_event_id`
        when given. A connection lost midway raises `StreamDroppedError`."""
        headers = {"last-event-id": last_event_id} if last_event_id is not None else {}
        timeout = httpx.Timeout(10.0, read=STREAM_SILENCE_S)
        try:
            with self._http.stream("GET", path, headers=headers, timeout=timeout) as response:
                if not response.is_success:
                    response.read()
                    self._raise_for(response)
                yield from parse_sse(response.iter_lines())
        except httpx.ConnectError as exc:
            raise StreamDroppedError(str(self._no_server())) from exc
        except (httpx.TransportError, httpx.StreamError) as exc:
            raise StreamDroppedError(f"the stream from {self.base_url} broke off: {exc}") from exc

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        # A service start waits for its readiness probe (readyTimeoutMs may be minutes).
        return self.request("POST", path, json=body, timeout=900)

    def delete(self, path: str) -> Any:
        # A delete stops processes and removes a worktree: it may take minutes.
        return self.request("DELETE", path, timeout=900)
