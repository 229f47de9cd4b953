"""What of git's configuration and attributes a checkout must respect, read from git."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Mapping
from pathlib import Path

from hive.workspace.checkout_plan import TreeEntry
from hive.workspace.git import run_git


def parse_config(text: str) -> dict[str, str]:
    """`git config -z --list`: `key\\nvalue` records; the last value of a key wins."""
    config: dict[str, str] = {}
    for record in text.split("\0"):
        if record:
            key, _, value = record.partition("\n")
            config[key.lower()] = value
    return config


async def read_attributes(
    repo: Path, common_dir: Path, tree: list[TreeEntry], config: Mapping[str, str]
) -> list[str]:
    """The text of every attributes file that applies to a checkout of `tree`."""
    texts: list[str] = []
    tracked = [e.sha for e in tree if e.path.rsplit(b"/", 1)[-1] == b".gitattributes"]
    if tracked:
        listed = await run_git(repo, "cat-file", "--batch", stdin=b"\n".join(tracked) + b"\n")
        texts.append(listed.stdout)  # headers too: harmless to the attribute scan
    files = [common_dir / "info" / "attributes", global_attributes(config)]
    for file in files:
        with contextlib.suppress(OSError):
            texts.append(await asyncio.to_thread(file.read_text, "utf-8", "replace"))
    return texts


def global_attributes(config: Mapping[str, str]) -> Path:
    if configured := config.get("core.attributesfile"):
        return Path(configured).expanduser()
    xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(xdg) / "git" / "attributes"
