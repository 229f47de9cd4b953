"""Registering a repository as a workspace: it must be a git repository with a config."""

from __future__ import annotations

import asyncio
import errno
import stat
import unicodedata
from pathlib import Path

from hive.config.loader import CONFIG_FILENAMES, find_config_file
from hive.core.errors import ConfigError, InvalidInputError
from hive.store.records import WorkspaceRecord
from hive.store.workspaces import WorkspaceStore
from hive.workspace.git import repo_root

#: PATH_MAX on Linux: the kernel resolves no longer path.
MAX_PATH_BYTES = 4096

_PATH_HINT = "give the absolute path of a directory inside a git repository"


def _refuse(problem: str, hint: str = _PATH_HINT) -> InvalidInputError:
    return InvalidInputError(f"path: {problem}", hint=hint)


def _check_text(text: str) -> None:
    """Refuse what cannot be a path someone meant, before any system call sees it."""
    # Cc covers NUL (the kernel takes C strings), newlines and tabs (never typed on purpose).
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise _refuse(f"{text!r} holds control characters (NUL, newline, tab …)")
    if text != text.strip():
        raise _refuse(f"{text!r} starts or ends with whitespace", hint="remove it")
    try:
        size = len(text.encode())
    except UnicodeEncodeError:  # lone surrogates: a name Hive could not store or show
        raise _refuse(f"{text!r} is not valid Unicode text") from None
    if size > MAX_PATH_BYTES:
        raise _refuse(f"{size} bytes long; a path has at most {MAX_PATH_BYTES}")


def _expand(path: Path) -> Path:
    """`~` and `~user` expanded; a relative path is refused, as the server's working
    directory means nothing to the caller."""
    try:
        expanded = path.expanduser()
    except RuntimeError:  # `~user` of no such user, or `~` without a home directory
        head = str(path).split("/", 1)[0]
        raise _refuse(f"{head!r} names no home directory on the Hive server's machine") from None
    if not expanded.is_absolute():
        raise _refuse(f"{str(path)!r} is relative")
    return expanded


_PERMISSION_HINT = "let the user running Hive read it, or pick another directory"

#: What a failed stat means, and what to do about it.
_STAT_PROBLEMS = {
    errno.ENOENT: ("does not exist", _PATH_HINT),
    errno.ENOTDIR: ("goes through a file as if it were a directory", _PATH_HINT),
    errno.EACCES: ("cannot be read by the Hive server (permission denied)", _PERMISSION_HINT),
    errno.EPERM: ("cannot be read by the Hive server (not permitted)", _PERMISSION_HINT),
    errno.ELOOP: ("runs into a loop of symbolic links", "fix the links, or give the real path"),
    errno.ENAMETOOLONG: ("has a name longer than the file system allows", _PATH_HINT),
}


def _existing_directory(path: Path) -> Path:
    """The resolved directory `path` names (blocking: run it in a thread)."""
    try:
        mode = path.stat().st_mode
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError) as exc:  # RuntimeError: Python's word for a symlink loop
        code = exc.errno if isinstance(exc, OSError) else errno.ELOOP
        problem, hint = _STAT_PROBLEMS.get(code or 0, (f"cannot be read: {exc}", _PATH_HINT))
        raise _refuse(f"{path} {problem}", hint) from None
    if not stat.S_ISDIR(mode):
        raise _refuse(f"{path} is not a directory")
    # Symbolic links may lead to names the text checks have not seen (bytes that are not UTF-8).
    _check_text(str(resolved))
    return resolved


async def register_workspace(
    store: WorkspaceStore, path: Path, label: str | None = None
) -> tuple[WorkspaceRecord, bool]:
    """Register the repository containing `path`; returns (workspace, newly added).

    The config must exist but may be broken: it is re-read on every use, and its
    errors are shown by the templates endpoint, so the user can fix it in place.
    """
    _check_text(str(path))
    # expanduser reads the password database: blocking, like the stat calls.
    resolved = await asyncio.to_thread(lambda: _existing_directory(_expand(path)))
    try:
        root = await repo_root(resolved)
    except InvalidInputError as exc:
        raise _refuse(exc.message, exc.hint or _PATH_HINT) from None
    if await asyncio.to_thread(find_config_file, root) is None:
        raise ConfigError(
            f"{root} has no {' or '.join(CONFIG_FILENAMES)}",
            file=str(root / CONFIG_FILENAMES[0]),
            hint="create hive.config.json at the repository root (`hive config schema` "
            "prints its JSON Schema), then register the workspace again",
        )
    existing = await store.find_by_path(root)
    if existing is not None:
        return existing, False
    return await store.register(root, label), True
