from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import psutil
import pytest

from hive.core.errors import HiveError, InvalidInputError, NotFoundError
from hive.workspace.git import (
    GitError,
    branch_exists,
    commits_beyond,
    delete_branch,
    head_commit,
    repo_root,
    resolve_commit,
    run_git,
)

if TYPE_CHECKING:
    from .conftest import GitRunner, Writer


async def test_run_git_returns_output(repo: Path) -> None:
    result = await run_git(repo, "rev-parse", "--abbrev-ref", "HEAD")
    assert result.returncode == 0
    assert result.stdout.strip() == "main"


async def test_run_git_uses_c_locale_and_no_prompt(repo: Path) -> None:
    # A shell alias shows the environment git (and anything it starts) runs with.
    result = await run_git(
        repo, "-c", "alias.env=!echo $GIT_TERMINAL_PROMPT:$LC_ALL", "env", check=False
    )
    assert result.stdout.strip() == "0:C"


async def test_run_git_failure_raises_git_error(repo: Path) -> None:
    with pytest.raises(GitError) as info:
        await run_git(repo, "rev-parse", "--verify", "no-such-ref")
    err = info.value
    assert isinstance(err, HiveError)
    assert err.git_args == ["rev-parse", "--verify", "no-such-ref"]
    assert err.returncode == 128
    assert "fatal" in err.stderr
    assert err.message.startswith("git rev-parse --verify no-such-ref failed (exit 128): fatal:")
    assert str(err) == err.message


async def test_run_git_check_false_returns_failure(repo: Path) -> None:
    result = await run_git(repo, "rev-parse", "--verify", "no-such-ref", check=False)
    assert result.returncode == 128
    assert result.stdout == ""


async def test_run_git_timeout_kills_and_raises(repo: Path) -> None:
    with pytest.raises(GitError, match="timed out"):
        await run_git(repo, "-c", "alias.slow=!sleep 30", "slow", timeout=0.3)


def _gone(pid: int) -> bool:
    try:
        status: str = psutil.Process(pid).status()
    except psutil.NoSuchProcess:
        return True
    return bool(status == psutil.STATUS_ZOMBIE)


async def test_run_git_cancellation_kills_process_tree(repo: Path, tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    task = asyncio.create_task(
        run_git(repo, "-c", f"alias.slow=!echo $$ > {pid_file}; exec sleep 30", "slow")
    )
    for _ in range(500):
        if pid_file.exists() and pid_file.read_text().strip():
            break
        await asyncio.sleep(0.01)
    pid = int(pid_file.read_text())
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(500):
        if _gone(pid):
            break
        await asyncio.sleep(0.01)
    assert _gone(pid)


async def test_repo_root_from_subdirectory(repo: Path) -> None:
    assert await repo_root(repo / "src") == repo.resolve()


async def test_repo_root_outside_a_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(InvalidInputError) as info:
        await repo_root(plain)
    assert str(plain) in info.value.message
    assert info.value.hint is not None and "git init" in info.value.hint


async def test_repo_root_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="not a directory"):
        await repo_root(tmp_path / "nope")


async def test_resolve_commit(repo: Path, git: GitRunner, write: Writer) -> None:
    first = git(repo, "rev-parse", "HEAD")
    git(repo, "tag", "-a", "v1", "-m", "release")
    git(repo, "branch", "feature")
    write(repo / "more.txt")
    git(repo, "add", "more.txt")
    git(repo, "commit", "-q", "-m", "more")
    second = git(repo, "rev-parse", "HEAD")

    assert await resolve_commit(repo, "main") == second
    assert await resolve_commit(repo, "feature") == first
    assert await resolve_commit(repo, "v1") == first  # annotated tag peeled to its commit
    assert await resolve_commit(repo, first) == first
    assert await resolve_commit(repo, first[:10]) == first
    assert await resolve_commit(repo, "no-such-branch") is None
    assert await resolve_commit(repo, "main^{tree}") is None  # a tree is not a commit
    assert await head_commit(repo) == second


@pytest.mark.parametrize("ref", ["-h", "--output=/tmp/x", ""])
async def test_resolve_commit_refuses_option_like_refs(repo: Path, ref: str) -> None:
    with pytest.raises(InvalidInputError):
        await resolve_commit(repo, ref)


async def test_resolve_commit_names_the_field_when_git_refuses_the_ref(repo: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"^baseRef: 'main@\{upstream\}' names no commit"):
        await resolve_commit(repo, "main@{upstream}", what="baseRef")


async def test_resolve_commit_in_an_unreadable_repository_is_a_git_error(repo: Path) -> None:
    (repo / ".git" / "HEAD").unlink()
    with pytest.raises(GitError, match="not a git repository"):
        await resolve_commit(repo, "main")


async def test_run_git_that_cannot_start_is_a_git_error(repo: Path) -> None:
    # One argument past MAX_ARG_STRLEN: exec fails with E2BIG.
    with pytest.raises(GitError, match="could not be started"):
        await run_git(repo, "x" * 200_000)


async def test_head_commit_of_empty_repository(tmp_path: Path, git: GitRunner) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q", "-b", "main")
    with pytest.raises(InvalidInputError, match="no commit"):
        await head_commit(empty)


async def test_branch_exists_and_delete(repo: Path, git: GitRunner) -> None:
    git(repo, "branch", "hive/demo-12345678")
    assert await branch_exists(repo, "hive/demo-12345678")
    assert not await branch_exists(repo, "hive/other")
    await delete_branch(repo, "hive/demo-12345678")
    assert not await branch_exists(repo, "hive/demo-12345678")
    with pytest.raises(NotFoundError):
        await delete_branch(repo, "hive/demo-12345678")


async def test_commits_beyond(repo: Path, git: GitRunner, write: Writer) -> None:
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "-b", "work")
    assert await commits_beyond(repo, "work", base) == 0
    for name in ("a.txt", "b.txt"):
        write(repo / name)
        git(repo, "add", name)
        git(repo, "commit", "-q", "-m", name)
    assert await commits_beyond(repo, "work", base) == 2
    assert await commits_beyond(repo, "main", base) == 0
