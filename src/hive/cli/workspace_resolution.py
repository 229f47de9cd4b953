"""Which workspace a CLI command means: `--workspace`, else the repository you stand in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hive.cli.client import ClientError, HiveClient
from hive.config.loader import find_config_file


def _containing(workspaces: list[dict[str, Any]], here: Path) -> dict[str, Any] | None:
    matches = [w for w in workspaces if here == Path(w["path"]) or Path(w["path"]) in here.parents]
    return max(matches, key=lambda w: len(w["path"]), default=None)


def repository_with_config(here: Path) -> Path | None:
    for candidate in (here, *here.parents):
        if (candidate / ".git").exists():
            return candidate if find_config_file(candidate) is not None else None
    return None


def resolve_workspace(client: HiveClient, wanted: str | None, cwd: Path | None = None) -> str:
    """Return a workspace id, registering the current repository if it has a config."""
    workspaces: list[dict[str, Any]] = client.get("/api/workspaces")["workspaces"]
    if wanted:
        for workspace in workspaces:
            if wanted in (workspace["id"], workspace["label"]):
                return str(workspace["id"])
        path = Path(wanted).expanduser().resolve()
        found = _containing(workspaces, path)
        if found is not None:
            return str(found["id"])
        return str(client.post("/api/workspaces", {"path": str(path)})["id"])
    here = (cwd or Path.cwd()).resolve()
    found = _containing(workspaces, here)
    if found is not None:
        return str(found["id"])
    repository = repository_with_config(here)
    if repository is not None:
        return str(client.post("/api/workspaces", {"path": str(repository)})["id"])
    if len(workspaces) == 1:
        return str(workspaces[0]["id"])
    known = ", ".join(f"{w['label']} ({w['path']})" for w in workspaces) or "none registered"
    raise ClientError(
        "which workspace? the current directory is not inside a registered workspace",
        hint=f"run the command inside a repository, or pass --workspace; known: {known}",
    )
