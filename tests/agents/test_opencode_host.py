"""OpenCodeHost against a real `opencode serve` (the fake model as its provider), a real
SQLite database and a real port allocator; stand-in scripts where a test needs a server
that fails. Each real start takes seconds, so every test starts as few as it can."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from hive.agents.opencode_host import MAX_FAILURES, AgentUnavailableError, OpenCodeHost
from hive.agents.opencode_launch import (
    INSTRUCTIONS,
    ensure_password,
    read_password,
    server_environment,
)
from hive.agents.opencode_running import Liveness
from hive.agents.opencode_server import OpenCodeServer
from hive.ports.allocator import PortAllocator
from hive.services.identity import is_same_process
from hive.services.restarts import RestartPolicy
from hive.settings import Settings
from hive.store.agent_servers import AgentServerStore
from hive.store.database import Database, open_database
from hive.store.leases import HIVE_OWNER, LeaseStore
from tests.support.fake_llm import FakeLLM
from tests.support.opencode import PROVIDER_ID, config_content, free_port, opencode_binary
from tests.support.repos import make_repo

DEADLINE_S = 60  # only against hangs; nothing is asserted about how long anything takes
PORTS = (41000, 41999)

MakeHost = Callable[..., OpenCodeHost]


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    db = await open_database(tmp_path / "state" / "hive.db")
    yield db
    await db.close()


@pytest.fixture
def hive_home(tmp_path: Path) -> Path:
    return tmp_path / "hive"


@pytest.fixture
def environ(tmp_path: Path, fake_llm: FakeLLM) -> dict[str, str]:
    """Hive's environment: the user's HOME (a temp one), the fake provider, a secret."""
    home = tmp_path / "user-home"
    home.mkdir()
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "OPENCODE_DISABLE_MODELS_FETCH": "1",
        "OPENCODE_CONFIG_CONTENT": config_content(fake_llm.base_url),
        "HIVE_TOKEN": "hive-secret-token",
    }


@pytest.fixture
def starts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The port of every server start, however it ends."""
    started: list[int] = []
    real = OpenCodeServer.start.__func__  # type: ignore[attr-defined]

    async def counted(cls: type[OpenCodeServer], spec: Any) -> OpenCodeServer:
        started.append(spec.port)
        server: OpenCodeServer = await real(cls, spec)
        return server

    monkeypatch.setattr(OpenCodeServer, "start", classmethod(counted))
    return started


@pytest.fixture
async def make_host(
    db: Database, hive_home: Path, environ: dict[str, str]
) -> AsyncIterator[MakeHost]:
    """`make_host(**settings)`: a host over the test's database; each is closed (stopping
    what it runs) at the end, and no server outlives the test."""
    made: list[OpenCodeHost] = []
    servers = AgentServerStore(db)

    def make(
        env: dict[str, str] | None = None,
        restart: RestartPolicy | None = None,
        liveness: Liveness | None = None,
        **fields: Any,
    ) -> OpenCodeHost:
        binary = opencode_binary()
        fields.setdefault("opencode_bin", str(binary) if binary else "none")
        settings = Settings(hive_home=hive_home, kill_grace_s=2, port_range=PORTS, **fields)
        extra: dict[str, Any] = {"restart": restart} if restart else {}
        if liveness:
            extra["liveness"] = liveness
        host = OpenCodeHost.from_settings(
            settings,
            servers=servers,
            allocator=PortAllocator(LeaseStore(db), PORTS),
            environ=environ if env is None else env,
            **extra,
        )
        made.append(host)
        return host

    yield make
    for host in made:
        await host.close(stop=True)
    record = await servers.get("opencode")
    alive = record and record.pid and record.process_started
    if alive and is_same_process(record.pid, record.process_started):
        os.killpg(record.pid, signal.SIGKILL)


@pytest.fixture
def needs_opencode() -> Path:
    binary = opencode_binary()
    if binary is None:
        pytest.skip("no OpenCode binary: `make opencode` installs it (needs npm)")
    return binary


def servers_in(workdir: Path) -> list[int]:
    """Pids of the OpenCode servers running in `workdir` (group leaders: a server's own
    helpers share its directory)."""
    found = []
    for process in psutil.Process().children(recursive=True):
        try:
            leader = os.getpgid(process.pid) == process.pid
            if leader and process.cwd() == str(workdir) and process.status() != "zombie":
                found.append(process.pid)
        except (psutil.Error, ProcessLookupError):
            continue
    return found


