"""The `hive` CLI run as a user runs it: a real process, finding the token by itself."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import hive as hive_package
from tests.support.ports import worker_port_range
from tests.support.server import LiveHive

#: The source the tests import: a CLI started elsewhere (its own cwd) must run the same.
_SOURCE = str(Path(hive_package.__file__).resolve().parents[1])


def cli_env(hive: LiveHive | None = None, url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of a CLI run: `HIVE_URL`, and `HIVE_HOME` of `hive` if given.

    No token is passed: the CLI finds it in `HIVE_HOME` (or in `extra`'s HIVE_TOKEN).
    """
    env = {k: v for k, v in os.environ.items() if k not in ("HIVE_TOKEN", "HIVE_HOME")}
    paths = [_SOURCE, *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env.update(COLUMNS="200", NO_COLOR="1", PYTHONPATH=os.pathsep.join(paths))
    # A served Hive starts no OpenCode of the developer's unless a test asks for one.
    env.setdefault("HIVE_OPENCODE_BIN", "none")
    env.setdefault("HIVE_PORT_RANGE", "{}-{}".format(*worker_port_range()))
    if hive is not None:
        env.update(HIVE_URL=hive.url, HIVE_HOME=str(hive.settings.hive_home))
    if url is not None:
        env["HIVE_URL"] = url
    return {**env, **extra}


def hive_cli(
    *args: str, cwd: Path, hive: LiveHive | None = None, url: str | None = None, **extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hive", *args],
        cwd=cwd,
        env=cli_env(hive, url, **extra),
        capture_output=True,
        text=True,
        timeout=120,
    )
