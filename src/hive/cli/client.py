"""A small synchronous client of Hive's HTTP API with errors people can act on."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import httpx

from hive.access_token import AccessToken, client_token
from hive.cli.sse import ServerSentEvent, events
from hive.settings import Settings

#: How long a live stream may stay unreachable (a server restarting) before the CLI
#: gives up on it.
STREAM_RECONNECT_FOR_S = 30.0
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


class HiveClient:
    """`token`: the server's; by default found as the server finds it (HIVE_TOKEN, else
    the file in the HIVE_HOME that `Settings.from_env()` names)."""

    def __init__(
        self,
        base_url: str | None = None,
        timeout: float = 60.0,
        *,
        token: AccessToken | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._settings = Settings.from_env()
        url = base_url or os.environ.get("HIVE_URL") or self._settings.base_url
        self.base_url = url.rstrip("/")
        self.token = token if token is not None else client_token(self._settings)
        headers = {"authorization": f"Bearer {self.token.value}"} if self.token else {}
        self._http = httpx.Client(
            base_url=self.base_url, timeout=timeout, headers=headers, transport=transport
        )

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
        return self.text_response(path, **params).text

    def text_response(self, path: str, **params: Any) -> httpx.Response:
        """A text answer with its headers (the setup log says where it ends in one)."""
        return self._checked(lambda: self._http.get(path, params=params))

    def events(
        self,
        path: str,
        *,
        last_event_id: str | None = None,
        reconnect_for_s: float = STREAM_RECONNECT_FOR_S,
        **params: Any,
    ) -> Iterator[ServerSentEvent]:
        """The events of a live stream (SSE) until the server ends it.

        A connection that drops (or goes silent past the heartbeat) is opened again
        with `Last-Event-ID`, the id of the last event received, so nothing is missed
        or repeated; unreachable for `reconnect_for_s`, or no server answering the
        first time, is a ClientError.
        """
        lost_since: float | None = None
        failures, connected = 0, False
        timeout = httpx.Timeout(10.0, read=STREAM_SILENCE_S)
        while True:
            headers = {"Last-Event-ID": last_event_id} if last_event_id is not None else {}
            try:
                with self._http.stream(
                    "GET", path, params=params, headers=headers, timeout=timeout
                ) as response:
                    connected = True
                    if not response.is_success:
                        response.read()
                        self._raise_for(response)
                    for event in events(response):
                        lost_since, failures = None, 0
                        last_event_id = event.id
                        yield event
                return
            except httpx.TransportError as exc:
                if isinstance(exc, httpx.ConnectError) and not connected:
                    raise self._no_server() from exc
                now = time.monotonic()
                lost_since = now if lost_since is None else lost_since
                if now - lost_since >= reconnect_for_s:
                    raise ClientError(
                        f"the stream from {self.base_url} kept dropping: {exc}",
                        hint="is the server still running? (`hive serve`)",
                    ) from exc
                failures += 1
                time.sleep(min(0.1 * 2**failures, 2.0))

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

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        # A service start waits for its readiness probe (readyTimeoutMs may be minutes).
        return self.request("POST", path, json=body, timeout=900)

    def delete(self, path: str, body: dict[str, Any] | None = None, **params: Any) -> Any:
        # A delete stops processes and removes a worktree: it may take minutes.
        return self.request("DELETE", path, json=body, params=params or None, timeout=900)
