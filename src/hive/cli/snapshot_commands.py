"""`hive rescue`, and the snapshot part of `hive gc`: the work deletes kept."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hive.cli.client import HiveClient
from hive.cli.session import client_session

_Url = Annotated[
    str | None, typer.Option("--url", envvar="HIVE_URL", help="Address of the Hive server.")
]


def rescue(
    cell: Annotated[str, typer.Argument(help="The deleted cell's id (or a unique prefix).")],
    path: Annotated[
        Path | None,
        typer.Option("--path", help="Where the worktree goes (default: beside the repository)."),
    ] = None,
    url: _Url = None,
) -> None:
    """Bring back the uncommitted work a delete kept: a new worktree on a new branch
    whose last commit is the snapshot."""
    body = {"path": str(path.expanduser().absolute())} if path is not None else {}
    with client_session(url) as client:
        rescued = client.post(f"/api/snapshots/{cell}/rescue", body)
    console = Console(highlight=False)
    console.print(f"rescued cell {rescued['snapshot']['cellId']} into {escape(rescued['path'])}")
    console.print(f"  branch {rescued['branch']}: its last commit is the snapshot")
    console.print("  `git reset HEAD~1` there makes the work uncommitted again")


def prune_snapshots(client: HiveClient, older_than: str, *, apply: bool) -> None:
    """List (or with `apply` delete) the snapshots deletes kept that are old enough."""
    if apply:
        body = client.delete("/api/snapshots", olderThan=older_than)
    else:
        body = client.get("/api/snapshots", olderThan=older_than)
    console = Console(highlight=False)
    found: list[dict[str, Any]] = body["snapshots"]
    if not found:
        console.print(f"no snapshots older than {escape(older_than)}")
        return
    console.print(_table(found))
    if apply:
        console.print(f"deleted {len(found)} snapshot(s)")
    else:
        console.print(f"would delete {len(found)} snapshot(s); run again with --apply")


def _table(snapshots: list[dict[str, Any]]) -> Table:
    table = Table("cell", "taken", "repository", "ref", box=None)
    for s in snapshots:
        table.add_row(s["cellId"][:12], s["createdAt"], escape(s["repository"]), s["ref"])
    return table


def register(app: typer.Typer) -> None:
    app.command()(rescue)
