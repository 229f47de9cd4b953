"""`hive open [CELL]`: the running server's web UI in the default browser, signed in."""

from __future__ import annotations

import webbrowser
from typing import Annotated

import typer
from rich.console import Console

from hive.cli.cell_resolution import cell_named
from hive.cli.session import client_session
from hive.cli.web_urls import cell_page_url, page_url

_Url = Annotated[
    str | None, typer.Option("--url", envvar="HIVE_URL", help="Address of the Hive server.")
]


def open_ui(
    cell: Annotated[
        str | None,
        typer.Argument(
            metavar="CELL", help="A cell (name, id or unique id prefix): open its page."
        ),
    ] = None,
    print_only: Annotated[
        bool, typer.Option("--print", help="Print the address instead of opening a browser.")
    ] = False,
    url: _Url = None,
) -> None:
    """Open the web UI (or a cell's page) in the default browser; the address carries
    the token, which the browser trades for a cookie on its first visit."""
    with client_session(url) as client:
        if cell is None:
            client.get("/api/workspaces")  # a server answers, and takes this token
            address = page_url(client.base_url, client.token)
        else:
            address = cell_page_url(client.base_url, client.token, cell_named(client, cell)["id"])
    # No markup in tokens, no wrapping: the address must copy and click whole.
    console = Console(highlight=False, soft_wrap=True)
    if print_only:
        console.print(address, markup=False)
        return
    if webbrowser.open(address):
        console.print("opened the Hive web UI in your browser")
        return
    console.print("no browser could be opened; open this address yourself:")
    console.print(address, markup=False)


def register(app: typer.Typer) -> None:
    app.command("open")(open_ui)
