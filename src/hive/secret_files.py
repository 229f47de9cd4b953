"""Small secret files (the access token, the OpenCode server's password): private to
the user (0600), made once, and the same for every process that races to make one.
Blocking: call these in a thread from async code."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

PRIVATE_FILE_MODE = 0o600


def read_secret(path: Path, *, tighten: bool = True) -> str | None:
    """The file's stripped text, the file tightened to 0600 if others could read it
    (`tighten`); None when there is no file or it is empty."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, encoding="ascii", errors="replace") as handle:
        if tighten and os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, PRIVATE_FILE_MODE)
        value = handle.read().strip()
    return value or None


def create_secret(path: Path, read: Callable[[Path], str | None]) -> str:
    """Write a new random secret to `path`; when another process wrote one first, theirs
    (as `read` gives it) is kept."""
    value = secrets.token_urlsafe(32)
    staged = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(value + "\n")
        try:
            # A link appears whole or not at all, and never replaces an existing file.
            os.link(staged, path)
        except FileExistsError:
            existing = read(path)
            if existing is not None:
                return existing
            staged.replace(path)  # an empty file: nothing to keep
    finally:
        staged.unlink(missing_ok=True)
    return value