async def until(condition: Callable[[], bool | Awaitable[bool]]) -> None:
    """Wait (polling, within DEADLINE_S) for a state; never a fixed sleep."""
    async with asyncio.timeout(DEADLINE_S):
        while True:
            result = condition()
            if await result if isinstance(result, Awaitable) else result:
                return
            await asyncio.sleep(0.05)


def fake_opencode(tmp_path: Path, body: str) -> Path:
    """A stand-in `opencode` (Python) running `body`; `serve()` answers the health check
    on `serve --port`, with OPENCODE_SERVER_PASSWORD as its password."""
    script = tmp_path / "bin" / "opencode"
    script.parent.mkdir(exist_ok=True)
    script.write_text(
        f"#!{sys.executable}\n"
        "import base64, http.server, json, os, sys, threading, time\n"
        "port = int(sys.argv[sys.argv.index('--port') + 1])\n"
        "secret = 'opencode:' + os.environ['OPENCODE_SERVER_PASSWORD']\n"
        "expected = 'Basic ' + base64.b64encode(secret.encode()).decode()\n"
        "class Health(http.server.BaseHTTPRequestHandler):\n"
        "    def do_GET(self):\n"
        "        if self.headers.get('Authorization') != expected:\n"
        "            self.send_response(401)\n"
        "            self.end_headers()\n"
        "            return\n"
        "        body = json.dumps({'healthy': True, 'version': 'fake'}).encode()\n"
        "        self.send_response(200)\n"
        "        self.send_header('Content-Type', 'application/json')\n"
        "        self.end_headers()\n"
        "        self.wfile.write(body)\n"
        "    def log_message(self, *args):\n"
        "        pass\n"
        "def serve():\n"
        "    http.server.HTTPServer(('127.0.0.1', port), Health).serve_forever()\n"
        f"{body}\n"
    )
    script.chmod(0o755)
    return script


# -- a real server ---------------------------------------------------------------------


async def test_started_once_on_first_need_for_every_caller_at_once(
    needs_opencode: Path,
    make_host: MakeHost,
    starts: list[int],
    hive_home: Path,
    environ: dict[str, str],
    db: Database,
    tmp_path: Path,
) -> None:
    host = make_host()
    assert host.available and host.unavailable_reason is None
    assert host.health() == {
        "configured": True,
        "running": False,
        "url": None,
        "pid": None,
        "restarts": 0,
        "lastError": None,
        "managed": True,
    }
    assert starts == [], "nothing starts before the first need"

    clients = await asyncio.gather(*(host.client() for _ in range(4)))
    for client in clients:
        async with client:
            assert (await client.health()).healthy
    assert len(starts) == 1
    workdir = hive_home / "opencode"
    health = host.health()
    assert servers_in(workdir) == [health["pid"]]
    [lease] = await LeaseStore(db).all()
    assert (lease.cell_id, lease.service) == (HIVE_OWNER, "opencode")
    assert health == {
        "configured": True,
        "running": True,
        "url": f"http://127.0.0.1:{lease.port}",
        "pid": health["pid"],
        "restarts": 0,
        "lastError": None,
        "managed": True,
    }

    password_file = workdir / "password"
    assert password_file.stat().st_mode & 0o777 == 0o600
    assert workdir.stat().st_mode & 0o777 == 0o700
    password = password_file.read_text().strip()
    assert len(password) >= 32 and password not in json.dumps(health)

    # Its environment: Hive's (the user's HOME), without Hive's secrets.
    env = psutil.Process(health["pid"]).environ()
    assert env["HOME"] == environ["HOME"] and env["OPENCODE_SERVER_PASSWORD"] == password
    assert env["OPENCODE_DISABLE_AUTOUPDATE"] == "1" and "HIVE_TOKEN" not in env

    # The merged config: the test's provider stays, Hive's instructions are added.
    project = make_repo(tmp_path / "project")
    async with await host.client() as client:
        assert PROVIDER_ID in (await client.providers(project)).available()
    async with httpx.AsyncClient(auth=("opencode", password)) as http:
        answer = await http.get(
            f"{health['url']}/config", headers={"x-opencode-directory": str(project)}
        )
    assert INSTRUCTIONS in answer.json()["instructions"]

    # The attach command reads the password from its file; it never holds it.
    attach = host.attach_command(project, "ses_1")
    assert password not in attach
    prefix, command = attach.split(')" ', 1)
    prefix += ')"'
    assert prefix == f'OPENCODE_SERVER_PASSWORD="$(cat {password_file})"'
    assert shlex.split(command) == [
        str(needs_opencode),
        "attach",
        health["url"],
        "--dir",
        str(project),
        "--session",
        "ses_1",
    ]
    shell = subprocess.run(
        ["bash", "-c", f'{prefix} bash -c "echo \\$OPENCODE_SERVER_PASSWORD"'],
        capture_output=True,
        text=True,
        check=True,
    )
    assert shell.stdout.strip() == password


