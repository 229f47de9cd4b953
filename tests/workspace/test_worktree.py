from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from hive.core.errors import InvalidInputError
from hive.workspace import worktree as worktree_module
from hive.workspace.git import GitError, branch_exists, commits_beyond, head_commit
from hive.workspace.worktree import (
    add_worktree,
    branch_name_for,
    remove_worktree,
    worktree_exists,
)

if TYPE_CHECKING:
    from .conftest import GitRunner, Writer


@pytest.fixture
def cells(tmp_path: Path) -> Path:
    return tmp_path / "cells"


async def _new_cell(repo: Path, cells: Path, name: str = "demo") -> tuple[Path, str, str]:
    cell_id = uuid.uuid4().hex
    branch = branch_name_for(name, cell_id)
    path = cells / cell_id
    base = await head_commit(repo)
    await add_worktree(repo, path, branch, base)
    return path, branch, base


async def test_add_and_remove_worktree(repo: Path, cells: Path) -> None:
    path, branch, _ = await _new_cell(repo, cells)
    assert (path / "README.md").read_text() == "# demo\n"
    assert (path / ".git").is_file()
    assert await worktree_exists(repo, path)
    assert await branch_exists(repo, branch)

    await remove_worktree(repo, path)
    assert not path.exists()
    assert not await worktree_exists(repo, path)
    # The branch outlives the worktree; deleting it is a separate decision.
    assert await branch_exists(repo, branch)

    await remove_worktree(repo, path)  # idempotent
    assert not await worktree_exists(repo, path)


async def test_same_name_gives_separate_cells(repo: Path, cells: Path) -> None:
    first, first_branch, _ = await _new_cell(repo, cells, "same")
    second, second_branch, _ = await _new_cell(repo, cells, "same")
    assert first != second and first_branch != second_branch
    assert await worktree_exists(repo, first) and await worktree_exists(repo, second)


async def test_remove_dirty_worktree(repo: Path, cells: Path, write: Writer) -> None:
    path, _, _ = await _new_cell(repo, cells)
    write(path / "README.md", "changed\n")
    write(path / "untracked" / "file.txt")
    write(path / "debug.log")  # ignored
    await remove_worktree(repo, path)
    assert not path.exists()


async def test_remove_after_directory_deleted_by_hand(
    repo: Path, cells: Path, git: GitRunner
) -> None:
    path, _, _ = await _new_cell(repo, cells)
    shutil.rmtree(path)
    assert await worktree_exists(repo, path)  # git still has the entry
    await remove_worktree(repo, path)
    assert not await worktree_exists(repo, path)
    assert str(path) not in git(repo, "worktree", "list", "--porcelain")
    await remove_worktree(repo, path)


async def test_remove_locked_worktree(repo: Path, cells: Path, git: GitRunner) -> None:
    path, _, _ = await _new_cell(repo, cells)
    git(repo, "worktree", "lock", str(path))
    await remove_worktree(repo, path)
    assert not path.exists()
    assert not await worktree_exists(repo, path)


async def test_remove_leftover_directory_git_does_not_know(
    repo: Path, cells: Path, write: Writer
) -> None:
    leftover = cells / "half-made"
    write(leftover / "some" / "file.txt")
    await remove_worktree(repo, leftover)
    assert not leftover.exists()


async def test_remove_refuses_main_worktree(repo: Path) -> None:
    with pytest.raises(GitError):
        await remove_worktree(repo, repo)
    assert (repo / "README.md").exists()


async def test_remove_refuses_directory_containing_worktrees(repo: Path, cells: Path) -> None:
    path, _, _ = await _new_cell(repo, cells)
    with pytest.raises(InvalidInputError, match="refusing to delete"):
        await remove_worktree(repo, cells)
    assert (path / "README.md").exists()
    with pytest.raises(InvalidInputError, match="refusing to delete"):
        await remove_worktree(repo, repo.parent)
    assert (repo / "README.md").exists()


async def test_add_into_nonempty_directory_is_refused(
    repo: Path, cells: Path, write: Writer
) -> None:
    path = cells / "taken"
    write(path / "stuff.txt")
    with pytest.raises(InvalidInputError) as info:
        await add_worktree(repo, path, "hive/taken-12345678", await head_commit(repo))
    assert str(path) in info.value.message
    assert (path / "stuff.txt").exists()


async def test_add_into_existing_empty_directory(repo: Path, cells: Path) -> None:
    path = cells / "empty"
    path.mkdir(parents=True)
    await add_worktree(repo, path, "hive/empty-12345678", await head_commit(repo))
    assert (path / "README.md").exists()


