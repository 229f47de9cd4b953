"""Fixtures for the whole suite: real repositories, real SQLite, a real uvicorn server."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import sqlite3
import subprocess
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import closing, suppress
from pathlib import Path

import pytest
import pytest_asyncio

from hive.agents.opencode_server import OpenCodeServer, OpenCodeServerSpec
from hive.agents.tmux import socket_path
from hive.services.identity import is_same_process
from hive.settings import Settings
from tests.support.fake_llm import FakeLLM
from tests.support.opencode import config_content, free_port, opencode_binary
from tests.support.ports import worker_port_range
from tests.support.repos import make_repo
from tests.support.server import LiveHive


@pytest.fixture(autouse=True)
def _isolated_git_config(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user's global git config (signing, hooks) must not change what tests see."""
    empty = tmp_path_factory.getbasetemp() / "empty.gitconfig"
    empty.touch()
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


@pytest.fixture(autouse=True)
def _plain_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Setup commands run in login shells, which read the user's dotfiles. Some of those
    take a lock (`pyenv rehash` does); a test that stops a shell while it holds one
    leaves the lock behind, and every later shell waits a minute for it."""
    home = tmp_path_factory.getbasetemp() / "home"
    home.mkdir(exist_ok=True)
    monkeypatch.setenv("HOME", str(home))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # OpenCode off unless a test turns it on: an `opencode` on the developer's PATH must
    # not make every test cell start a real agent.
    return Settings(
        hive_home=tmp_path / "home",
        port=0,
        setup_timeout_s=30,
        kill_grace_s=1,
        opencode_bin="none",
        port_range=worker_port_range(),
    )


@pytest.fixture
def start_hive(settings: Settings) -> Iterator[Callable[..., LiveHive]]:
    """Start servers on demand (several, one after another, for restart tests)."""
    running: list[LiveHive] = []

    def start(register: list[Path] | None = None, **overrides: object) -> LiveHive:
        live = LiveHive(settings.model_copy(update=overrides), register or [])
        running.append(live)
        return live

    yield start
    for live in running:
        live.stop()
    stop_leftover_services(settings.database_path)
    stop_tmux_server(settings.hive_home)


def stop_tmux_server(hive_home: Path) -> None:
    """Command agents outlive their server by design too (on Hive's tmux server)."""
    socket = socket_path(hive_home, Path(tempfile.gettempdir()))
    if socket.exists() and shutil.which("tmux"):
        subprocess.run(["tmux", "-S", str(socket), "kill-server"], capture_output=True, check=False)


def stop_leftover_services(database: Path) -> None:
    """Services outlive their server by design; a test's must not outlive the test."""
    if not database.exists():
        return
    with closing(sqlite3.connect(database)) as conn:
        rows = conn.execute(
            "SELECT pid, process_started FROM cell_services WHERE pid IS NOT NULL "
            "UNION ALL SELECT pid, process_started FROM cell_processes "
            "UNION ALL SELECT pid, process_started FROM agent_servers WHERE pid IS NOT NULL"
        ).fetchall()
    for pid, started in rows:
        if started is not None and is_same_process(pid, started):
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def fake_llm() -> Iterator[FakeLLM]:
    llm = FakeLLM().start()
    yield llm
    llm.close()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def opencode_server(
    fake_llm: FakeLLM, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[OpenCodeServer]:
    binary = opencode_binary()
    if binary is None:
        pytest.skip("no OpenCode binary: `make opencode` installs it (needs npm)")
    root = tmp_path_factory.mktemp("opencode")
    spec = OpenCodeServerSpec(
        binary=binary,
        port=free_port(),
        home=root / "home",
        log_path=root / "opencode.log",
        password=secrets.token_hex(8),
        env={
            "PATH": os.environ["PATH"],
            "OPENCODE_DISABLE_MODELS_FETCH": "1",
            "OPENCODE_DISABLE_AUTOUPDATE": "1",
            "OPENCODE_CONFIG_CONTENT": config_content(fake_llm.base_url),
        },
    )
    server = await OpenCodeServer.start(spec)
    yield server
    await server.stop()


@pytest.fixture
def hive(start_hive: Callable[..., LiveHive], repo: Path) -> LiveHive:
    return start_hive([repo])
