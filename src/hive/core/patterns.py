"""Include/ignore pattern rules that need no file system: what may never be written."""

from __future__ import annotations


def pattern_problem(pattern: str) -> str | None:
    """Why `pattern` cannot be used (it leaves the repository or names nothing), or None."""
    body = pattern[1:] if pattern.startswith("!") else pattern
    if not body.strip():
        return "is empty"
    if body.startswith("/") or body.startswith("~"):
        return "is an absolute path; patterns are relative to the repository (write ./x)"
    if ".." in body.split("/"):
        return "points outside the repository ('..')"
    if body.startswith("./") and not body[2:].strip("/"):
        return "names no files; write e.g. ./.env*"
    return None
