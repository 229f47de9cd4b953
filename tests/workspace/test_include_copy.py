from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from hive.core.errors import InvalidInputError, StepError
from hive.workspace.clone import Cloner
from hive.workspace.git import head_commit
from hive.workspace.include_copy import (
    CopyProgress,
    CopyReport,
    copy_included,
    list_ignored,
    plan_copy,
)
from hive.workspace.include_rules import IncludeRules
from hive.workspace.tree_copy import TreeCopier, default_copy_threads
from hive.workspace.tree_walk import CopyPlan, CopyWork, walk_in_batches, walk_plan
from hive.workspace.worktree import add_worktree
from tests.support.held_file import HeldFile

if TYPE_CHECKING:
    from .conftest import GitRunner, Writer


def _files_under(root: Path) -> set[str]:
    """Every file and symlink below `root`, relative, skipping git's own `.git`."""
    found: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in [*filenames, *(d for d in dirnames if (Path(dirpath) / d).is_symlink())]:
            found.add((Path(dirpath) / name).relative_to(root).as_posix())
    found.discard(".git")
    return found


@pytest.fixture
def project(repo: Path, write: Writer, git: GitRunner) -> Path:
    """`repo` plus ignored files of every kind include-copy cares about."""
    write(repo / ".env", "TOP=1\n")
    write(repo / ".env.local", "LOCAL=1\n")
    write(repo / "apps" / "web" / ".env", "WEB=1\n")
    write(repo / "apps" / "web" / ".env.production", "WEBPROD=1\n")
    write(repo / "apps" / "api" / ".env", "API=1\n")
    write(repo / "node_modules" / "pkg" / "index.js", "module.exports = 1\n")
    write(repo / "node_modules" / "pkg" / "README.md", "# pkg\n")
    write(repo / "node_modules" / "pkg" / "docs" / "guide.md", "guide\n")
    write(repo / "node_modules" / "pkg" / "bin.js", "#!/usr/bin/env node\n").chmod(0o755)
    (repo / "node_modules" / ".bin").mkdir()
    (repo / "node_modules" / ".bin" / "pkg").symlink_to("../pkg/bin.js")
    write(repo / "debug.log", "log\n")
    write(repo / "notes.txt", "untracked, not ignored\n")
    # Tracked although it matches .gitignore: already in every worktree.
    write(repo / ".env.example", "EXAMPLE=1\n")
    git(repo, "add", "-f", ".env.example")
    git(repo, "commit", "-q", "-m", "example env")
    return repo


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    path = tmp_path / "dest"
    path.mkdir()
    return path


async def test_rooted_pattern_copies_top_level_only(project: Path, dest: Path) -> None:
    report = await copy_included(project, dest, ["./.env*"], [])
    assert _files_under(dest) == {".env", ".env.local"}
    assert (dest / ".env").read_text() == "TOP=1\n"
    assert report.files == 2
    assert report.symlinks == 0
    assert report.bytes == len("TOP=1\n") + len("LOCAL=1\n")
    assert report.missing == []


async def test_unrooted_pattern_matches_at_any_depth(project: Path, dest: Path) -> None:
    await copy_included(project, dest, [".env*"], [])
    assert _files_under(dest) == {
        ".env",
        ".env.local",
        "apps/web/.env",
        "apps/web/.env.production",
        "apps/api/.env",
    }


async def test_rooted_pattern_in_subdirectory(project: Path, dest: Path) -> None:
    await copy_included(project, dest, ["./apps/web/.env*"], [])
    assert _files_under(dest) == {"apps/web/.env", "apps/web/.env.production"}


async def test_negated_include_pattern(project: Path, dest: Path) -> None:
    await copy_included(project, dest, [".env*", "!./apps/web/.env.production"], [])
    assert "apps/web/.env.production" not in _files_under(dest)
    assert "apps/web/.env" in _files_under(dest)


async def test_double_star_with_ignore_patterns(project: Path, dest: Path) -> None:
    report = await copy_included(project, dest, ["node_modules/**"], ["node_modules/**/*.md"])
    assert _files_under(dest) == {
        "node_modules/pkg/index.js",
        "node_modules/pkg/bin.js",
        "node_modules/.bin/pkg",
    }
    assert report.files == 2
    assert report.symlinks == 1