async def test_add_relative_path_is_relative_to_cwd(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    await add_worktree(repo, Path("rel/cell"), "hive/rel-12345678", await head_commit(repo))
    assert (tmp_path / "rel" / "cell" / "README.md").exists()
    assert not (repo / "rel").exists()
    assert await worktree_exists(repo, Path("rel/cell"))
    await remove_worktree(repo, Path("rel/cell"))
    assert not (tmp_path / "rel" / "cell").exists()


async def test_add_with_existing_branch_fails(repo: Path, cells: Path, git: GitRunner) -> None:
    git(repo, "branch", "hive/dup-12345678")
    with pytest.raises(GitError, match="already exists"):
        await add_worktree(repo, cells / "dup", "hive/dup-12345678", await head_commit(repo))
    assert not (cells / "dup").exists()


@pytest.mark.parametrize(("branch", "commit"), [("-b", "HEAD"), ("hive/x-1", "--detach")])
async def test_add_refuses_option_like_arguments(
    repo: Path, cells: Path, branch: str, commit: str
) -> None:
    with pytest.raises(InvalidInputError):
        await add_worktree(repo, cells / "x", branch, commit)


async def test_commits_beyond_counts_worktree_commit(
    repo: Path, cells: Path, git: GitRunner, write: Writer
) -> None:
    path, branch, base = await _new_cell(repo, cells)
    assert await commits_beyond(repo, branch, base) == 0
    write(path / "feature.txt", "new\n")
    git(path, "add", "feature.txt")
    git(path, "commit", "-q", "-m", "feature")
    assert await commits_beyond(repo, branch, base) == 1


async def test_remove_refuses_directory_with_tracked_files(repo: Path) -> None:
    with pytest.raises(InvalidInputError, match="tracked"):
        await remove_worktree(repo, repo / "src")
    assert (repo / "src" / "app.py").exists()


async def test_remove_leftover_inside_the_repository(repo: Path, write: Writer) -> None:
    leftover = repo / ".hive" / "cells" / "abc"
    write(leftover / "junk.txt")
    await remove_worktree(repo, leftover)
    assert not leftover.exists()
    assert (repo / "README.md").exists()


async def test_worktrees_inside_the_repository(repo: Path) -> None:
    path = repo / ".hive" / "cells" / "one"
    await add_worktree(repo, path, "hive/one-12345678", await head_commit(repo))
    assert await worktree_exists(repo, path)
    await remove_worktree(repo, path)
    assert not path.exists()
    await remove_worktree(repo, path)


async def test_odd_worktree_path(repo: Path, tmp_path: Path) -> None:
    path = tmp_path / "cells" / "odd\nname with spaces"
    await add_worktree(repo, path, "hive/odd-12345678", await head_commit(repo))
    assert await worktree_exists(repo, path)
    await remove_worktree(repo, path)
    assert not path.exists()
    assert not await worktree_exists(repo, path)


async def test_an_add_that_races_another_add_is_tried_again(
    repo: Path, cells: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another add has made its admin directory but not yet written `commondir`: git
    # fails to read it. The test lets that add "finish" once the first try has failed.
    half_made = repo / ".git" / "worktrees" / "other"
    half_made.mkdir(parents=True)
    (half_made / "commondir").touch()
    (half_made / "gitdir").write_text(f"{cells / 'other' / '.git'}\n")
    failures: list[str] = []
    real_run_git = worktree_module.run_git

    async def run_git_seen(repo_: Path, *args: str, **kwargs: Any) -> Any:
        try:
            return await real_run_git(repo_, *args, **kwargs)
        except GitError as exc:
            failures.append(exc.stderr)
            shutil.rmtree(half_made)  # the other add is done (here: gone)
            raise

    monkeypatch.setattr(worktree_module, "run_git", run_git_seen)
    path, branch, _ = await _new_cell(repo, cells, "raced")
    assert len(failures) == 1 and "commondir" in failures[0]
    assert (path / "README.md").exists() and await branch_exists(repo, branch)
    assert await worktree_exists(repo, path)


async def test_other_add_failures_are_not_retried(
    repo: Path, cells: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = 0
    real_run_git = worktree_module.run_git

    async def counting(repo_: Path, *args: str, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return await real_run_git(repo_, *args, **kwargs)

    monkeypatch.setattr(worktree_module, "run_git", counting)
    with pytest.raises(GitError):
        await add_worktree(repo, cells / "x", "hive/bad-1", "0" * 40)
    assert calls == 1
