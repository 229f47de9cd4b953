"""A small synchronous client of Hive's HTTP API with errors people can act on."""

from __future__ import annotations

import os
from typing import Any

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

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.ConnectError as exc:
            raise ClientError(
                f"no Hive server is answering at {self.base_url}",
                hint="start one with `hive serve` inside your repository "
                "(or set HIVE_URL to the server's address)",
            ) from exc
        except httpx.TimeoutException as exc:
            raise ClientError(f"the Hive server at {self.base_url} did not answer in time") from exc
        if response.is_success:
            return response.json() if response.content else None
        try:
            body = response.json()
        except ValueError:
            body = {"message": response.text or response.reason_phrase}
        raise ClientError(
            f"{body.get('message', response.reason_phrase)} (HTTP {response.status_code})",
            hint=body.get("hint"),
        )

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.request("POST", path, json=body)

    def delete(self, path: str) -> Any:
        # A delete stops processes and removes a worktree: it may take minutes.
        return self.request("DELETE", path, timeout=900)
