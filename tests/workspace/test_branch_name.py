from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest

from hive.core.errors import InvalidInputError
from hive.workspace.worktree import branch_name_for

HOSTILE_NAMES = [
    "",
    " ",
    "../../x",
    "/etc/passwd",
    "foo.lock",
    "x.lock/",
    "a..b",
    "@{-1}",
    "@",
    "HEAD",
    "-leading-dash",
    "--force",
    ".hidden",
    "...",
    "trailing.",
    "spaces in the name",
    "tab\tand\nnewline",
    "nul\x00byte",
    "ctrl\x7f\x1b[31m",
    "back\\slash",
    "star*question?bracket[colon:caret^tilde~",
    "ünïcödé naïve café",
    "日本語のブランチ",
    "emoji 🐝🍯",
    "İstanbul",  # lowercases to 'i' + combining dot
    "ß",
    "feature/JIRA-123: Fix the thing!",
    "a//b",
    "x" * 300,
    "a" * 39 + "-" + "b" * 10,
]


def _valid_branch(branch: str, cwd: Path) -> bool:
    result = subprocess.run(
        ["git", "check-ref-format", "--branch", branch], cwd=cwd, capture_output=True
    )
    return result.returncode == 0


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_branch_name_is_a_valid_ref(name: str, repo: Path) -> None:
    branch = branch_name_for(name, uuid.uuid4().hex)
    assert branch.startswith("hive/")
    assert _valid_branch(branch, repo), branch
    slug = branch.removeprefix("hive/").rsplit("-", 1)[0]
    assert 0 < len(slug) <= 40
    assert not slug.startswith("-") and not slug.endswith("-")


def test_branch_name_shape() -> None:
    assert branch_name_for("Fix Login Bug!", "abcdef0123456789") == "hive/fix-login-bug-abcdef01"
    assert branch_name_for("", "abcdef0123456789") == "hive/cell-abcdef01"
    assert branch_name_for("🐝", "abcdef0123456789") == "hive/cell-abcdef01"
    assert branch_name_for("../../x", "abcdef0123456789") == "hive/x-abcdef01"


def test_branch_name_truncates_without_trailing_dash() -> None:
    branch = branch_name_for("a" * 39 + " tail", "12345678")
    assert branch == "hive/" + "a" * 39 + "-12345678"


def test_distinct_cells_get_distinct_branches() -> None:
    ids = [uuid.uuid4().hex for _ in range(50)]
    branches = {branch_name_for("same name", cell_id) for cell_id in ids}
    assert len(branches) == len(ids)


@pytest.mark.parametrize("cell_id", ["", "../../etc", "ab.lock", "-1234567", "abc def0"])
def test_unusable_cell_id_is_refused(cell_id: str) -> None:
    with pytest.raises(InvalidInputError):
        branch_name_for("name", cell_id)
