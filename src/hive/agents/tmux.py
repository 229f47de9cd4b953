"""Async calls to Hive's own tmux server: one private socket (`tmux -S`), never the
user's default server, and no user config (`-f /dev/null`), so options Hive relies on
(`remain-on-exit`) are not overridden by a ~/.tmux.conf."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hive.services.process_tag import inherited_environ

# What tmux says when the session (or its whole server) does not exist.
# A busy server refusing a connection for a moment (EAGAIN) is not one that is gone.
# "no current target": the server is still up but holds no session (its last one was
# just killed and it has yet to exit).
_GONE = re.compile(
    r"can't find|no server running|no current target"
    r"|error connecting to .*\((No such file or directory|Connection refused)\)"
)

# A Unix socket path must fit in sockaddr_un.sun_path (108 bytes with its NUL).
_MAX_SOCKET_PATH = 107


class TmuxError(RuntimeError):
    pass


def socket_path(hive_home: Path, temp_root: Path) -> Path:
    """Hive's tmux socket: `$HIVE_HOME/tmux/socket`, or, when that is too long for a Unix
    socket, one named after the home under a private directory of `temp_root`."""
    preferred = hive_home / "tmux" / "socket"
    if len(os.fsencode(preferred)) <= _MAX_SOCKET_PATH:
        return preferred
    digest = hashlib.sha256(os.fsencode(hive_home)).hexdigest()[:16]
    return temp_root / f"hive-tmux-{os.getuid()}" / f"{digest}.socket"


@dataclass(frozen=True)
class Pane:
    pid: int
    dead: bool
    dead_status: int | None
    """The command's exit status once it ended (kept by `remain-on-exit`)."""


class Tmux:
    def __init__(self, socket: Path, *, binary: str = "tmux", timeout: float = 10.0) -> None:
        if len(os.fsencode(socket)) > _MAX_SOCKET_PATH:
            raise TmuxError(f"tmux socket path too long for a Unix socket: {socket}")
        self.socket = socket
        self._binary = binary
        self._timeout = timeout

    def _argv(self, *args: str) -> list[str]:
        return [self._binary, "-S", str(self.socket), "-f", "/dev/null", *args]

    def attach_command(self, session: str) -> str:
        """What a user types to attach their terminal to `session`."""
        return shlex.join([self._binary, "-S", str(self.socket), "attach", "-t", f"={session}"])

    async def run(self, *args: str, check: bool = True) -> tuple[int, str]:
        """Run one tmux client command; its exit code and stdout."""
        code, out, _ = await self.run_full(*args, check=check)
        return code, out

    async def run_full(self, *args: str, check: bool = True) -> tuple[int, str, str]:
        """Run one tmux client command; its exit code, stdout and stderr."""
        # The server starts with the first client's environment: Hive's own minus any
        # cell tag (the server serves every cell, so no cell's stop may end it), and
        # minus TMUX (Hive run inside tmux is not a nested client of this server).
        env = {k: v for k, v in inherited_environ().items() if k != "TMUX"}
        process = await asyncio.create_subprocess_exec(
            *self._argv(*args),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(), timeout=self._timeout)
        except BaseException as exc:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await asyncio.shield(process.wait())
            if isinstance(exc, TimeoutError):
                raise TmuxError(f"tmux {shlex.join(args)} timed out") from exc
            raise
        code = process.returncode
        assert code is not None
        if check and code != 0:
            raise TmuxError(f"tmux {shlex.join(args)} failed ({code}): {err.decode().strip()}")
        return code, out.decode(), err.decode()

    async def new_session(self, name: str, cwd: Path, argv: Sequence[str]) -> None:
        """A detached session running `argv` (exec'd directly, no shell), whose pane stays
        after the command ends so its exit status and output remain readable."""
        self.socket.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # One client call: tmux runs its queued commands before it handles the child's
        # exit, so `remain-on-exit` is set even for a command that ends at once.
        await self.run(
            "new-session", "-d", "-s", name, "-c", str(cwd), "-x", "200", "-y", "50",
            "--", *argv, ";",
            "set-option", "-w", "-t", f"={name}:", "remain-on-exit", "on",
        )  # fmt: skip

    async def pane(self, name: str) -> Pane | None:
        """The session's (only) pane; None when the session or the server is gone.
        TmuxError when tmux fails otherwise: that says nothing about the pane."""
        code, out, err = await self.run_full(
            "list-panes", "-s", "-t", f"={name}",
            "-F", "#{pane_pid} #{pane_dead} #{pane_dead_status}",
            check=False,
        )  # fmt: skip
        if code != 0 and not _GONE.search(err):
            raise TmuxError(f"tmux list-panes failed ({code}): {err.strip()}")
        if code != 0 or not out.strip():
            return None
        pid, dead, *status = out.splitlines()[0].split(" ")
        dead_status = int(status[0]) if status and status[0] else None
        return Pane(pid=int(pid), dead=dead == "1", dead_status=dead_status)

    async def send_keys(self, name: str, *keys: str, literal: bool = False) -> None:
        flags = ["-l"] if literal else []
        await self.run("send-keys", "-t", f"={name}:", *flags, "--", *keys)

    async def kill_session(self, name: str) -> None:
        """Kill the session; one already gone (or no server at all) is not an error."""
        await self.run("kill-session", "-t", f"={name}", check=False)
