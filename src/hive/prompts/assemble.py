"""Fragments rendered in their order and joined into one Markdown document. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hive.prompts.fragments import Fragment
from hive.prompts.render import render


@dataclass(frozen=True)
class SourceSize:
    path: str
    bytes: int
    """Size of the fragment as rendered into the prompt (UTF-8)."""


@dataclass(frozen=True)
class Assembled:
    text: str
    sources: tuple[SourceSize, ...]


def assemble(fragments: Sequence[Fragment], context: Mapping[str, Any]) -> Assembled:
    """Render every fragment (StepError names the first that fails) and join them."""
    rendered = [(fragment.source, render(fragment, context).strip()) for fragment in fragments]
    kept = [(source, text) for source, text in rendered if text]
    return Assembled(
        text="\n\n".join(text for _, text in kept) + "\n",
        sources=tuple(SourceSize(source, len(text.encode())) for source, text in kept),
    )