async def test_a_crashed_server_is_restarted_and_its_sessions_are_still_there(
    needs_opencode: Path,
    make_host: MakeHost,
    starts: list[int],
    hive_home: Path,
    tmp_path: Path,
) -> None:
    host = make_host()
    project = make_repo(tmp_path / "project")
    async with await host.client() as client:
        session = await client.create_session(project, title="before the crash")
    before = host.health()

    os.kill(before["pid"], signal.SIGKILL)
    await until(lambda: host.health()["running"] and host.health()["pid"] != before["pid"])

    after = host.health()
    assert after["restarts"] == 1
    assert (
        "SIGKILL" in after["lastError"]
        and str(hive_home / "logs/opencode.log") in after["lastError"]
    )
    assert after["url"] == before["url"], "the same leased port, still free"
    assert starts == [starts[0], starts[0]]
    assert servers_in(hive_home / "opencode") == [after["pid"]]
    async with await host.client() as client:
        assert session.id in [s.id for s in await client.list_sessions(project)]


async def test_a_second_host_adopts_the_running_server_and_stops_it(
    needs_opencode: Path,
    make_host: MakeHost,
    starts: list[int],
    hive_home: Path,
    db: Database,
) -> None:
    first = make_host()
    async with await first.client():
        pass
    pid = first.health()["pid"]
    await first.close(stop=False)
    workdir = hive_home / "opencode"
    assert servers_in(workdir) == [pid], "closing without stop leaves it running"

    second = make_host()
    assert second.health()["running"] is False
    assert await second.adopt()
    assert second.health()["pid"] == pid and second.health()["running"]
    async with await second.client() as client:
        assert (await client.health()).healthy
    assert len(starts) == 1 and servers_in(workdir) == [pid], "never a second one"

    # A host given its URL only connects: it starts and supervises nothing.
    password = (workdir / "password").read_text().strip()
    url = second.health()["url"]
    user = make_host(opencode_url=url, opencode_password=password)
    assert await user.adopt()
    async with await user.client() as client:
        assert (await client.health()).healthy
    assert user.health() == {
        "configured": True,
        "running": True,
        "url": url,
        "pid": None,
        "restarts": 0,
        "lastError": None,
        "managed": False,
    }
    assert (
        user.attach_command(Path("/p"), "ses_1")
        == f"opencode attach {url} --dir /p --session ses_1"
    )
    wrong = make_host(opencode_url=url, opencode_password="not-it")
    with pytest.raises(AgentUnavailableError, match="refused Hive's password"):
        await wrong.client()
    await user.close(stop=True)
    assert len(starts) == 1 and servers_in(workdir) == [pid], "a URL host stops nothing"

    await second.close(stop=True)
    assert servers_in(workdir) == []
    assert await LeaseStore(db).all() == []
    assert await AgentServerStore(db).get("opencode") is None


# -- no real server needed -------------------------------------------------------------


async def test_a_url_that_does_not_answer_is_unavailable(make_host: MakeHost) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    host = make_host(opencode_url=url)
    assert host.available
    assert not await host.adopt()
    with pytest.raises(AgentUnavailableError, match=r"does not answer.*HIVE_OPENCODE_URL"):
        await host.client()
    health = host.health()
    assert (health["running"], health["managed"]) == (False, False)
    assert "does not answer" in health["lastError"]


