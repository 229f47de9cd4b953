"""OpenCodeServer start failures, with stand-in scripts instead of the OpenCode binary."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from hive.agents.opencode_server import OpenCodeServer, OpenCodeServerSpec, OpenCodeStartError
from hive.services.logs import DEFAULT_MAX_BYTES
from tests.support.opencode import free_port


def spec(tmp_path: Path, script: str, start_timeout_s: float = 60) -> OpenCodeServerSpec:
    binary = tmp_path / "opencode"
    binary.write_text(f"#!/bin/sh\n{script}\n")
    binary.chmod(0o755)
    return OpenCodeServerSpec(
        binary=binary,
        port=free_port(),
        home=tmp_path / "home",
        log_path=tmp_path / "oc.log",
        env={"PATH": "/usr/bin:/bin"},
        start_timeout_s=start_timeout_s,
    )


async def test_a_server_that_exits_is_reported_with_its_log(tmp_path: Path) -> None:
    with pytest.raises(OpenCodeStartError, match=r"exited with 3; see .*oc\.log"):
        await OpenCodeServer.start(spec(tmp_path, 'echo "bad config" >&2; exit 3'))
    assert "bad config" in (tmp_path / "oc.log").read_text()


async def test_a_large_log_is_rotated_when_the_server_starts(tmp_path: Path) -> None:
    log = tmp_path / "oc.log"
    log.write_bytes(b"old line\n" * (DEFAULT_MAX_BYTES // 9 + 1))
    with pytest.raises(OpenCodeStartError):
        await OpenCodeServer.start(spec(tmp_path, 'echo "this run" >&2; exit 3'))
    assert log.read_text().count("old line") == 0 and "this run" in log.read_text()
    assert (tmp_path / "oc.log.1").read_text().startswith("old line")
    assert log.stat().st_mode & 0o777 == 0o600


async def test_a_server_that_never_answers_is_stopped(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    with pytest.raises(OpenCodeStartError, match="not healthy within"):
        await OpenCodeServer.start(spec(tmp_path, f"echo $$ > {pidfile}; exec sleep 600", 1))
    pid = int(pidfile.read_text())
    assert (
        not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
    )


async def test_the_environment_is_its_own(tmp_path: Path) -> None:
    env = spec(tmp_path, "true").environment()
    assert env["HOME"] == str(tmp_path / "home")
    assert env["XDG_CONFIG_HOME"].startswith(env["HOME"])
    assert "OPENCODE_SERVER_PASSWORD" not in env


def test_without_a_home_it_keeps_the_environments_and_runs_in_its_cwd(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs a home or a cwd"):
        OpenCodeServerSpec(binary=tmp_path / "opencode", port=1, log_path=tmp_path / "oc.log")
    kept = OpenCodeServerSpec(
        binary=tmp_path / "opencode",
        port=1,
        log_path=tmp_path / "oc.log",
        cwd=tmp_path / "run",
        password="pw",
        env={"HOME": "/home/someone", "PATH": "/usr/bin"},
    )
    assert kept.environment() == {
        "HOME": "/home/someone",
        "PATH": "/usr/bin",
        "OPENCODE_SERVER_PASSWORD": "pw",
    }
    assert kept.workdir == tmp_path / "run"


async def test_the_server_runs_in_its_cwd(tmp_path: Path) -> None:
    server_spec = replace(spec(tmp_path, "pwd; exit 4"), home=None, cwd=tmp_path / "run")
    with pytest.raises(OpenCodeStartError, match="exited with 4"):
        await OpenCodeServer.start(server_spec)
    # The log's first line is Hive's start stamp; the server's own output follows.
    assert (tmp_path / "oc.log").read_text().splitlines()[-1] == str(tmp_path / "run")