async def test_exec_bit_and_mtime_preserved(project: Path, dest: Path) -> None:
    source = project / "node_modules" / "pkg" / "bin.js"
    os.utime(source, ns=(1_000_000_000_123_456_789, 1_000_000_000_123_456_789))
    await copy_included(project, dest, ["node_modules/**"], [])
    copied = dest / "node_modules" / "pkg" / "bin.js"
    assert copied.stat().st_mode == source.stat().st_mode
    assert copied.stat().st_mode & 0o111
    assert copied.stat().st_mtime_ns == source.stat().st_mtime_ns


async def test_symlink_copied_as_symlink(project: Path, dest: Path) -> None:
    await copy_included(project, dest, ["node_modules/.bin/*"], [])
    link = dest / "node_modules" / ".bin" / "pkg"
    assert link.is_symlink()
    assert str(link.readlink()) == "../pkg/bin.js"
    # Dangling in dest because only the link was selected: it was not followed.
    assert not (dest / "node_modules" / "pkg").exists()


async def test_symlink_pointing_outside_stays_a_symlink(
    project: Path, dest: Path, tmp_path: Path, write: Writer
) -> None:
    secret = write(tmp_path / "outside" / "secret.env", "SECRET=1\n")
    (project / ".env.shared").symlink_to(secret)
    (project / "node_modules" / "linked").symlink_to(secret.parent)
    report = await copy_included(project, dest, ["./.env.shared", "node_modules/linked"], [])
    assert (dest / ".env.shared").is_symlink()
    assert (dest / ".env.shared").readlink() == secret
    assert (dest / "node_modules" / "linked").is_symlink()
    assert _files_under(dest) == {".env.shared", "node_modules/linked"}
    assert report.symlinks == 2
    assert report.files == 0
    assert report.bytes == 0


async def test_tracked_and_unignored_files_are_never_candidates(project: Path, dest: Path) -> None:
    candidates = await list_ignored(project)
    assert ".env.example" not in candidates
    assert "README.md" not in candidates
    assert "notes.txt" not in candidates
    assert ".env" in candidates
    assert "node_modules/" in candidates, "an ignored directory is one entry, not entered"

    await copy_included(project, dest, ["**"], [])
    copied = _files_under(dest)
    assert ".env.example" not in copied
    assert "README.md" not in copied
    assert "notes.txt" not in copied
    assert "debug.log" in copied


async def test_into_real_worktree(project: Path, tmp_path: Path) -> None:
    worktree = tmp_path / "cells" / "one"
    await add_worktree(project, worktree, "hive/one-12345678", await head_commit(project))
    report = await copy_included(project, worktree, ["./.env*", "node_modules/**"], ["*.md"])
    assert (worktree / ".env").read_text() == "TOP=1\n"
    assert (worktree / ".env.example").read_text() == "EXAMPLE=1\n"  # from the checkout
    assert (worktree / "node_modules" / "pkg" / "index.js").exists()
    assert not (worktree / "node_modules" / "pkg" / "README.md").exists()
    assert report.files == 4


async def test_odd_file_names(repo: Path, dest: Path, write: Writer) -> None:
    names = ["spaced dir/.env", "ünï/.env", "new\nline/.env", 'quote"s/.env']
    for name in names:
        write(repo / name, name)
    await copy_included(repo, dest, [".env"], [])
    assert _files_under(dest) == set(names)
    assert (dest / "new\nline" / ".env").read_text() == "new\nline/.env"


async def test_special_files_are_skipped(repo: Path, dest: Path) -> None:
    (repo / "build").mkdir()
    os.mkfifo(repo / "build" / "pipe")
    (repo / "build" / "out.bin").write_bytes(b"\0\1")
    report = await copy_included(repo, dest, ["build/**"], [])
    assert _files_under(dest) == {"build/out.bin"}
    assert report.files == 1


async def test_existing_symlink_in_dest_is_replaced_not_followed(
    project: Path, dest: Path, tmp_path: Path, write: Writer
) -> None:
    victim = write(tmp_path / "victim.txt", "untouched\n")
    (dest / ".env").symlink_to(victim)
    await copy_included(project, dest, ["./.env"], [])
    assert not (dest / ".env").is_symlink()
    assert (dest / ".env").read_text() == "TOP=1\n"
    assert victim.read_text() == "untouched\n"


