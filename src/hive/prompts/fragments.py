"""One piece of a cell's prompt and where it came from."""

from __future__ import annotations

from dataclasses import dataclass

BASE_SOURCE = "hive:base"
CONTEXT_SOURCE = "hive:context"
BRIEF_SOURCE = "hive:brief"


@dataclass(frozen=True)
class Fragment:
    source: str
    """A path relative to the repository, a URL, or `hive:<part>` for Hive's own parts."""
    text: str
    placeholders: bool = True
    """Rendered with Jinja2; False for text Hive writes itself (the user's brief may
    hold braces that are not placeholders)."""


@dataclass(frozen=True)
class Found:
    """Fragments of a list of sources, and what went wrong on the way (not fatal)."""

    fragments: tuple[Fragment, ...]
    warnings: tuple[str, ...] = ()
