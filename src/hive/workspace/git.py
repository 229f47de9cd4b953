"""Running git: one async entry point (`run_git`) and the small queries built on it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hive.core.errors import HiveError, InvalidInputError, NotFoundError
from hive.services.process_tag import inherited_environ

#: Longest rendering of the git command line inside an error message.
_MAX_COMMAND_CHARS = 160

REF_HINT = "name a branch, tag or commit; `git branch`, `git tag` and `git log` list them"


@dataclass(frozen=True)
class GitResult:
    """Outcome of one git invocation; stdout keeps undecodable bytes as surrogates."""

    returncode: int
    stdout: str
    stderr: str


class GitError(HiveError):
    """A git command failed or timed out.

    The git arguments live in `git_args`, not `args`: `BaseException.args` is the
    exception's own argument tuple (it backs `str()`), and assigning to it coerces
    any list to a tuple.
    """

    def __init__(
        self,
        git_args: list[str],
        returncode: int,
        stderr: str,
        *,
        reason: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.git_args = list(git_args)
        self.returncode = returncode
        self.stderr = stderr
        detail = reason or _first_line(stderr) or "no error output"
        super().__init__(
            f"{_describe_command(git_args)} failed (exit {returncode}): {detail}", hint=hint
        )

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        body.update(command=_describe_command(self.git_args), exitCode=self.returncode)
        if line := _first_line(self.stderr):
            body["stderr"] = line
        return body


def _describe_command(git_args: list[str]) -> str:
    """`git worktree add …` for messages, shortened so a long path list stays readable."""
    text = shlex.join(["git", *git_args])
    if len(text) > _MAX_COMMAND_CHARS:
        text = text[: _MAX_COMMAND_CHARS - 1] + "…"
    return text


def _first_line(text: str) -> str:
    """The line of stderr that says what went wrong."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    # Progress chatter ("Preparing worktree …") can come before the actual error.
    for line in lines:
        if line.startswith(("fatal:", "error:")):
            return line
    return lines[0] if lines else ""


def git_environment() -> dict[str, str]:
    # No credential prompts (there is no terminal to answer them) and untranslated
    # messages, because callers look at stderr text.
    return {**inherited_environ(), "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}


def _kill_group(proc: asyncio.subprocess.Process) -> None:
    # git runs in its own session, so hooks and shell aliases it started die with it.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            proc.kill()


# A per-call timeout (rather than asyncio.timeout at call sites) keeps every git call bounded.
async def run_git(
    repo: Path,
    *args: str,
    check: bool = True,
    timeout: float = 120,  # noqa: ASYNC109
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
) -> GitResult:
    """Run `git -C <repo> <args>`; raise `GitError` on timeout, or on failure when `check`.

    `env` adds variables to git's environment (a temporary index, an identity); `stdin`
    is fed to git (path lists too long for arguments).
    """
    arg_list = list(args)
    try:
        proc = await asyncio.create_subprocess_exec(
            "git",
            "-C",
            str(repo),
            *arg_list,
            stdin=asyncio.subprocess.DEVNULL if stdin is None else asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**git_environment(), **(env or {})},
            start_new_session=True,
        )
    except FileNotFoundError as exc:
        raise GitError(
            arg_list,
            127,
            "",
            reason="git executable not found",
            hint="Install git and make sure it is on PATH.",
        ) from exc
    except OSError as exc:  # E2BIG (arguments too long), EAGAIN (no processes left) …
        raise GitError(arg_list, 126, "", reason=f"git could not be started: {exc}") from exc
    try:
        async with asyncio.timeout(timeout):
            out, err = await proc.communicate(stdin)
    except TimeoutError:
        _kill_group(proc)
        await proc.wait()
        raise GitError(
            arg_list,
            proc.returncode if proc.returncode is not None else -1,
            "",
            reason=f"timed out after {timeout:g}s",
        ) from None
    finally:
        # Cancellation (or any other exit) must not leave git running.
        if proc.returncode is None:
            _kill_group(proc)
            await proc.wait()
    result = GitResult(
        returncode=proc.returncode if proc.returncode is not None else -1,
        stdout=os.fsdecode(out),
        stderr=err.decode("utf-8", errors="replace"),
    )
    if check and result.returncode != 0:
        raise GitError(arg_list, result.returncode, result.stderr)
    return result


