"""Registering a repository as a workspace: it must be a git repository with a config."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hive.config.loader import CONFIG_FILENAMES, find_config_file
from hive.core.errors import ConfigError, InvalidInputError
from hive.store.records import WorkspaceRecord
from hive.store.workspaces import WorkspaceStore
from hive.workspace.git import repo_root


async def register_workspace(
    store: WorkspaceStore, path: Path, label: str | None = None
) -> tuple[WorkspaceRecord, bool]:
    """Register the repository containing `path`; returns (workspace, newly added).

    The config must exist but may be broken: it is re-read on every use, and its
    errors are shown by the templates endpoint, so the user can fix it in place.
    """
    resolved = await asyncio.to_thread(lambda: path.expanduser().resolve())
    if not await asyncio.to_thread(resolved.is_dir):
        raise InvalidInputError(f"path: {resolved} is not a directory")
    root = await repo_root(resolved)
    if await asyncio.to_thread(find_config_file, root) is None:
        raise ConfigError(
            f"{root} has no {' or '.join(CONFIG_FILENAMES)}",
            file=str(root / CONFIG_FILENAMES[0]),
            hint="create hive.config.json at the repository root (`hive config schema` "
            "prints its JSON Schema), then register the workspace again",
        )
    existing = await store.find_by_path(root)
    if existing is not None:
        return existing, False
    return await store.register(root, label), True