@pytest.mark.parametrize(
    ("fields", "path", "says"),
    [
        ({"opencode_bin": "none"}, None, "turned off \\(HIVE_OPENCODE_BIN=none\\)"),
        ({"opencode_bin": None}, "empty", "not on PATH: install OpenCode.*HIVE_OPENCODE_BIN"),
        ({"opencode_bin": "/no/such/opencode"}, None, "HIVE_OPENCODE_BIN=/no/such/opencode is not"),
    ],
)
async def test_without_a_binary_it_is_unavailable_and_says_why(
    make_host: MakeHost,
    environ: dict[str, str],
    tmp_path: Path,
    fields: dict[str, Any],
    path: str | None,
    says: str,
) -> None:
    env = {**environ, "PATH": str(tmp_path / path)} if path else environ
    host = make_host(env=env, **fields)
    assert not host.available
    assert host.unavailable_reason is not None
    assert "HIVE_OPENCODE_URL" in host.unavailable_reason
    with pytest.raises(AgentUnavailableError, match=says):
        await host.client()
    assert not await host.adopt()
    health = host.health()
    assert (health["configured"], health["running"]) == (False, False)
    assert health["lastError"] == host.unavailable_reason


async def test_a_server_that_fails_to_start_is_reported_with_its_log(
    make_host: MakeHost, tmp_path: Path, hive_home: Path, db: Database
) -> None:
    binary = fake_opencode(tmp_path, "print('no config for you', file=sys.stderr); sys.exit(3)")
    host = make_host(opencode_bin=str(binary))
    with pytest.raises(AgentUnavailableError, match=r"exited with 3.*opencode\.log"):
        await host.client()
    assert "no config for you" in (hive_home / "logs" / "opencode.log").read_text()
    health = host.health()
    assert not health["running"] and "exited with 3" in health["lastError"]
    await host.close(stop=True)
    assert await LeaseStore(db).all() == [], "nothing runs: its lease and record go"
    assert await AgentServerStore(db).get("opencode") is None


async def test_a_server_that_keeps_crashing_is_given_up_until_asked_again(
    make_host: MakeHost,
    starts: list[int],
    tmp_path: Path,
    hive_home: Path,
) -> None:
    # Up and healthy, then gone a moment later: each restart "works" and crashes again.
    binary = fake_opencode(
        tmp_path,
        "json.dump({'cwd': os.getcwd(), 'env': dict(os.environ)}, "
        "open(os.environ['HOME'] + '/seen.json', 'w'))\n"
        "threading.Thread(target=serve, daemon=True).start()\n"
        "time.sleep(0.5)\n"
        "sys.exit(7)",
    )
    isolated = tmp_path / "oc-home"
    fast = RestartPolicy(stable_s=60, first_delay_s=0.01, max_delay_s=0.05)
    host = make_host(opencode_bin=str(binary), opencode_home=isolated, restart=fast)
    async with await host.client():
        pass
    await until(lambda: "gave up" in (host.health()["lastError"] or ""))

    health = host.health()
    assert not health["running"] and health["restarts"] == MAX_FAILURES - 1
    assert "exited with code 7" in health["lastError"]
    assert len(starts) == MAX_FAILURES

    # The isolated HOME, with its XDG dirs under it, and the password from its file.
    seen = json.loads((isolated / "seen.json").read_text())
    assert seen["cwd"] == str(hive_home / "opencode")
    assert seen["env"]["XDG_DATA_HOME"] == str(isolated / ".local" / "share")
    password = (hive_home / "opencode" / "password").read_text().strip()
    assert seen["env"]["OPENCODE_SERVER_PASSWORD"] == password

    async with await host.client() as client:
        assert (await client.health()).healthy
    assert len(starts) == MAX_FAILURES + 1, "a later need tries again"


