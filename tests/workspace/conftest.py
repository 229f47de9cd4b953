"""Real git repositories in tmp_path, isolated from the user's git configuration."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

GitRunner = Callable[..., str]
Writer = Callable[..., Path]


def run(repo: Path, *args: str) -> str:
    """Run git synchronously for test setup; returns stripped stdout."""
    result = subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    )
    return result.stdout.strip()


def write_file(path: Path, text: str = "x\n") -> Path:
    """Write `text` to `path`, creating parent directories."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def git() -> GitRunner:
    """`git(repo, *args)`: synchronous git for test setup and checks."""
    return run


@pytest.fixture
def write() -> Writer:
    """`write(path, text="x\\n")`: create a file and its parent directories."""
    return write_file


@pytest.fixture(autouse=True)
def isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep global/system config (signing, hooks, aliases) and outer repos out of tests."""
    empty = tmp_path / "empty.gitconfig"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository on `main` with a few tracked files, a .gitignore and one commit."""
    root = tmp_path / "repo"
    root.mkdir()
    run(root, "init", "-q", "-b", "main")
    run(root, "config", "user.email", "hive@example.com")
    run(root, "config", "user.name", "Hive Tests")
    run(root, "config", "commit.gpgsign", "false")
    write_file(root / "README.md", "# demo\n")
    write_file(root / "src" / "app.py", "print('hi')\n")
    write_file(root / "apps" / "web" / "index.js", "console.log(1)\n")
    write_file(root / ".gitignore", ".env*\nnode_modules/\n*.log\nbuild/\n")
    run(root, "add", "-A")
    run(root, "commit", "-q", "-m", "initial")
    return root