def refuse_option_like(value: str, what: str) -> None:
    """Refuse an empty value, or one git would parse as an option (leading "-")."""
    if not value or value.startswith("-"):
        raise InvalidInputError(
            f"invalid {what} {value!r}",
            hint=f"A {what} must be non-empty and must not start with '-'.",
        )


def revision_problem(value: str) -> str | None:
    """Why `value` cannot be one revision argument of git, or None when it can be."""
    if not value:
        return "it is empty"
    if value.startswith("-"):
        return "it starts with '-', as git's options do, and no branch or tag does"
    # NUL cannot be passed to a program at all; the other controls are in no ref name.
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        return "it holds control characters (NUL, newline, tab …)"
    if value != value.strip():
        return "it starts or ends with whitespace"
    try:
        value.encode()
    except UnicodeEncodeError:  # lone surrogates, which no program argument can carry
        return "it is not valid Unicode text"
    return None


async def repo_root(path: Path) -> Path:
    """Top-level directory of the work tree containing `path`."""
    if not await asyncio.to_thread(path.is_dir):
        raise InvalidInputError(
            f"{path} is not a directory",
            hint="Pick an existing directory inside a git repository.",
        )
    result = await run_git(path, "rev-parse", "--show-toplevel", check=False)
    top = result.stdout.strip()
    if result.returncode != 0 or not top:
        raise InvalidInputError(
            f"{path} is not inside a git work tree: {_first_line(result.stderr)}",
            hint="Run `git init` there, or pick a directory inside a git repository.",
        )
    return Path(top)


async def resolve_commit(repo: Path, ref: str, *, what: str = "ref") -> str | None:
    """Full sha of the commit `ref` names, or None when it names no commit.

    A ref git refuses to evaluate (`main@{upstream}` without an upstream) is an
    `InvalidInputError` whose message starts with `what`; a repository git cannot
    read is a `GitError`.
    """
    if problem := revision_problem(ref):
        raise InvalidInputError(f"{what}: {ref!r} is not a usable ref: {problem}", hint=REF_HINT)
    args = ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"]
    result = await run_git(repo, *args, check=False)
    if result.returncode == 0:
        return result.stdout.strip()
    if result.returncode == 1:
        # --verify --quiet exits 1 for "no such commit".
        return None
    # Any other exit: git gave up on the ref, or on the repository. Only a second
    # question tells which, and it is asked on this failure path only.
    if (await run_git(repo, "rev-parse", "--git-dir", check=False)).returncode == 0:
        reason = _first_line(result.stderr) or "git cannot evaluate it"
        raise InvalidInputError(f"{what}: {ref!r} names no commit: {reason}", hint=REF_HINT)
    raise GitError(args, result.returncode, result.stderr)


async def head_commit(repo: Path) -> str:
    """Full sha of HEAD; a repository without commits is refused."""
    sha = await resolve_commit(repo, "HEAD")
    if sha is None:
        raise InvalidInputError(
            f"{repo} has no commit checked out",
            hint="Make an initial commit first: a cell's worktree starts from a commit.",
        )
    return sha


async def branch_exists(repo: Path, branch: str) -> bool:
    """Whether `refs/heads/<branch>` exists."""
    refuse_option_like(branch, "branch name")
    args = ["show-ref", "--verify", "--quiet", f"refs/heads/{branch}"]
    result = await run_git(repo, *args, check=False)
    if result.returncode in (0, 1):
        return result.returncode == 0
    raise GitError(args, result.returncode, result.stderr)


async def commits_beyond(repo: Path, branch: str, base_commit: str) -> int:
    """How many commits `branch` has that `base_commit` does not."""
    refuse_option_like(branch, "branch name")
    refuse_option_like(base_commit, "commit")
    result = await run_git(repo, "rev-list", "--count", f"{base_commit}..{branch}", "--")
    return int(result.stdout.strip())


async def delete_branch(repo: Path, branch: str) -> None:
    """Force-delete a local branch; `NotFoundError` when there is no such branch."""
    if not await branch_exists(repo, branch):
        raise NotFoundError(f"branch {branch!r} does not exist in {repo}")
    await run_git(repo, "branch", "-D", branch)