async def test_never_writes_outside_dest(project: Path, dest: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (dest / "apps").symlink_to(outside)
    with pytest.raises(StepError, match="outside"):
        await copy_included(project, dest, ["./apps/web/.env"], [])
    assert list(outside.iterdir()) == []


async def test_recopy_overwrites(project: Path, dest: Path) -> None:
    await copy_included(project, dest, [".env*"], [])
    (project / ".env").write_text("TOP=2\n")
    report = await copy_included(project, dest, [".env*"], [])
    assert (dest / ".env").read_text() == "TOP=2\n"
    assert report.files == 5


@pytest.mark.parametrize(
    "pattern",
    ["../x", "/abs/path", "./../x", "a/../../b", "node_modules/../../x", "!../x", "..", "./"],
)
async def test_escaping_patterns_refused(project: Path, dest: Path, pattern: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        await copy_included(project, dest, [pattern], [])
    assert repr(pattern) in info.value.message
    with pytest.raises(InvalidInputError):
        await copy_included(project, dest, ["./.env"], [pattern])
    assert _files_under(dest) == set()


async def test_no_include_patterns_runs_nothing(tmp_path: Path) -> None:
    not_a_repo = tmp_path / "plain"
    not_a_repo.mkdir()
    report = await copy_included(not_a_repo, tmp_path / "dest", [], ["*.md"])
    assert report.candidates == 0
    assert report.files == 0
    assert report.ignore_patterns == ["*.md"]
    report = await copy_included(not_a_repo, tmp_path / "dest", ["  "], [])
    assert report.candidates == 0


async def test_vanished_file_is_reported_missing(project: Path, dest: Path) -> None:
    rules = IncludeRules.build([".env*", "node_modules/**"], [])
    plan = plan_copy(await list_ignored(project), rules)
    assert "apps/api/.env" in plan.files
    (project / "apps" / "api" / ".env").unlink()
    (project / "node_modules" / "pkg" / "index.js").unlink()
    totals = TreeCopier(project, dest, Cloner(), threads=2).run(walk_plan(project, plan, rules))
    assert sorted(totals.missing) == ["apps/api/.env"]
    assert (dest / "apps" / "web" / ".env").exists()
    assert not (dest / "node_modules" / "pkg" / "index.js").exists()
    assert (dest / "node_modules" / "pkg" / "bin.js").exists()
    assert totals.symlinks == 1


@pytest.mark.parametrize("workers", [None, 3])
def test_byte_copies_run_on_several_threads_unless_told(
    repo: Path, dest: Path, workers: int | None
) -> None:
    tree = repo / "cache"
    for index in range(700):  # several chunks, so the pool does most of the work
        path = tree / f"d{index % 7}" / f"f{index}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{index}\n" * (index % 50))
    rules = IncludeRules.build(["cache/**"], [])
    cloner = Cloner()
    copier = TreeCopier(repo, dest, cloner, threads=workers)
    totals = copier.run(walk_plan(repo, CopyPlan(trees=["cache"]), rules))
    assert totals.files == 700
    for index in (0, 1, 350, 699):
        rel = f"cache/d{index % 7}/f{index}.txt"
        assert (dest / rel).read_text() == (repo / rel).read_text()
    if workers is not None:
        assert copier.threads == workers
    elif cloner.reflinked:  # this disk clones: clones go on one thread
        assert copier.threads == 1
    else:
        assert copier.threads == default_copy_threads() >= 2


def test_metadata_is_json_and_truncates_missing() -> None:
    report = CopyReport(
        patterns=["./.env*"],
        ignore_patterns=["*.md"],
        candidates=40,
        files=3,
        symlinks=2,
        bytes=123,
        missing=[f"gone/{i}" for i in range(25)],
        enumerate_ms=1.23456,
        copy_ms=2.5,
    )
    meta = report.metadata()
    assert json.loads(json.dumps(meta)) == meta
    assert meta["missing"] == [f"gone/{i}" for i in range(20)]
    assert meta["missingCount"] == 25
    assert meta["ignorePatterns"] == ["*.md"]
    assert meta["enumerateMs"] == pytest.approx(1.235)
    assert {
        "patterns",
        "candidates",
        "files",
        "symlinks",
        "bytes",
        "copyMs",
        "reflinked",
        "reflinkedBytes",
        "fallback",
    } <= set(meta)


async def test_static_root_copies_the_whole_tree_with_empty_dirs_and_ignores(
    project: Path, dest: Path
) -> None:
    (project / "node_modules" / "pkg" / "empty").mkdir()
    report = await copy_included(project, dest, ["node_modules/**"], ["node_modules/**/*.md"])
    assert report.static_roots == ["node_modules"]
    assert report.trees == 1 and report.searched_dirs == 0
    assert (dest / "node_modules" / "pkg" / "empty").is_dir(), "empty directories are kept"
    assert not (dest / "node_modules" / "pkg" / "README.md").exists()
    assert not (dest / "node_modules" / "pkg" / "docs" / "guide.md").exists()
    assert (dest / "node_modules" / ".bin" / "pkg").is_symlink()
    assert os.access(dest / "node_modules" / "pkg" / "bin.js", os.X_OK)
    assert report.files == 2 and report.symlinks == 1


async def test_rooted_patterns_do_not_search_ignored_directories(project: Path, dest: Path) -> None:
    report = await copy_included(project, dest, ["./.env*"], [])
    assert report.searched_dirs == 0, "node_modules/ must not be walked for ./.env*"
    assert report.trees == 0


async def test_worktreeinclude_adds_patterns_for_every_template(project: Path, dest: Path) -> None:
    (project / ".worktreeinclude").write_text("# Claude Code style\n\n./apps/web/.env*\n")
    report = await copy_included(project, dest, ["./.env"], [])
    assert report.worktreeinclude == ["./apps/web/.env*"]
    assert _files_under(dest) == {".env", "apps/web/.env", "apps/web/.env.production"}


async def test_worktreeinclude_with_an_escaping_pattern_names_file_and_line(
    project: Path, dest: Path
) -> None:
    (project / ".worktreeinclude").write_text("./.env\n../secrets\n")
    with pytest.raises(StepError, match=r"\.worktreeinclude:2: .*'\.\./secrets'"):
        await copy_included(project, dest, [], [])


async def test_progress_is_reported_until_every_file_is_done(project: Path, dest: Path) -> None:
    for index in range(600):
        (project / "node_modules" / "many" / f"{index // 100}").mkdir(parents=True, exist_ok=True)
        (project / "node_modules" / "many" / f"{index // 100}" / f"f{index}.js").write_text("x")
    # The copy (one thread: in the walk's order) is held on a file of its second chunk.
    rules = IncludeRules.build(["node_modules/**"], [])
    batches: list[CopyWork] = []
    walk_in_batches(project, CopyPlan(trees=["node_modules"]), rules, batches.append)
    held = batches[0].files[300]
    updates: list[CopyProgress] = []

    async def record(update: CopyProgress) -> None:
        updates.append(update)

    with HeldFile(project / held) as hold:
        copying = asyncio.ensure_future(
            copy_included(project, dest, ["node_modules/**"], [], on_progress=record, threads=1)
        )
        async with asyncio.timeout(30):
            while not any(0 < u.done < u.total for u in updates):
                await asyncio.sleep(0.01)
        assert hold.reached and not copying.done(), "reported while the copy runs"
    report = await copying
    last = updates[-1]
    assert last.done == last.total == report.files + report.symlinks
    assert all(u.done <= u.total for u in updates)
    assert (dest / held).read_text() == "x"


async def test_untracked_directories_that_are_not_ignored_are_not_copied_whole(
    repo: Path, dest: Path, write: Writer
) -> None:
    write(repo / "scratch" / "notes.txt", "untracked, not ignored\n")
    write(repo / "scratch" / ".env", "ignored inside an untracked dir\n")
    await copy_included(repo, dest, [".env", "scratch/**"], [])
    assert _files_under(dest) == {"scratch/.env"}


@pytest.mark.parametrize("in_worker", [True, False])
async def test_directories_found_by_a_pattern_get_their_parents(
    repo: Path, tmp_path: Path, write: Writer, in_worker: bool
) -> None:
    write(repo / ".gitignore", "build/\n")
    write(repo / "build" / "x" / "cache" / "a.txt", "a\n")
    write(repo / "build" / "y" / "other.txt", "not wanted\n")
    dest = tmp_path / "dest"
    report = await copy_included(repo, dest, ["**/cache/"], [], in_worker=in_worker)
    assert _files_under(dest) == {"build/x/cache/a.txt"}
    assert report.files == 1


@pytest.mark.parametrize("in_worker", [True, False])
async def test_directory_modes_are_kept_setgid_included(
    repo: Path, tmp_path: Path, write: Writer, in_worker: bool
) -> None:
    write(repo / ".gitignore", "node_modules/\n")
    write(repo / "node_modules" / "shared" / "a.js", "a\n")
    write(repo / "node_modules" / "private" / "b.js", "b\n")
    (repo / "node_modules" / "shared").chmod(0o2775)
    (repo / "node_modules" / "private").chmod(0o700)
    dest = tmp_path / "dest"
    await copy_included(repo, dest, ["node_modules/**"], [], in_worker=in_worker)
    for name in ("shared", "private"):
        source_mode = (repo / "node_modules" / name).stat().st_mode
        assert (dest / "node_modules" / name).stat().st_mode == source_mode, name
