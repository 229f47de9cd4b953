"""Which of a cell's tracked files may be cloned from the main checkout, and which git writes.

A file may be cloned only when the main checkout's index vouches for it exactly as
git would: the same blob and mode as the cell's base tree, stat data git trusts (not
assume-unchanged, skip-worktree or intent-to-add), not racy (its mtime older than the
index file's, so `git status` there would not re-hash it); and, checked once the clone
is made (`tracked_clone.stat_matches`), the file on disk still matching that stat data.
Anything else is written by git. `unusual` names what makes the whole repository a case
for plain `git worktree add`. Pure.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from hive.workspace.git_index import SPARSE_INDEX, SPLIT_INDEX, MainIndex, time_pair, trusted

GITLINK = 0o160000
_SHA1_HEX = 40
#: Attributes that make a checkout write something else than the blob (or git add
#: store something else than the file): a clone of the main checkout's file could differ.
#: Set (`text`, `text=auto`, `filter=lfs`), not unset (`-text`) or unspecified (`!text`).
_CONVERTING = re.compile(r"^(filter|text|eol|crlf|ident|working-tree-encoding)(=|$)")


@dataclass(frozen=True)
class TreeEntry:
    path: bytes
    mode: int
    sha: bytes

    @property
    def is_link(self) -> bool:
        return self.mode == stat.S_IFLNK


def parse_ls_tree(output: bytes) -> list[TreeEntry]:
    """Entries of `git ls-tree -r -z --full-tree <commit>`: `<mode> <type> <sha>\\t<path>`."""
    entries = []
    for record in output.split(b"\0"):
        if not record:
            continue
        meta, _, path = record.partition(b"\t")
        mode, _kind, sha = meta.split(b" ")
        entries.append(TreeEntry(path=path, mode=int(mode, 8), sha=sha))
    return entries


@dataclass
class CheckoutPlan:
    clone: list[TreeEntry] = field(default_factory=list)
    """Files and symlinks cloned from the main checkout."""
    from_git: list[TreeEntry] = field(default_factory=list)
    """Files git writes: changed, racy, not in the main checkout's index, or another
    blob in the base tree."""
    reasons: dict[str, int] = field(default_factory=dict)
    """Why files went to git, counted: `differs`, `untrusted`, `racy`."""

    def _to_git(self, entry: TreeEntry, reason: str) -> None:
        self.from_git.append(entry)
        self.reasons[reason] = self.reasons.get(reason, 0) + 1


def plan_checkout(tree: Iterable[TreeEntry], main: MainIndex) -> CheckoutPlan:
    """Split the base tree's entries between clones and files git writes, by the index."""
    plan = CheckoutPlan()
    for entry in tree:
        known = main.entries.get(entry.path)
        if known is None or known.sha != entry.sha or known.mode != entry.mode:
            plan._to_git(entry, "differs")
        elif not trusted(known):
            plan._to_git(entry, "untrusted")
        elif time_pair(known.mtime)[0] >= main.mtime_s:
            plan._to_git(entry, "racy")
        else:
            plan.clone.append(entry)
    return plan


def unusual(
    tree: list[TreeEntry],
    main: MainIndex,
    config: Mapping[str, str],
    attributes: Iterable[str],
) -> str | None:
    """Why this repository is checked out by `git worktree add`, or None.

    `config` is `git config --list` as a dict (keys lower-case); `attributes` the text
    of every attributes file that applies to the cell or applied to the main checkout's
    files (`git_settings.read_attributes`).
    """
    if any(entry.mode == GITLINK for entry in tree) or any(
        entry.path == b".gitmodules" for entry in tree
    ):
        return "submodules"
    if git_true(config.get("core.sparsecheckout")) or main.skip_worktree:
        return "sparse checkout"
    if SPARSE_INDEX in main.extensions:
        return "sparse index"
    if git_true(config.get("core.splitindex")) or SPLIT_INDEX in main.extensions:
        return "split index"
    if any(len(entry.sha) != _SHA1_HEX for entry in tree[:1]):
        return "object format other than SHA-1"
    if not _false(config.get("core.autocrlf", "false")):  # `true` and `input` convert
        return "line-ending conversion (core.autocrlf)"
    for text in attributes:
        if attribute := converting_attribute(text):
            return f"attributes that convert files on checkout ({attribute})"
    return None


def converting_attribute(text: str) -> str | None:
    """The first attribute in a gitattributes text that converts contents, or None."""
    for line in text.splitlines():
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        for attribute in fields[1:]:
            if _CONVERTING.match(attribute):
                return attribute
    return None


def git_true(value: str | None) -> bool:
    """A git boolean (a config value, an environment switch) that is set and true."""
    return value is not None and value.strip().lower() in ("true", "yes", "on", "1")


def _false(value: str) -> bool:
    return value.strip().lower() in ("false", "no", "off", "0")