async def test_an_adopted_server_is_watched_and_one_that_refuses_is_replaced(
    make_host: MakeHost, starts: list[int], tmp_path: Path, hive_home: Path
) -> None:
    binary = str(fake_opencode(tmp_path, "serve()"))
    fast = RestartPolicy(stable_s=60, first_delay_s=0.01, max_delay_s=0.05)
    first = make_host(opencode_bin=binary)
    async with await first.client():
        pass
    crashed = first.health()["pid"]
    await first.close(stop=False)

    # Not its child: it polls the recorded process, and restarts it once it is gone.
    second = make_host(opencode_bin=binary, restart=fast)
    assert await second.adopt() and second.health()["pid"] == crashed
    os.kill(crashed, signal.SIGKILL)
    await until(lambda: second.health()["running"] and second.health()["pid"] != crashed)
    health = second.health()
    assert health["restarts"] == 1 and "exit code is unknown" in health["lastError"]
    refusing = health["pid"]
    await second.close(stop=False)

    # A recorded server that refuses the stored password is stopped, not adopted, and
    # the next need starts one in its place: never two side by side.
    (hive_home / "opencode" / "password").write_text("another password\n")
    third = make_host(opencode_bin=binary)
    assert not await third.adopt()
    assert servers_in(hive_home / "opencode") == []
    async with await third.client() as client:
        assert (await client.health()).healthy
    assert servers_in(hive_home / "opencode") == [third.health()["pid"]] != [refusing]
    assert len(starts) == 3


async def test_a_server_that_hangs_is_stopped_and_started_again(
    make_host: MakeHost, starts: list[int], tmp_path: Path, hive_home: Path
) -> None:
    binary = str(fake_opencode(tmp_path, "serve()"))
    fast = RestartPolicy(stable_s=60, first_delay_s=0.01, max_delay_s=0.05)
    quick = Liveness(every_s=0.1, within_s=0.3, misses=2)
    host = make_host(opencode_bin=binary, restart=fast, liveness=quick)
    async with await host.client():
        pass
    hung = host.health()["pid"]
    # Alive (its pid and port held) but answering nothing: what a deadlock looks like.
    os.kill(hung, signal.SIGSTOP)
    await until(lambda: host.health()["running"] and host.health()["pid"] != hung)
    health = host.health()
    assert "stopped answering its health check" in health["lastError"]
    assert health["restarts"] == 1 and len(starts) == 2
    assert servers_in(hive_home / "opencode") == [health["pid"]], "the hung one is gone"
    async with await host.client() as client:
        assert (await client.health()).healthy


def test_the_password_is_made_once_and_kept_private(tmp_path: Path) -> None:
    path = tmp_path / "opencode" / "password"
    made = ensure_password(path)
    assert ensure_password(path) == made == read_password(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    path.chmod(0o644)
    path.parent.chmod(0o755)
    assert ensure_password(path) == made
    assert path.stat().st_mode & 0o777 == 0o600, "a file others could read is tightened"
    assert path.parent.stat().st_mode & 0o777 == 0o700


def test_the_environment_merges_the_users_config_and_drops_hives_secrets() -> None:
    user_config = {"model": "x/y", "instructions": ["AGENTS.md"]}
    env = server_environment(
        {
            "PATH": "/bin",
            "ANTHROPIC_API_KEY": "the user's key",
            "HIVE_TOKEN": "t",
            "OPENCODE_SERVER_PASSWORD": "theirs",
            "OPENCODE_CONFIG_CONTENT": json.dumps(user_config),
        }
    )
    assert json.loads(env.pop("OPENCODE_CONFIG_CONTENT")) == {
        "model": "x/y",
        "instructions": ["AGENTS.md", INSTRUCTIONS],
    }
    assert env == {
        "PATH": "/bin",
        "ANTHROPIC_API_KEY": "the user's key",
        "OPENCODE_DISABLE_AUTOUPDATE": "1",
    }
    assert json.loads(server_environment({})["OPENCODE_CONFIG_CONTENT"]) == {
        "instructions": [INSTRUCTIONS]
    }


async def test_a_config_it_cannot_merge_makes_it_unavailable(
    make_host: MakeHost, environ: dict[str, str], tmp_path: Path
) -> None:
    binary = fake_opencode(tmp_path, "sys.exit(1)")
    env = {**environ, "OPENCODE_CONFIG_CONTENT": "[1, 2]"}
    host = make_host(env=env, opencode_bin=str(binary))
    assert not host.available
    with pytest.raises(
        AgentUnavailableError, match=r"OPENCODE_CONFIG_CONTENT .* not a JSON object"
    ):
        await host.client()
