"""A list of prompt sources (repository globs and URLs) turned into fragments, in the
list's order."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from hive.prompts.fragments import Found, Fragment
from hive.prompts.local import read_local
from hive.prompts.remote import PromptFetcher, is_url


async def find_sources(
    root: Path, sources: Sequence[str], where: str, fetcher: PromptFetcher
) -> Found:
    fragments: list[Fragment] = []
    warnings: list[str] = []
    for index, source in enumerate(sources):
        if is_url(source):
            fetched = await fetcher.fetch(source)
            if fetched.text is not None:
                fragments.append(Fragment(source, fetched.text))
            if fetched.warning is not None:
                warnings.append(f"{where}[{index}] {fetched.warning}")
            continue
        label = f"{where}[{index}] {source!r}"
        found = await asyncio.to_thread(read_local, root, source, label)
        seen = {fragment.source for fragment in fragments}  # a file matched twice is used once
        fragments.extend(fragment for fragment in found.fragments if fragment.source not in seen)
        warnings.extend(found.warnings)
    return Found(tuple(fragments), tuple(warnings))
