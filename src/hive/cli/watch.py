"""Follow a cell's provisioning on its event stream until it settles.

A terminal gets a live checklist (Rich Live); anything else one line per finished step;
`--json` the events themselves, a JSON line each. A connection that drops is reopened
with Last-Event-ID, so nothing is missed or shown twice.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

from rich.console import Console, RenderableType
from rich.live import Live

from hive.cli.checklist import Checklist
from hive.cli.client import ClientError, HiveClient
from hive.cli.render import print_setup_error

#: How long the stream may stay unreachable before the watch gives up.
RECONNECT_FOR_S = 30.0

Interrupted = Literal["cancel", "detach"]
OnInterrupt = Callable[[], Interrupted]
"""Asked on Ctrl-C: cancel the provisioning, or leave it running."""


class StoppedWatchingError(Exception):
    """The user stopped watching; the cell goes on."""


class CellWatch:
    def __init__(
        self,
        client: HiveClient,
        console: Console,
        cell_id: str,
        *,
        run_id: str | None = None,
        as_json: bool = False,
        on_interrupt: OnInterrupt | None = None,
        reconnect_for_s: float = RECONNECT_FOR_S,
    ) -> None:
        self._client = client
        self._console = console
        self._cell_id = cell_id
        self._run_id = run_id
        self._as_json = as_json
        self._on_interrupt = on_interrupt
        self._reconnect_for_s = reconnect_for_s
        self._lock = threading.Lock()
        self._last_id: str | None = None

    def run(self) -> dict[str, Any]:
        """Follow until the cell is ready, in error or gone; returns the final detail
        (`status: deleted` when gone); `StoppedWatchingError` when the user stops."""
        detail = self._detail()
        steps = (detail.get("provisioning") or {}).get("steps") or []
        checklist = Checklist(self._cell_id, steps, run_id=self._run_id)
        checklist.estimate(detail.get("eta"))
        live = self._console.is_terminal and not self._as_json
        while True:
            try:
                with self._view(checklist, live):
                    self._follow(checklist, live)
                break
            except KeyboardInterrupt:
                if self._on_interrupt is None or self._on_interrupt() == "detach":
                    raise StoppedWatchingError from None
                self._cancel()
        final = self._detail(missing_ok=True)
        if not self._as_json:
            self._summary(final)
        return final

    @contextmanager
    def _view(self, checklist: Checklist, live: bool) -> Iterator[None]:
        if not live:
            yield
            return

        def draw() -> RenderableType:
            with self._lock:
                return checklist.render()

        with Live(get_renderable=draw, console=self._console, refresh_per_second=10):
            yield

    def _follow(self, checklist: Checklist, live: bool) -> None:
        """Until the server ends the stream: the cell has settled (or is gone)."""
        path = f"/api/cells/{self._cell_id}/timings/stream"
        stream = self._client.events(
            path, last_event_id=self._last_id, reconnect_for_s=self._reconnect_for_s
        )
        for event in stream:
            data = json.loads(event.data) if event.data else None
            self._take(checklist, event.event, event.id, data, live)

    def _take(
        self, checklist: Checklist, kind: str, event_id: str | None, data: Any, live: bool
    ) -> None:
        if event_id is not None:
            self._last_id = event_id
        if self._as_json:
            shown_id = int(event_id) if event_id is not None and event_id.isdigit() else event_id
            line = json.dumps({"id": shown_id, "event": kind, "data": data})
            self._console.file.write(line + "\n")
            self._console.file.flush()
            return
        with self._lock:
            lines = checklist.apply(kind, data)
        if not live:
            for line in lines:
                self._console.print(line, soft_wrap=True)  # a log line: never folded
        elif _ends_step(kind, data):
            # A step ended: the estimate of what is left changes with it.
            eta = self._detail(missing_ok=True).get("eta")
            with self._lock:
                checklist.estimate(eta)

    def _cancel(self) -> None:
        try:
            self._client.post(f"/api/cells/{self._cell_id}/cancel")
        except ClientError as exc:
            # Settled meanwhile (409): what the stream says next is the outcome.
            self._console.print(f"[yellow]could not cancel:[/] {exc.message}")
            return
        self._console.print("cancelling: stopping its processes and releasing its ports …")

    def _detail(self, *, missing_ok: bool = False) -> dict[str, Any]:
        try:
            detail: dict[str, Any] = self._client.get(f"/api/cells/{self._cell_id}")
        except ClientError as exc:
            if not missing_ok or exc.status != 404:
                raise
            return {"id": self._cell_id, "status": "deleted"}
        return detail

    def _summary(self, cell: dict[str, Any]) -> None:
        if cell["status"] == "ready":
            self._console.print(f"[green bold]ready[/]  {cell['worktreePath']}")
        elif cell["status"] == "deleted":
            self._console.print("[red bold]the cell was deleted[/]")
        elif cell.get("lastSetupError"):
            print_setup_error(self._console, cell["lastSetupError"])


def _ends_step(kind: str, data: Any) -> bool:
    return (
        kind == "timing"
        and isinstance(data, dict)
        and data.get("phase") == "end"
        and ":" not in str(data.get("step"))
    )
