"""`hive top`: what every cell costs, live on a terminal (like `docker stats`)."""

from __future__ import annotations

import sys
import time
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.live import Live

from hive.cli.client import HiveClient
from hive.cli.resource_views import top_view
from hive.cli.session import client_session
from hive.cli.workspace_resolution import resolve_workspace


class Sort(StrEnum):
    CPU = "cpu"
    MEMORY = "memory"
    DISK = "disk"
    NAME = "name"


_Url = Annotated[
    str | None, typer.Option("--url", envvar="HIVE_URL", help="Address of the Hive server.")
]


def _fetch(client: HiveClient, workspace_id: str | None, sort: Sort) -> dict[str, Any]:
    body: dict[str, Any] = client.get("/api/resources", workspaceId=workspace_id, sort=str(sort))
    return body


def top(
    sort: Annotated[
        Sort, typer.Option("--sort", "-s", help="cpu, memory, disk (biggest first) or name.")
    ] = Sort.CPU,
    workspace: Annotated[
        str | None,
        typer.Option("--workspace", "-w", help="Only this workspace's cells (id, label or path)."),
    ] = None,
    interval: Annotated[
        float, typer.Option("--interval", "-n", min=0.2, help="Seconds between refreshes.")
    ] = 2.0,
    once: Annotated[bool, typer.Option("--once", help="Print the table once and exit.")] = False,
    url: _Url = None,
) -> None:
    """Show every cell's CPU, memory, disk and agent, its services beneath it. On a
    terminal it refreshes in place until Ctrl-C; otherwise it prints once."""
    console = Console(highlight=False)
    with client_session(url) as client:
        workspace_id = resolve_workspace(client, workspace) if workspace else None
        body = _fetch(client, workspace_id, sort)
        if once or not sys.stdout.isatty():
            console.print(top_view(body))
            return
        try:
            with Live(top_view(body), console=console, auto_refresh=False) as live:
                while True:
                    time.sleep(interval)
                    live.update(top_view(_fetch(client, workspace_id, sort)), refresh=True)
        except KeyboardInterrupt:
            pass  # the last table stays on the screen


def register(app: typer.Typer) -> None:
    app.command()(top)
