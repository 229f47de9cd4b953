"""`.hive/` in a worktree: the cell's resolved runtime for the agent and the user's scripts.

`.hive/env` is a dotenv file (every variable of the cell, each service's `<NAME>_PORT`
and `<NAME>_URL`); `.hive/cell.json` describes the cell and its services;
`.hive/PROMPT.md` is the agent's assembled first prompt, and `.hive/instructions.md`
the same text under the name the TypeScript Hive gives OpenCode (`instructions`). A
`.hive/.gitignore` of `*` keeps the directory out of the cell's `git status`. The
template env may carry secrets, so the directory is 0700 and its files 0600.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

CELL_DIR = ".hive"
PROMPT_FILE = "PROMPT.md"
INSTRUCTIONS_FILE = "instructions.md"


def _dotenv_value(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    escaped = escaped.replace("$", "\\$")
    return f'"{escaped}"'


def write_cell_files(worktree: Path, env: Mapping[str, str], cell: Mapping[str, Any]) -> Path:
    """Write (atomically) `.hive/env` and `.hive/cell.json`; blocking, run in a thread."""
    directory = _cell_dir(worktree)
    lines = [f"{name}={_dotenv_value(value)}" for name, value in sorted(env.items())]
    _write(
        directory / "env",
        "# written by Hive; rewritten when ports change\n" + "\n".join(lines) + "\n",
    )
    _write(directory / "cell.json", json.dumps(cell, indent=2, sort_keys=True) + "\n")
    return directory


def write_prompt(worktree: Path, text: str) -> Path:
    """Write `.hive/PROMPT.md` and its copy `.hive/instructions.md`; blocking. The path
    of PROMPT.md."""
    directory = _cell_dir(worktree)
    _write(directory / INSTRUCTIONS_FILE, text)
    _write(directory / PROMPT_FILE, text)
    return directory / PROMPT_FILE


def read_prompt(worktree: Path) -> str | None:
    """`.hive/PROMPT.md` of the worktree, or None when there is none; blocking."""
    try:
        return (worktree / CELL_DIR / PROMPT_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def _cell_dir(worktree: Path) -> Path:
    directory = worktree / CELL_DIR
    directory.mkdir(mode=0o700, exist_ok=True)
    _write(directory / ".gitignore", "*\n")
    return directory


def _write(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        os.fchmod(fd, 0o600)  # a leftover temporary file keeps its old mode otherwise
        handle.write(text)
    temporary.replace(path)
