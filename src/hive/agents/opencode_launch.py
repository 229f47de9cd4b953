"""What the OpenCode server Hive starts is made of: its binary, environment and password.

Everything here is pure or blocking file work (run it in a thread); OpenCodeHost
puts it together and supervises the process.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from hive.secret_files import create_secret, read_secret
from hive.settings import OPENCODE_OFF

#: Each cell's assembled prompt; OpenCode resolves a relative instruction path against
#: the project directory of each request, so one server serves every cell's own file.
INSTRUCTIONS = ".hive/instructions.md"

# Our client authenticates as the default user with Hive's password: a user's own
# settings of these would lock it out.
_NOT_PASSED = frozenset({"OPENCODE_SERVER_PASSWORD", "OPENCODE_SERVER_USERNAME"})
_PRIVATE_DIR = 0o700


class LaunchError(ValueError):
    """Hive cannot start its OpenCode server as configured; says why and what to do."""


def find_binary(setting: str | None, environ: Mapping[str, str]) -> Path:
    """The binary HIVE_OPENCODE_BIN names (a path, or a name on PATH), else `opencode`
    on PATH; LaunchError when there is none or OpenCode is turned off."""
    if setting == OPENCODE_OFF:
        raise LaunchError(
            "OpenCode is turned off (HIVE_OPENCODE_BIN=none): unset HIVE_OPENCODE_BIN to "
            "use `opencode` from PATH, or set HIVE_OPENCODE_URL to a running `opencode serve`"
        )
    found = shutil.which(setting or "opencode", path=environ.get("PATH", os.defpath))
    if found is not None:
        return Path(found).absolute()
    if setting:
        raise LaunchError(
            f"HIVE_OPENCODE_BIN={setting} is not an executable file: set it to the path of "
            "the opencode binary (or `none` to turn OpenCode off), or set HIVE_OPENCODE_URL to "
            "a running `opencode serve`"
        )
    raise LaunchError(
        "the opencode binary is not on PATH: install OpenCode (https://opencode.ai), or "
        "set HIVE_OPENCODE_BIN to its path, or HIVE_OPENCODE_URL to a running `opencode serve`"
    )


def merged_config(environ: Mapping[str, str]) -> str:
    """OPENCODE_CONFIG_CONTENT for the server: the user's own (if any) with Hive's
    instructions file appended to its `instructions`."""
    raw = environ.get("OPENCODE_CONFIG_CONTENT", "").strip()
    try:
        config = json.loads(raw) if raw else {}
    except json.JSONDecodeError as exc:
        raise LaunchError(
            f"OPENCODE_CONFIG_CONTENT in Hive's environment is not JSON ({exc}): fix or unset it"
        ) from None
    if not isinstance(config, dict):
        raise LaunchError(
            "OPENCODE_CONFIG_CONTENT in Hive's environment is not a JSON object: fix or unset it"
        )
    instructions = config.get("instructions", [])
    if not isinstance(instructions, list):
        raise LaunchError(
            "OPENCODE_CONFIG_CONTENT in Hive's environment has an `instructions` that is not "
            "a list: make it a list of paths"
        )
    if INSTRUCTIONS not in instructions:
        instructions = [*instructions, INSTRUCTIONS]
    return json.dumps({**config, "instructions": instructions})


def server_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """Hive's environment (PATH, the user's provider keys) without Hive's own settings
    and secrets, plus the merged config; LaunchError for a config it cannot merge."""
    env = {
        name: value
        for name, value in environ.items()
        if not name.startswith("HIVE_") and name not in _NOT_PASSED
    }
    env["OPENCODE_CONFIG_CONTENT"] = merged_config(environ)
    env["OPENCODE_DISABLE_AUTOUPDATE"] = "1"
    return env


def read_password(path: Path) -> str | None:
    """The stored password, its file tightened to 0600 if others could read it; None
    when there is none (blocking)."""
    return read_secret(path)


def ensure_password(path: Path) -> str:
    """The stored password, made once (0600, in a 0700 directory) if there is none; when
    two Hive processes make one at once, the first written is kept (blocking)."""
    path.parent.mkdir(mode=_PRIVATE_DIR, parents=True, exist_ok=True)
    if path.parent.stat().st_mode & 0o077:
        path.parent.chmod(_PRIVATE_DIR)
    existing = read_password(path)
    if existing is not None:
        return existing
    return create_secret(path, read_password)
