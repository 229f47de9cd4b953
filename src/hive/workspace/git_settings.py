"""What of git's configuration and attributes a checkout must respect, read from git.

Blocking: the copy-on-write checkout reads them in its worker process (`cow_job`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from hive.workspace.checkout_plan import TreeEntry, git_true
from hive.workspace.git import GitError, git_environment


def git_output(
    repo: Path, *args: str, stdin: bytes | None = None, env: Mapping[str, str] | None = None
) -> bytes:
    """`git -C <repo> <args>`'s output, blocking; GitError when it fails."""
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *args],
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            env={**git_environment(), **(env or {})},
            check=False,
            timeout=120,
        )
    except subprocess.TimeoutExpired as exc:
        raise GitError(list(args), -1, "", reason="timed out after 120s") from exc
    except OSError as exc:
        raise GitError(list(args), 127, "", reason=f"git could not be started: {exc}") from exc
    if done.returncode != 0:
        raise GitError(list(args), done.returncode, done.stderr.decode(errors="replace"))
    return done.stdout


def parse_config(text: str) -> dict[str, str]:
    """`git config -z --list`: `key\\nvalue` records; the last value of a key wins."""
    config: dict[str, str] = {}
    for record in text.split("\0"):
        if record:
            key, _, value = record.partition("\n")
            config[key.lower()] = value
    return config


def read_attributes(
    repo: Path, common_dir: Path, tree: list[TreeEntry], config: Mapping[str, str]
) -> list[str]:
    """The text of every attributes file that applies to a checkout of `tree` at
    `repo`'s top level, or to the files of `repo`'s own checkout.

    The cell's: the tree's `.gitattributes`, info/attributes, core.attributesFile and the
    system file. The main checkout's: the `.gitattributes` in its directories as they
    are on disk (modified or untracked ones included): they shaped its files, which are
    cloned only when no attribute converts either way.
    """
    texts: list[str] = []
    tracked = [e.sha for e in tree if e.path.rsplit(b"/", 1)[-1] == b".gitattributes"]
    if tracked:
        listed = git_output(repo, "cat-file", "--batch", stdin=b"\n".join(tracked) + b"\n")
        texts.append(listed.decode(errors="replace"))  # headers too: harmless to the scan
    files = [common_dir / "info" / "attributes", global_attributes(config)]
    files += system_attributes() + _checkout_attributes(repo, tree)
    for file in files:
        with contextlib.suppress(OSError):
            texts.append(file.read_text("utf-8", "replace"))
    return texts


def system_attributes() -> list[Path]:
    """Where git reads its system-wide attributes: `$(prefix)/etc/gitattributes`, which
    is /etc/gitattributes for a git installed in /usr (unless GIT_ATTR_NOSYSTEM)."""
    if git_true(os.environ.get("GIT_ATTR_NOSYSTEM")):
        return []
    candidates = [Path("/etc/gitattributes")]
    if git := shutil.which("git"):
        prefix = Path(git).resolve().parent.parent
        if prefix != Path("/usr"):
            candidates.append(prefix / "etc" / "gitattributes")
    return candidates


def _checkout_attributes(top: Path, tree: list[TreeEntry]) -> list[Path]:
    """`.gitattributes` at the top of `top` and in every directory the tree has there
    (an untracked directory's attributes reach only untracked files)."""
    directories = {b""}
    for entry in tree:
        parent = entry.path.rpartition(b"/")[0]
        while parent not in directories:
            directories.add(parent)
            parent = parent.rpartition(b"/")[0]
    return [top / os.fsdecode(directory) / ".gitattributes" for directory in directories]


def global_attributes(config: Mapping[str, str]) -> Path:
    if configured := config.get("core.attributesfile"):
        return Path(configured).expanduser()
    xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(xdg) / "git" / "attributes"
