"""The cell a command names: a whole id, or the unique prefix `hive ls` shows."""

from __future__ import annotations

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
