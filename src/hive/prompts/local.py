"""Prompt files in the repository: glob patterns (a directory stands for the files in
it), each pattern's files in sorted path order. Blocking: call it in
a thread."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from hive.prompts.fragments import Found, Fragment

MAX_FILE_BYTES = 1_000_000


def _pattern_problem(pattern: str) -> str | None:
    parts = PurePosixPath(pattern).parts
    if pattern.startswith("/") or ".." in parts:
        return "must stay inside the repository (relative, no `..`)"
    return None


def _files(root: Path, pattern: str) -> list[Path]:
    found: set[Path] = set()
    for match in root.glob(pattern):
        if match.is_dir():
            found.update(path for path in match.rglob("*") if path.is_file())
        elif match.is_file():
            found.add(match)
    return sorted(found, key=lambda path: path.relative_to(root).as_posix())


def read_local(root: Path, pattern: str, label: str) -> Found:
    """The files `pattern` matches under `root`; problems are warnings naming `label`."""
    problem = _pattern_problem(pattern) if pattern.strip() else "is blank"
    if problem is not None:
        return Found((), (f"{label} {problem}: skipped",))
    files = _files(root, pattern)
    if not files:
        return Found((), (f"{label} matches no file",))
    fragments: list[Fragment] = []
    warnings: list[str] = []
    resolved_root = root.resolve()
    for path in files:
        relative = path.relative_to(root).as_posix()
        if not path.resolve().is_relative_to(resolved_root):
            warnings.append(f"{label}: {relative} leads outside the repository: skipped")
        elif path.stat().st_size > MAX_FILE_BYTES:
            warnings.append(f"{label}: {relative} is over {MAX_FILE_BYTES} bytes: skipped")
        else:
            try:
                fragments.append(Fragment(relative, path.read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError) as exc:
                warnings.append(f"{label}: {relative} cannot be read ({exc}): skipped")
    return Found(tuple(fragments), tuple(warnings))
