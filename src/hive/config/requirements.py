"""A template's `requires` (Python Hive extension): the programs, repository files and
environment variables its cells cannot work without. Only the shape is checked here;
whether this machine and repository meet them is provisioning's template checks."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Annotated

from pydantic import AfterValidator, Field

from hive.config.base import HiveModel, NonEmptyStr

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _printable(value: str, what: str) -> str:
    if value != value.strip() or not value.isprintable():
        raise ValueError(f"{what} {value!r} has edge whitespace or control characters")
    return value


def _command(value: str) -> str:
    _printable(value, "command")
    # A relative path would be looked up from wherever the server runs: meaningless.
    if "/" in value and not value.startswith("/"):
        raise ValueError(
            f"command {value!r}: give a name looked up on PATH (`node`) or an absolute path"
        )
    return value


def _repository_file(value: str) -> str:
    _printable(value, "file")
    path = PurePosixPath(value)
    if path.is_absolute() or ".." in path.parts:
        raise ValueError(f"file {value!r} must be relative to the repository root, without '..'")
    return value


def _env_name(value: str) -> str:
    if not _ENV_NAME.fullmatch(value):
        raise ValueError(f"{value!r} is not an environment variable name (letters, digits, _)")
    return value


Command = Annotated[NonEmptyStr, AfterValidator(_command)]
RepositoryFile = Annotated[NonEmptyStr, AfterValidator(_repository_file)]
EnvName = Annotated[str, AfterValidator(_env_name)]


class Requirements(HiveModel):
    """What the template's cells need, checked before a cell is made (Python Hive
    extension); `POST /api/templates/{id}/validate` shows each check."""

    commands: list[Command] = Field(default_factory=list)
    """Programs the cells run, looked up on the PATH a cell gets, e.g. ["node", "pg_ctl"]."""
    files: list[RepositoryFile] = Field(default_factory=list)
    """Paths the repository must have, relative to its root, e.g. ["package.json"]."""
    env: list[EnvName] = Field(default_factory=list)
    """Variables a cell's environment must set (checked by name), e.g. ["OPENAI_API_KEY"]."""
