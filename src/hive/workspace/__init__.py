"""Everything Hive does with git and with a cell's worktree directory.

All functions are async and never block the event loop: git runs as a subprocess,
file walking and copying run in worker threads.
"""

from hive.workspace.git import (
    GitError,
    GitResult,
    branch_exists,
    commits_beyond,
    delete_branch,
    head_commit,
    repo_root,
    resolve_commit,
    run_git,
)
from hive.workspace.include_copy import CopyReport, copy_included
from hive.workspace.worktree import (
    add_worktree,
    branch_name_for,
    remove_worktree,
    worktree_exists,
)

__all__ = [
    "CopyReport",
    "GitError",
    "GitResult",
    "add_worktree",
    "branch_exists",
    "branch_name_for",
    "commits_beyond",
    "copy_included",
    "delete_branch",
    "head_commit",
    "remove_worktree",
    "repo_root",
    "resolve_commit",
    "run_git",
    "worktree_exists",
]
