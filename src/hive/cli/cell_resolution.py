"""The cell a command names: a whole id, or the unique prefix `hive ls` shows (or, for
`cell_named`, its name)."""

from __future__ import annotations

from typing import Any

from hive.cli.client import ClientError, HiveClient

FULL_ID_LENGTH = 32


def cell_id_of(client: HiveClient, given: str) -> str:
    if len(given) == FULL_ID_LENGTH:
        return given
    matches = [c["id"] for c in client.get("/api/cells")["cells"] if c["id"].startswith(given)]
    if len(matches) == 1:
        return str(matches[0])
    if not matches:
        raise ClientError(f"no cell id starts with '{given}'", hint="`hive ls` lists cells")
    raise ClientError(f"'{given}' matches {len(matches)} cells", hint="give more of the id")


def cell_named(client: HiveClient, given: str) -> dict[str, Any]:
    """The cell `given` names: its whole id, the unique prefix of one, or its exact name.

    An unknown cell is a ClientError naming what was given."""
    cells: list[dict[str, Any]] = client.get("/api/cells")["cells"]
    for matches in (
        [c for c in cells if c["id"] == given],
        [c for c in cells if c["name"] == given],
        [c for c in cells if c["id"].startswith(given)],
    ):
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise ClientError(
                f"'{given}' matches {len(matches)} cells",
                hint="give more of the id (`hive ls` lists cells)",
            )
    raise ClientError(
        f"no cell is named '{given}' or has an id starting with it",
        hint="`hive ls` lists cells",
    )
