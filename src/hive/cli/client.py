"""A small synchronous client of Hive's HTTP API with errors people can act on."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import httpx

from hive.settings import Settings


class ClientError(Exception):
    """Something the CLI reports and exits on: message plus what to do."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def default_url() -> str:
    return os.environ.get("HIVE_URL") or Settings.from_env().base_url


class HiveClient:
    def __init__(self, base_url: str | None = None, timeout: float = 60.0) -> None:
        self.base_url = (base_url or default_url()).rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)

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
        raise ClientError(
            f"{body.get('message', response.reason_phrase)} (HTTP {response.status_code})",
            hint=body.get("hint"),
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

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        # A service start waits for its readiness probe (readyTimeoutMs may be minutes).
        return self.request("POST", path, json=body, timeout=900)

    def delete(self, path: str) -> Any:
        # A delete stops processes and removes a worktree: it may take minutes.
        return self.request("DELETE", path, timeout=900)
