"""`hive say`, `hive attach` and `hive models`: talking to a cell's agent."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hive.cli.cell_resolution import cell_id_of
from hive.cli.client import ClientError
from hive.cli.render import agent_text
from hive.cli.session import client_session
from hive.cli.workspace_resolution import resolve_workspace

_Url = Annotated[
    str | None, typer.Option("--url", envvar="HIVE_URL", help="Address of the Hive server.")
]
_Cell = Annotated[str, typer.Argument(help="Cell id (or a unique prefix).")]


def split_model(given: str | None) -> tuple[str | None, str | None]:
    """`--model provider/model` (or a bare model id, whose provider the server finds)."""
    if given is None:
        return None, None
    provider, slash, model = given.partition("/")
    if not slash:
        return None, given
    if not provider or not model:
        raise typer.BadParameter("give PROVIDER/MODEL, e.g. anthropic/claude-sonnet-4")
    return provider, model


def say(
    cell: _Cell,
    text: Annotated[str, typer.Argument(help="The message; `-` reads it from stdin.")],
    url: _Url = None,
) -> None:
    """Send the cell's agent a follow-up message (it starts a turn and returns)."""
    message = sys.stdin.read() if text == "-" else text
    with client_session(url) as client:
        cell_id = cell_id_of(client, cell)
        agent = client.post(f"/api/cells/{cell_id}/agent/message", {"text": message})
    Console(highlight=False).print(f"sent to cell {cell_id[:12]}: agent {agent_text(agent)}")


def attach(
    cell: _Cell,
    print_only: Annotated[
        bool, typer.Option("--print", help="Print the command instead of running it.")
    ] = False,
    url: _Url = None,
) -> None:
    """Attach this terminal to the cell's agent (tmux for a command agent, OpenCode's
    TUI for an OpenCode session)."""
    with client_session(url) as client:
        cell_id = cell_id_of(client, cell)
        agent = client.get(f"/api/cells/{cell_id}").get("agent") or {}
    command = agent.get("attach")
    if not command:
        why = "it has no agent" if agent.get("type") in (None, "none") else "it has no session"
        Console(stderr=True, highlight=False).print(
            f"[red bold]error:[/] cell {cell_id[:12]} cannot be attached: {why}"
        )
        raise typer.Exit(1)
    if print_only or not sys.stdout.isatty():
        print(command)
        return
    # The terminal becomes the agent's; the command is the server's own, quoted there.
    os.execvp("bash", ["bash", "-c", command])


_Workspace = Annotated[
    str | None,
    typer.Option(
        "--workspace", "-w", help="Workspace id, label or path (default: the current repository)."
    ),
]


def models(url: _Url = None, workspace: _Workspace = None) -> None:
    """List the providers and models the OpenCode agent offers (for `hive new --model`)."""
    with client_session(url) as client:
        body = client.get("/api/agents/models", workspaceId=resolve_workspace(client, workspace))
        if not body["available"]:
            raise ClientError(
                f"no models to list: {body.get('reason')}",
                hint="install OpenCode, or set HIVE_OPENCODE_BIN / HIVE_OPENCODE_URL",
            )
    console = Console(highlight=False)
    table = Table(box=None, header_style="bold")
    for column in ("PROVIDER", "MODEL", "DEFAULT"):
        table.add_column(column)
    for provider in body["providers"]:
        for model in provider["models"]:
            default = "yes" if model == provider.get("defaultModel") else ""
            table.add_row(escape(provider["id"]), escape(model), default)
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command()(say)
    app.command()(attach)
    app.command()(models)
