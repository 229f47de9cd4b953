"""The explicit environment cell commands run with: user basics, template env, cell facts.

Hive's own settings and secrets (HIVE_HOME, tokens in the server's environment) are
not passed on: a cell sees only what its template gives it.
"""

from __future__ import annotations

from collections.abc import Mapping

from hive.store.records import CellRecord

#: Variables of the user's session that commands legitimately need.
USER_BASICS: tuple[str, ...] = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "SHELL",
    "TMPDIR",
    "TERM",
    "TZ",
)


def user_basics(environ: Mapping[str, str]) -> dict[str, str]:
    return {name: environ[name] for name in USER_BASICS if name in environ}


def cell_variables(cell: CellRecord, workspace_path: str) -> dict[str, str]:
    return {
        "HIVE_CELL_ID": cell.id,
        "HIVE_CELL_NAME": cell.name,
        "HIVE_CELL_PATH": str(cell.worktree_path),
        "HIVE_BRANCH": cell.branch_name,
        "HIVE_BASE_COMMIT": cell.base_commit or "",
        "HIVE_TEMPLATE_ID": cell.template_id,
        "HIVE_WORKSPACE_PATH": workspace_path,
    }


def command_environment(
    environ: Mapping[str, str],
    cell: CellRecord,
    workspace_path: str,
    template_env: Mapping[str, str],
) -> dict[str, str]:
    """Later layers win: basics, then the template's env, then the cell's own facts."""
    return {
        **user_basics(environ),
        **template_env,
        **cell_variables(cell, workspace_path),
    }
