"""TmuxAgent with real tmux on a private socket: a script agent in a git worktree; and
follow_command, the poller that reports its status."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import psutil
import pytest
import pytest_asyncio

from hive.agents.models import ModelRef
from hive.agents.protocol import Agent, AgentSession, AgentStatus
from hive.agents.status_feed import follow_command
from hive.agents.tmux import Tmux, socket_path
from hive.agents.tmux_agent import CommandAgentSpec, CommandState, TmuxAgent, session_name
from hive.services.process_group import stop_tagged
from hive.services.process_tag import TAG_VARIABLE, agent_tag
from tests.support.repos import git, make_repo

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

MODEL = ModelRef("any", "whatever-the-command-says")
# Quotes, `$(...)`, a newline: the env file must carry any value through unchanged.
AWKWARD = "a b\"$(echo no)'\nc\\d"

SCRIPT = """\
printf '%s' "$1" > seen-prompt.txt
printf '%s' "$CELL_SECRET" > seen-env.txt
printf '%s' "$HIVE_PROCESS_TAG" > seen-tag.txt
printf '%s' "${HIVE_TEST_LEAK-unset}" > seen-leak.txt
printf '%s' "$TERM" > seen-term.txt
sleep 600 &
echo $! > child.pid
setsid sleep 600 &
echo $! > escaped.pid
echo "agent ready"
read -r line
printf '%s' "$line" > seen-line.txt
echo "agent done"
exit 3
"""
RUN = 'bash ./agent.sh "$(cat .hive/PROMPT.md)"'


@pytest_asyncio.fixture
async def cell_id() -> AsyncIterator[str]:
    # With `.` and `:`, which tmux names cannot hold; unique, so a test run elsewhere
    # never shares the tag, and a failing test still leaves no process behind.
    cell = f"cell.{secrets.token_hex(4)}:1"
    yield cell
    await stop_tagged(agent_tag(cell), grace=1.0)


@pytest_asyncio.fixture
async def tmux() -> AsyncIterator[Tmux]:
    # Short and private: a Unix socket path is limited to 107 bytes.
    root = Path(tempfile.mkdtemp(prefix="hive-tmux-"))
    server = Tmux(root / "tmux.sock")
    yield server
    await server.run("kill-server", check=False)
    shutil.rmtree(root)


def make_worktree(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path / "repo")
    worktree = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", "-b", "cell", str(worktree))
    (worktree / "agent.sh").write_text(SCRIPT)
    (worktree / ".hive").mkdir(exist_ok=True)
    (worktree / ".hive" / "PROMPT.md").write_text("Build the thing.\nCarefully.")
    return worktree


async def wait_for_file(path: Path) -> str:
    async with asyncio.timeout(20):
        while not path.exists() or not path.read_text():
            await asyncio.sleep(0.05)
    return path.read_text()


async def wait_for_status(agent: Agent, session: AgentSession, wanted: AgentStatus) -> None:
    async with asyncio.timeout(20):
        while await agent.status(session) != wanted:
            await asyncio.sleep(0.05)


def gone(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True


async def test_the_agent_runs_with_the_prompt_and_env_and_stops_with_its_exit_code(
    tmux: Tmux, cell_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In Hive's environment, so in the tmux server's: the pane must not inherit it.
    monkeypatch.setenv("HIVE_TEST_LEAK", "leaked")
    worktree = make_worktree(tmp_path)
    spec = CommandAgentSpec(cell_id, RUN, env={"CELL_SECRET": AWKWARD, "PATH": "/usr/bin:/bin"})
    agent = TmuxAgent(tmux, spec)
    session = await agent.ensure_session(worktree, MODEL)
    assert session.session_id == session_name(cell_id)
    assert "." not in session.session_id and ":" not in session.session_id
    assert session.model == MODEL  # recorded only: the command picks the model
    try:
        assert await wait_for_file(worktree / "seen-prompt.txt") == "Build the thing.\nCarefully."
        assert await wait_for_file(worktree / "seen-env.txt") == AWKWARD
        assert await wait_for_file(worktree / "seen-tag.txt") == agent_tag(cell_id)
        assert await wait_for_file(worktree / "seen-leak.txt") == "unset"
        # What tmux sets for a terminal program survives the reset.
        assert await wait_for_file(worktree / "seen-term.txt") == "tmux-256color"
        assert await agent.status(session) == AgentStatus.WORKING
        # Asked again, the running session is the one there is.
        assert await agent.ensure_session(worktree, MODEL) == session

        await agent.send(session, "go on")
        await wait_for_status(agent, session, AgentStatus.STOPPED)
        state = await agent.state(session)
        assert state.exit_code == 3
        assert (worktree / "seen-line.txt").read_text() == "go on"
        # The pane stays, so what the agent printed can still be read.
        _, screen = await tmux.run("capture-pane", "-p", "-t", f"={session.session_id}:")
        assert "agent done" in screen

        attach = agent.attach_command(session)
        assert attach.startswith(f"tmux -S {tmux.socket} attach -t ")
        assert session.session_id in attach
        attached = subprocess.run(
            [*attach.split(" ")[:3], "has-session", "-t", f"={session.session_id}"], check=False
        )
        assert attached.returncode == 0
    finally:
        await agent.close(session)
    assert await tmux.pane(session.session_id) is None
    # The children the ended command left behind carry its tag and went with it.
    for name in ("child.pid", "escaped.pid"):
        assert gone(int((worktree / name).read_text()))


async def test_close_ends_a_running_agent_and_its_children(
    tmux: Tmux, cell_id: str, tmp_path: Path
) -> None:
    worktree = make_worktree(tmp_path)
    agent = TmuxAgent(tmux, CommandAgentSpec(cell_id, RUN, env={}, grace=2.0))
    session = await agent.ensure_session(worktree, MODEL)
    child = int(await wait_for_file(worktree / "child.pid"))
    escaped = int(await wait_for_file(worktree / "escaped.pid"))
    pane = await tmux.pane(session.session_id)
    assert pane is not None and not pane.dead
    assert psutil.Process(child).environ()[TAG_VARIABLE] == agent_tag(cell_id)

    await agent.close(session)
    assert gone(child)
    assert gone(escaped)
    assert gone(pane.pid)
    assert await tmux.pane(session.session_id) is None
    assert await agent.status(session) == AgentStatus.STOPPED
    await agent.close(session)  # already gone: not an error


async def test_abort_interrupts_the_command(tmux: Tmux, cell_id: str, tmp_path: Path) -> None:
    worktree = make_worktree(tmp_path)
    agent = TmuxAgent(tmux, CommandAgentSpec(cell_id, RUN, env={}))
    session = await agent.ensure_session(worktree, MODEL)
    try:
        await wait_for_file(worktree / "child.pid")
        await agent.abort(session)
        await wait_for_status(agent, session, AgentStatus.STOPPED)
        assert (await agent.state(session)).exit_code == 130  # ended by SIGINT
    finally:
        await agent.close(session)


class CountedAgent(TmuxAgent):
    """The real agent, counting how often its state is read."""

    polls = 0

    async def state(self, session: AgentSession) -> CommandState:
        self.polls += 1
        return await super().state(session)


async def test_follow_command_reports_working_then_the_exit_code_once_each(
    tmux: Tmux, cell_id: str, tmp_path: Path
) -> None:
    worktree = make_worktree(tmp_path)
    agent = CountedAgent(tmux, CommandAgentSpec(cell_id, RUN, env={}))
    session = await agent.ensure_session(worktree, MODEL)
    seen: list[CommandState] = []

    async def on_change(state: CommandState) -> None:
        seen.append(state)

    try:
        follower = asyncio.create_task(follow_command(agent, session, on_change, interval_s=0.02))
        await wait_for_file(worktree / "child.pid")
        # Polled several times while it runs: reported once.
        async with asyncio.timeout(20):
            while agent.polls < 5:
                await asyncio.sleep(0.02)
        await agent.send(session, "finish")
        async with asyncio.timeout(20):
            final = await follower
    finally:
        await agent.close(session)
    assert final == CommandState(AgentStatus.STOPPED, 3)
    assert seen == [CommandState(AgentStatus.WORKING, None), final]


async def test_follow_command_returns_at_once_for_a_command_that_has_ended(
    tmux: Tmux, cell_id: str, tmp_path: Path
) -> None:
    worktree = make_worktree(tmp_path)
    agent = TmuxAgent(tmux, CommandAgentSpec(cell_id, "exit 7", env={}))
    session = await agent.ensure_session(worktree, MODEL)
    try:
        await wait_for_status(agent, session, AgentStatus.STOPPED)
        seen: list[CommandState] = []

        async def on_change(state: CommandState) -> None:
            seen.append(state)

        async with asyncio.timeout(20):
            final = await follow_command(agent, session, on_change, interval_s=0.02)
    finally:
        await agent.close(session)
    assert seen == [final] == [CommandState(AgentStatus.STOPPED, 7)]


async def test_a_session_of_a_server_left_without_sessions_is_gone(tmux: Tmux) -> None:
    """The moment between a server's last session ending and the server exiting: held
    open here (`exit-empty off`), where tmux answers "no current target"."""
    await tmux.run("new-session", "-d", "-s", "only", "sleep 600")
    await tmux.run("set-option", "-g", "exit-empty", "off")
    assert await tmux.pane("only") is not None
    await tmux.run("kill-session", "-t", "=only")
    assert await tmux.pane("only") is None


def test_the_socket_lives_under_the_home_unless_too_long_for_a_unix_socket(
    tmp_path: Path,
) -> None:
    assert socket_path(tmp_path, Path("/tmp")) == tmp_path / "tmux" / "socket"
    deep = tmp_path / ("d" * 120)
    fallback = socket_path(deep, Path("/tmp"))
    assert fallback.parent == Path("/tmp") / f"hive-tmux-{os.getuid()}"
    assert len(os.fsencode(fallback)) <= 107
    assert socket_path(deep / "other", Path("/tmp")) != fallback
    Tmux(fallback)  # usable: no "too long" refusal
