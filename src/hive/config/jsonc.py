"""JSONC (JSON with comments and trailing commas), parsed by blanking to plain JSON.

Comments and trailing commas are overwritten with spaces (newlines kept) instead of
removed, so every line and column that `json` reports is the one in the user's file.
"""

from __future__ import annotations

import json
from typing import Any

from hive.core.errors import ConfigError

_JSON_HINT = "fix the JSON at that position (comments and trailing commas are allowed)"


def parse_jsonc(text: str, *, file: str) -> Any:
    """Parse JSONC text; `file` only names the source in errors."""
    try:
        return json.loads(strip_jsonc(text, file=file))
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{file}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}",
            file=file,
            line=exc.lineno,
            column=exc.colno,
            hint=_JSON_HINT,
        ) from exc


def strip_jsonc(text: str, *, file: str) -> str:
    """Return `text` with comments and trailing commas blanked, same length and lines."""
    out = list(text)
    n = len(text)
    i = 0
    # Index of a comma that follows a value and has nothing significant after it
    # yet; blanked if the next significant character closes an object or array.
    # Commas after `{`, `[`, `,` or `:` are left for `json` to reject.
    pending_comma: int | None = None
    previous = ""  # last significant character outside comments
    while i < n:
        ch = text[i]
        if ch == '"':
            pending_comma = None
            previous = ch
            i = _skip_string(text, i)
        elif ch == "/" and text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end == -1 else end
            _blank(out, i, end)
            i = end
        elif ch == "/" and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end == -1:
                line, col = _position(text, i)
                raise ConfigError(
                    f"{file}:{line}:{col}: invalid JSON: unterminated /* comment",
                    file=file,
                    line=line,
                    column=col,
                    hint="close the comment with */",
                )
            _blank(out, i, end + 2)
            i = end + 2
        elif ch in " \t\r\n":
            i += 1
        else:
            if ch in "}]" and pending_comma is not None:
                out[pending_comma] = " "
            follows_value = previous not in ("", "{", "[", ",", ":")
            pending_comma = i if ch == "," and follows_value else None
            previous = ch
            i += 1
    return "".join(out)


def _skip_string(text: str, start: int) -> int:
    """Index just past the string opening at `start` (or the end, if unterminated)."""
    i = start + 1
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            i += 2
        elif ch == '"':
            return i + 1
        elif ch == "\n":
            # JSON strings cannot span lines; stop so a stray quote does not swallow
            # the rest of the file and `json` reports the real position.
            return i
        else:
            i += 1
    return n


def _blank(out: list[str], start: int, end: int) -> None:
    for j in range(start, end):
        if out[j] not in "\r\n":
            out[j] = " "


def _position(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of `index`, counted the way `json` does."""
    line = text.count("\n", 0, index) + 1
    return line, index - text.rfind("\n", 0, index)
