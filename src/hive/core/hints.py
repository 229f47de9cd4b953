"""Known causes of failures, each recognised in what a failure says (its message, the
tail of its output, its exit code) and explained: the command, file or port at fault,
and what to do. The first cause that matches speaks; None when none does, and the
step's own hint stands alone. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from hive.core.failure_kind import FailureKind


@dataclass(frozen=True)
class Evidence:
    """What a failure says about itself."""

    kind: FailureKind
    message: str
    command: str | None = None
    exit_code: int | None = None
    output_tail: str | None = None

    @property
    def text(self) -> str:
        return f"{self.message}\n{self.output_tail or ''}"


Cause = Callable[[Evidence], str | None]
"""A known cause: its explanation when the evidence shows it, else None."""

_LOG_LINES = 3
_LINE_CHARS = 160


def _search(patterns: tuple[re.Pattern[str], ...], text: str) -> re.Match[str] | None:
    return next((m for p in patterns if (m := p.search(text)) is not None), None)


def _disk_full(evidence: Evidence) -> str | None:
    match = re.search(r"No space left on device|ENOSPC|Disk quota exceeded|EDQUOT", evidence.text)
    if match is None:
        return None
    return (
        f"the disk is full ({match[0]}): free space on the filesystem of the worktree and "
        "of Hive's home (`df -h` shows it)"
    )


_PORT_NUMBER = (
    re.compile(r"\bport (\d{1,5})\b", re.IGNORECASE),
    re.compile(r"(?:EADDRINUSE|address already in use)[^\n]*?:(\d{1,5})\b", re.IGNORECASE),
)
_PORT_HOLDER = (
    # The allocator's message ends with the holder's command line, newlines and all.
    re.compile(r"in use by (pid \d+(?: \(.*\))?)", re.DOTALL),
    re.compile(r"leased to (service '[^']*' of cell '[^']*')"),
)


def _port_in_use(evidence: Evidence) -> str | None:
    text = evidence.text
    if not re.search(r"address already in use|EADDRINUSE|port \d+ is already", text, re.I):
        return None
    number = _search(_PORT_NUMBER, text)
    port = f"port {number[1]}" if number else "the service's port"
    holder = _search(_PORT_HOLDER, evidence.message)
    held = f" by {holder[1]}" if holder else ""
    return (
        f"{port} is already in use{held}: stop whatever holds it, or give the service a "
        "port range such as '7000-7099' (or no `port`: Hive leases a free one)"
    )


_GIT_REFUSALS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (
        re.compile(r"a branch named '([^']+)' already exists"),
        lambda m: (
            f"git refused: branch `{m[1]}` exists already; delete it "
            f"(`git branch -D {m[1]}`) if it holds nothing you need, or name the cell otherwise"
        ),
    ),
    (
        re.compile(r"'([^']+)' is already (?:checked out|used by worktree) at '([^']+)'"),
        lambda m: (
            f"git refused: branch `{m[1]}` is checked out in the worktree at {m[2]}; "
            f"remove that worktree (`git worktree remove {m[2]}`) or name the cell otherwise"
        ),
    ),
    (
        re.compile(r"'([^']+)' is a (?:missing but )?locked (?:working tree|worktree)"),
        lambda m: (
            f"git refused: the worktree path {m[1]} is locked; in the workspace run "
            f"`git worktree unlock {m[1]}` and `git worktree prune`"
        ),
    ),
    (
        re.compile(r"'([^']+)' already exists"),
        lambda m: f"git refused: {m[1]} exists already; move or remove it",
    ),
)


def _git_worktree_refused(evidence: Evidence) -> str | None:
    if evidence.kind != FailureKind.WORKSPACE:
        return None
    for pattern, explain in _GIT_REFUSALS:
        if (match := pattern.search(evidence.text)) is not None:
            return explain(match)
    return None


_NOT_FOUND = (
    re.compile(r"command not found: (\S+)"),
    re.compile(r"([^\s:'\"`]+): command not found"),
    re.compile(r"\bsh: \d+: ([^\s:]+): not found"),
)


def _command_not_found(evidence: Evidence) -> str | None:
    match = _search(_NOT_FOUND, evidence.text)
    if match is None:
        return None
    return (
        f"`{match[1]}` was not found: it is not installed, or not on the PATH the cell's "
        "commands get (the PATH the Hive server runs with); install it or start Hive with "
        "its directory on PATH"
    )


def _not_executable(evidence: Evidence) -> str | None:
    if evidence.exit_code != 126:
        return None
    match = re.search(r"([^\s:'\"`]+): Permission denied", evidence.text)
    what = f"`{match[1]}`" if match else f"a program in `{evidence.command}`"
    return (
        f"exit code 126: {what} was found but cannot be run; make it executable "
        "(`chmod +x`, committed with its mode) or run it through its interpreter"
    )


_MISSING_FILE = (
    re.compile(r"No such file or directory: '([^']+)'"),
    re.compile(r"can't open file '([^']+)'"),
    re.compile(r"ENOENT: no such file or directory, \w+ '([^']+)'"),
    re.compile(r"'([^']+)': No such file or directory"),
    re.compile(r"([^\s:'\"`]+): No such file or directory"),
)


def _missing_file(evidence: Evidence) -> str | None:
    match = _search(_MISSING_FILE, evidence.text)
    if match is None:
        return None
    return (
        f"`{match[1]}` does not exist (No such file or directory): create it, or fix the "
        "path in the command; a file git ignores reaches the worktree only through the "
        "template's `includePatterns`"
    )


def _shell_found_nothing(evidence: Evidence) -> str | None:
    if evidence.exit_code != 127:
        return None
    return (
        f"exit code 127: the shell found no program to run in `{evidence.command}`; it is "
        "not installed, or not on the PATH the cell's commands get"
    )


_NOT_READY = re.compile(r"service '([^']+)' did not get ready: (.+)")


def _never_ready(evidence: Evidence) -> str | None:
    if evidence.kind != FailureKind.SERVICE_READY:
        return None
    match = _NOT_READY.search(evidence.message)
    if match is None:
        return None
    lines = [line.strip() for line in (evidence.output_tail or "").splitlines() if line.strip()]
    last = " / ".join(line[:_LINE_CHARS] for line in lines[-_LOG_LINES:]) or "(empty)"
    return (
        f"service `{match[1]}` never passed its readiness check ({match[2]}); "
        f"its last log lines: {last}"
    )


_TRANSIENT = re.compile(
    r"connection reset|ECONNRESET|ECONNREFUSED|temporary failure in name resolution"
    r"|could not resolve host|name or service not known|EAI_AGAIN|ENOTFOUND|ETIMEDOUT"
    r"|connection timed out|too many requests|service (?:temporarily )?unavailable"
    r"|\b(?:HTTP/[\d.]+|status(?: code)?:?|code E?|error:?) ?(?:429|503)\b",
    re.IGNORECASE,
)


def _transient(evidence: Evidence) -> str | None:
    match = _TRANSIENT.search(evidence.text)
    if match is None:
        return None
    run = evidence.command or "…"
    return (
        f"this looks transient ({match[0].strip()}): retrying will likely work; "
        f'`"retries"` on the command ({{"run": "{run}", "retries": 2}}) would retry it '
        "automatically"
    )


KNOWN_CAUSES: tuple[Cause, ...] = (
    _disk_full,
    _port_in_use,
    _git_worktree_refused,
    _command_not_found,
    _not_executable,
    _missing_file,
    _shell_found_nothing,
    _never_ready,
    _transient,
)
"""Most specific first: a missing script also exits 127, a full disk breaks anything."""


def known_cause(evidence: Evidence) -> str | None:
    """The first known cause's explanation of the failure, or None."""
    return next((hint for cause in KNOWN_CAUSES if (hint := cause(evidence)) is not None), None)
