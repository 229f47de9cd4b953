"""A `command` agent: any terminal agent (Claude Code, Codex CLI, aider, ...) run by the
template's command in a detached tmux session per cell, on Hive's private tmux server.

The pane runs a small runner script written to `<worktree>/.hive/agent/`:
- it starts from an empty environment plus the cell's (an env file it sources), not the
  tmux server's: the server's is whichever Hive process started it first, and
  `new-session -e` would only add to that. The file (0600) also keeps values, secrets
  included, out of any process's argv; `shlex.quote` makes any value safe to source.
- it runs the command with `bash -lc` (`shell_argv`, which keeps the cell's PATH) and
  writes its exit code to `exit_code`, which outlives the tmux server; the pane stays
  (`remain-on-exit`) so the output can still be read by attaching.

The model is whatever the command says (`claude --model ...`): Hive cannot check or set
it, so `ensure_session` records the model it is given and does nothing else with it.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hive.agents.models import ModelRef
from hive.agents.protocol import AgentSession, AgentStatus
from hive.agents.tmux import Tmux
from hive.services.process_group import stop_process_group, stop_tagged
from hive.services.process_tag import TAG_VARIABLE, agent_tag
from hive.services.shell import shell_argv

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# What tmux sets for the pane that a terminal program needs; kept through the reset.
_TERMINAL_VARIABLES = ("TERM", "TMUX", "TMUX_PANE", "COLORTERM")


@dataclass(frozen=True)
class CommandAgentSpec:
    cell_id: str
    command: str
    """The template's `run`: a bash script, e.g. `claude "$(cat .hive/PROMPT.md)"`."""
    env: Mapping[str, str] = field(default_factory=dict)
    grace: float = 5.0
    """How long close() waits after SIGTERM before SIGKILL."""


@dataclass(frozen=True)
class CommandState:
    status: AgentStatus
    exit_code: int | None
    """Set once the command ended by itself (None when it was killed or vanished)."""


def session_name(cell_id: str) -> str:
    """A tmux session name for the cell: tmux forbids `.` and `:`; a digest of the id
    is added whenever characters were replaced, so two ids never share a name."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", cell_id)
    if safe != cell_id:
        safe += "-" + hashlib.sha256(cell_id.encode()).hexdigest()[:8]
    return f"hive-{safe}"


def _state_dir(directory: Path) -> Path:
    return directory / ".hive" / "agent"


def _env_file_text(env: Mapping[str, str]) -> str:
    lines = []
    for name, value in env.items():
        if not _ENV_NAME.fullmatch(name):
            raise ValueError(f"environment variable name not usable in a shell: {name!r}")
        lines.append(f"export {name}={shlex.quote(value)}\n")
    return "".join(lines)


def _runner_text(command: str, env: Mapping[str, str], state: Path) -> str:
    keep = "|".join(_TERMINAL_VARIABLES)
    exit_file = shlex.quote(str(state / "exit_code"))
    return (
        # C-c (abort) reaches the agent; a trap (not an ignore, which children would
        # inherit) keeps this script alive to record the exit code.
        "trap : INT\n"
        "for name in $(compgen -e); do\n"
        f'  case $name in {keep}) ;; *) unset "$name" ;; esac\n'
        "done\n"
        f". {shlex.quote(str(state / 'env'))}\n"
        # By its own path and with builtins only: the cell's env may have no PATH.
        f'"$BASH" {shlex.join(shell_argv(command, env)[1:])}\n'
        "code=$?\n"
        # Not atomic, but a partial read parses as no code yet and is read again.
        f'printf "%s\\n" "$code" > {exit_file}\n'
        'exit "$code"\n'
    )


def _write_state(state: Path, env_text: str, runner_text: str) -> Path:
    state.mkdir(mode=0o700, parents=True, exist_ok=True)
    (state / "exit_code").unlink(missing_ok=True)
    env_path = state / "env"
    fd = os.open(env_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(env_text)
    runner = state / "run.sh"
    runner.write_text(runner_text)
    return runner


def _read_exit_code(state: Path) -> int | None:
    try:
        return int((state / "exit_code").read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


class TmuxAgent:
    """The Agent protocol for one cell's command agent."""

    def __init__(self, tmux: Tmux, spec: CommandAgentSpec) -> None:
        self._tmux = tmux
        self._spec = spec
        self._name = session_name(spec.cell_id)
        self._tag = agent_tag(spec.cell_id)

    def attach_command(self, session: AgentSession) -> str:
        return self._tmux.attach_command(session.session_id)

    async def ensure_session(
        self, directory: Path, model: ModelRef, *, session_id: str | None = None
    ) -> AgentSession:
        """The cell's tmux session, started if there is none. The name is fixed per cell,
        so a session that is there is this cell's agent, running or ended with its pane
        kept: it is reused, and a caller that wants a fresh run closes it first."""
        if await self._tmux.pane(self._name) is None:
            env = {**self._spec.env, TAG_VARIABLE: self._tag}
            state = _state_dir(directory)
            runner = await asyncio.to_thread(
                _write_state,
                state,
                _env_file_text(env),
                _runner_text(self._spec.command, env, state),
            )
            await self._tmux.new_session(
                self._name, directory, ["bash", "--noprofile", "--norc", str(runner)]
            )
        return AgentSession(self._name, directory, model)

    async def send(self, session: AgentSession, text: str, *, no_reply: bool = False) -> None:
        """Type `text` into the agent's terminal and press Enter (`no_reply`: only type
        it). Newlines in `text` reach the program as Enter presses too."""
        await self._tmux.send_keys(session.session_id, text, literal=True)
        if not no_reply:
            await self._tmux.send_keys(session.session_id, "Enter")

    async def abort(self, session: AgentSession) -> None:
        """C-c, as a user would: terminal agents take it as "stop this turn"."""
        await self._tmux.send_keys(session.session_id, "C-c")

    async def close(self, session: AgentSession) -> None:
        pane = await self._tmux.pane(session.session_id)
        if pane is not None and not pane.dead:
            # tmux makes the pane's process a session (and group) leader: the group is
            # the command and all it forked; the tag finds what left the group.
            await stop_process_group(pane.pid, grace=self._spec.grace, tag=self._tag)
        else:
            # A dead pane's pid may be reused: only the tag is safe to go by.
            await stop_tagged(self._tag, grace=self._spec.grace)
        await self._tmux.kill_session(session.session_id)

    async def state(self, session: AgentSession) -> CommandState:
        code = await asyncio.to_thread(_read_exit_code, _state_dir(session.directory))
        if code is not None:
            return CommandState(AgentStatus.STOPPED, code)
        pane = await self._tmux.pane(session.session_id)
        if pane is None:
            # The runner may have written its code since the first read.
            code = await asyncio.to_thread(_read_exit_code, _state_dir(session.directory))
            return CommandState(AgentStatus.STOPPED, code)
        if pane.dead:
            # Killed before the runner could write the file: the status tmux kept.
            return CommandState(AgentStatus.STOPPED, pane.dead_status)
        return CommandState(AgentStatus.WORKING, None)

    async def status(self, session: AgentSession) -> AgentStatus:
        return (await self.state(session)).status
