"""The HTTP client as commands use it: its errors end the command, explained."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from hive.cli.client import ClientError, HiveClient


@contextmanager
def client_session(url: str | None) -> Iterator[HiveClient]:
    """A client whose errors end the command with the message, the hint and exit code 1."""
    console = Console(stderr=True, highlight=False)
    try:
        with HiveClient(url) as client:
            yield client
    except ClientError as exc:
        console.print(f"[red bold]error:[/] {exc.message}", markup=True)
        if exc.hint:
            console.print(f"[bold]hint:[/] {exc.hint}")
        raise typer.Exit(1) from None
