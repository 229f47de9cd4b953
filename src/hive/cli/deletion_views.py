"""What `hive rm` prints for a deleted cell: its branch, the work it kept, warnings."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape


def print_deletion(console: Console, outcome: dict[str, Any]) -> None:
    console.print(f"deleted cell {outcome['id']}")
    branch = outcome.get("branch") or {}
    if branch.get("deleted"):
        console.print(f"  branch {escape(branch['name'])} deleted (no new commits)")
    elif branch:
        reason = escape(branch.get("reason") or "kept")
        console.print(f"  [yellow]branch {escape(branch['name'])} {reason}[/]")
    if snapshot := outcome.get("snapshot"):
        print_snapshot(console, snapshot)
    for warning in outcome.get("warnings", []):
        console.print(f"  [yellow]warning:[/] {escape(warning)}")


def print_snapshot(console: Console, snapshot: dict[str, Any]) -> None:
    names = [*snapshot["changed"], *snapshot["added"]]
    total = snapshot["filesChanged"] + snapshot["filesAdded"]
    shown = ", ".join(names) + (" …" if len(names) < total else "")
    console.print(
        f"  [bold]uncommitted work kept[/] in {snapshot['ref']}: "
        f"{snapshot['filesChanged']} changed, {snapshot['filesAdded']} added ({escape(shown)})",
        soft_wrap=True,  # a ref and commands to copy: never folded
    )
    console.print(f"  bring it back: [bold]{snapshot['rescueCommand']}[/]", soft_wrap=True)
    console.print(f"  or without Hive: {snapshot['gitCommand']}", soft_wrap=True)


def print_failed(console: Console, result: dict[str, Any]) -> None:
    error = result.get("error") or {}
    console.print(f"[red bold]not deleted:[/] cell {escape(result['id'])}: "
                  f"{escape(error.get('message', 'failed'))}")  # fmt: skip
    if hint := error.get("hint"):
        console.print(f"  [bold]hint:[/] {escape(hint)}")
