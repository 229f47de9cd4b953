"""A real Hive server (uvicorn on a free port) in a background thread, for tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from hive.cli.serving import BackgroundServer
from hive.settings import Settings

SETTLED = frozenset({"ready", "error", "archived"})


class LiveHive:
    """A running server plus an httpx client pointed at it that sends the server's token."""

    def __init__(self, settings: Settings, register: list[Path]) -> None:
        self.settings = settings
        self._server = BackgroundServer(settings, register=register)
        self.url = self._server.start()
        self.token = self._server.token.value
        self.auth = {"Authorization": f"Bearer {self.token}"}
        self.http = httpx.Client(base_url=self.url, timeout=60, headers=self.auth)

    def stop(self) -> None:
        """Stop the server (idempotent), as a user pressing Ctrl-C would."""
        if self.http.is_closed:
            return
        self.http.close()
        self._server.stop()

    def workspace_id(self) -> str:
        return str(self.http.get("/api/workspaces").json()["workspaces"][0]["id"])

    def create(self, name: str = "cell", template: str = "basic", **body: Any) -> dict[str, Any]:
        payload = {"workspaceId": self.workspace_id(), "templateId": template, "name": name}
        response = self.http.post("/api/cells", json={**payload, **body})
        assert response.status_code == 201, response.text
        return dict(response.json())

    def cell(self, cell_id: str) -> dict[str, Any]:
        response = self.http.get(f"/api/cells/{cell_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def wait_for(
        self, cell_id: str, predicate: Callable[[dict[str, Any]], bool], timeout: float = 60
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            cell = self.cell(cell_id)
            if predicate(cell):
                return cell
            if time.monotonic() > deadline:
                raise AssertionError(f"cell never reached the expected state: {cell}")
            time.sleep(0.05)

    def settle(self, cell_id: str, timeout: float = 60) -> dict[str, Any]:
        # A create's last checkpoint (and mark_ready's timing row) lands just after the
        # ready status: settled is once that is there too.
        return self.wait_for(
            cell_id,
            lambda cell: (
                cell["status"] in SETTLED
                and (cell["status"] != "ready" or "mark_ready" in cell["completedSteps"])
            ),
            timeout,
        )
