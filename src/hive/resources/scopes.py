"""The scopes a cell's CPU and memory are counted in, and the scope a process tag names.

A scope is `cell` (all of the cell's processes), `service:<name>`, `agent` (a command
agent's pane) or `setup` (template and service setup commands). Tags are the ones
`services/process_tag.py` makes: `cell/<id>/service/<name>`, `cell/<id>/setup/…`,
`cell/<id>/agent`.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass

CELL = "cell"
AGENT = "agent"
SETUP = "setup"
_SERVICE = "service:"


def service_scope(name: str) -> str:
    return f"{_SERVICE}{name}"


def service_of(scope: str) -> str | None:
    """The service a scope counts, None for the other scopes."""
    return scope[len(_SERVICE) :] if scope.startswith(_SERVICE) else None


@dataclass(frozen=True)
class Owner:
    """The cell a process belongs to, and the scope it is counted in."""

    cell_id: str
    scope: str


def owner_of_tag(tag: str | None, cells: Container[str]) -> Owner | None:
    """Whose process a tag says it is; None for no tag, another server's cell (its id is
    not in `cells`) or a kind of tag this server does not make."""
    if not tag or not tag.startswith("cell/"):
        return None
    cell_id, _, kind = tag[len("cell/") :].partition("/")
    if cell_id not in cells:
        return None
    if kind.startswith("service/") and len(kind) > len("service/"):
        return Owner(cell_id, service_scope(kind[len("service/") :]))
    if kind.startswith("setup/"):
        return Owner(cell_id, SETUP)
    if kind == "agent":
        return Owner(cell_id, AGENT)
    return None
