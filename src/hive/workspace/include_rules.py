"""Which ignored paths an include-copy takes: gitignore-style patterns, compiled once.

`./x` is rooted at the repository top (gitignore's `/x`); a pattern without a slash
matches at any depth. A pattern whose leading part has no glob and which ends in
`/**` (or `/`), such as `node_modules/**`, names a *static root*: a directory copied
as a whole tree instead of being matched file by file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

import pathspec

from hive.core.errors import InvalidInputError
from hive.core.patterns import pattern_problem

_GLOB = re.compile(r"[*?\[\\]")


def to_gitignore(pattern: str, kind: str) -> str:
    """Validate one pattern and translate `./x` to gitignore's rooted `/x`."""
    problem = pattern_problem(pattern)
    if problem is not None:
        raise InvalidInputError(
            f"{kind} pattern {pattern!r} {problem}",
            hint="patterns are relative to the repository root; `./x` matches x at the top",
        )
    negated = pattern.startswith("!")
    body = pattern[1:] if negated else pattern
    if body.startswith("./"):
        body = "/" + body[2:]
    return ("!" if negated else "") + body


def _compile(lines: Sequence[str], kind: str) -> pathspec.GitIgnoreSpec:
    try:
        return pathspec.GitIgnoreSpec.from_lines(lines)
    except ValueError:  # name the pattern that broke it
        for line in lines:
            try:
                pathspec.GitIgnoreSpec.from_lines([line])
            except ValueError as exc:
                raise InvalidInputError(f"invalid {kind} pattern {line!r}: {exc}") from exc
        raise


def _components(line: str) -> tuple[list[str], bool]:
    """(path components, rooted) of a gitignore line without `!`."""
    rooted = "/" in line.rstrip("/")
    parts = [part for part in line.strip("/").split("/") if part]
    return parts, rooted


def _static_root(line: str) -> str | None:
    """`node_modules/**` or `/apps/web/.venv/` → the directory; None for other patterns."""
    if line.startswith("!"):
        return None
    if line.endswith("/**"):
        head = line[: -len("/**")]
    elif line.endswith("/") and "/" in line.rstrip("/"):
        head = line.rstrip("/")
    else:
        return None
    head = head.lstrip("/")
    if not head or _GLOB.search(head):
        return None
    return head


def _key(path: str) -> str:
    # pathspec's `**` regexes skip any character but a newline; NUL never occurs in paths.
    return path.replace("\n", "\0")


@dataclass(frozen=True)
class IncludeRules:
    include_lines: tuple[str, ...]
    ignore_lines: tuple[str, ...]
    static_roots: tuple[str, ...]
    _include: pathspec.GitIgnoreSpec
    _ignore: pathspec.GitIgnoreSpec
    _file_patterns: tuple[tuple[list[str], bool], ...]

    @classmethod
    def build(cls, include: Sequence[str], ignore: Sequence[str]) -> IncludeRules:
        include_lines = tuple(to_gitignore(p, "include") for p in include if p.strip())
        ignore_lines = tuple(to_gitignore(p, "ignore") for p in ignore if p.strip())
        roots = tuple(dict.fromkeys(r for r in map(_static_root, include_lines) if r))
        file_patterns = tuple(
            _components(line)
            for line in include_lines
            if not line.startswith("!") and _static_root(line) is None
        )
        return cls(
            include_lines=include_lines,
            ignore_lines=ignore_lines,
            static_roots=roots,
            _include=_compile(include_lines, "include"),
            _ignore=_compile(ignore_lines, "ignore"),
            _file_patterns=file_patterns,
        )

    @property
    def empty(self) -> bool:
        return not self.include_lines

    @property
    def has_ignores(self) -> bool:
        return bool(self.ignore_lines)

    def selects(self, path: str) -> bool:
        """A file (repository-relative) to copy: included and not ignored."""
        key = _key(path)
        return self._include.match_file(key) and not self._ignore.match_file(key)

    def ignores(self, path: str, *, is_dir: bool = False) -> bool:
        return self._ignore.match_file(_key(path + "/" if is_dir else path))

    def includes_dir(self, path: str) -> bool:
        """The directory itself is included (so, in gitignore terms, all it holds)."""
        return self._include.match_file(_key(path + "/")) and not self.ignores(path, is_dir=True)

    def root_covering(self, path: str) -> str | None:
        """The static root that `path` is, or lies inside of."""
        for root in self.static_roots:
            if path == root or path.startswith(root + "/"):
                return root
        return None

    def roots_within(self, directory: str) -> list[str]:
        prefix = directory + "/"
        return [root for root in self.static_roots if root.startswith(prefix)]

    def may_match_within(self, directory: str) -> bool:
        """Could a file-level pattern select something inside `directory`? (Conservative.)

        An unrooted pattern (`.env*`) matches at any depth, so every directory must be
        looked into; a rooted one only where its leading components fit the directory.
        """
        parts = directory.split("/")
        for components, rooted in self._file_patterns:
            if not rooted:
                return True
            if "**" in components:
                if _fits(components[: components.index("**")], parts):
                    return True
            elif len(components) > len(parts) and _fits(components[: len(parts)], parts):
                return True
        return False


def _fits(pattern_parts: Sequence[str], path_parts: Sequence[str]) -> bool:
    """Each pattern component (glob or literal) matches the path component at its place."""
    return all(fnmatchcase(p, g) for g, p in zip(pattern_parts, path_parts, strict=False))
