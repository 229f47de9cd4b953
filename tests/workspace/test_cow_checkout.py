"""Copy-on-write checkouts on a real btrfs loop mount, and their fallback on the ordinary disk."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from hive.workspace.checkout_report import CheckoutReport
from hive.workspace.clone_support import REFUSED, CloneSupport
from hive.workspace.cow_checkout import CowUnavailable, make_cow_worktree, prepare_cow
from hive.workspace.cow_job import HELPER_FROM_FILES
from hive.workspace.git_index import UnreadableIndexError, read_main_index, time_pair
from hive.workspace.worktree import checkout_finished, remove_worktree, worktree_git_dir
from tests.support.btrfs import btrfs_mount, disk_clones, shares_extents
from tests.workspace.conftest import GitRunner

BIG = 256 * 1024


def make_repo(root: Path, git: GitRunner) -> Path:
    """Small files, a large one, an executable, a symlink, a nested directory; committed,
    with file times in the past so the main index vouches for every file (none racy)."""
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "hive@example.com")
    git(root, "config", "user.name", "Hive Tests")
    for index in range(30):
        path = root / "src" / f"pkg{index % 3}" / f"m{index}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"VALUE = {index}\n")
    (root / "big.bin").write_bytes(os.urandom(BIG))
    tool = root / "bin" / "tool.sh"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\necho tool\n")
    tool.chmod(0o755)
    (root / "link").symlink_to("src/pkg0/m0.py")
    (root / ".gitignore").write_text("*.log\n")
    age_tree(root)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


def age_tree(root: Path, seconds: int = 30) -> None:
    past = time.time_ns() - seconds * 1_000_000_000
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in filenames:
            os.utime(Path(dirpath) / name, ns=(past, past), follow_symlinks=False)


async def cow(repo: Path, cell: Path, commit: str = "HEAD", **kwargs: object) -> CheckoutReport:
    sha = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", commit], check=True, capture_output=True, text=True
    ).stdout.strip()
    prepared = await prepare_cow(repo, sha, cell.parent, CloneSupport())
    return await make_cow_worktree(repo, cell, f"hive/{cell.name}", sha, prepared, new_branch=True)


def status(path: Path) -> str:
    out = subprocess.run(
        ["git", "-C", str(path), "status", "--porcelain", "--untracked-files=all"],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout


def stat_dirty(path: Path) -> str:
    """Entries whose stat data does not match the file: what `git status` would re-hash.

    `git diff-files` compares stat data only and refreshes nothing."""
    out = subprocess.run(
        ["git", "-C", str(path), "diff-files", "--name-only"],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout


@pytest.fixture
def mount(tmp_path: Path) -> Iterator[Path]:
    with btrfs_mount(tmp_path) as mounted:
        yield mounted


async def test_a_cow_checkout_is_the_checkout_git_makes(mount: Path, git: GitRunner) -> None:
    repo = make_repo(mount / "repo", git)
    cell = mount / "cells" / "one"
    report = await cow(repo, cell)
    assert report.checkout == "cow"
    assert report.files_cloned == 34 and report.files_checked_out == 0
    assert report.byte_copies == 0 and report.racy == 0
    os.sync()
    assert shares_extents(cell / "big.bin"), "the clone shares the main checkout's extents"
    assert (cell / "big.bin").read_bytes() == (repo / "big.bin").read_bytes()
    assert stat.S_IMODE((cell / "bin" / "tool.sh").stat().st_mode) & 0o111 == 0o111
    assert (cell / "link").is_symlink()
    assert (cell / "link").readlink() == Path("src/pkg0/m0.py")
    # The cell's index holds git's blobs and modes; its stat data matches every file
    # (nothing to re-hash) and no entry is racy; `git status` then rewrites nothing.
    assert git(cell, "ls-files", "-s") == git(repo, "ls-files", "-s")
    assert stat_dirty(cell) == ""
    index = worktree_git_dir(cell) / "index"
    entries = read_main_index(index)
    assert all(time_pair(e.mtime)[0] < entries.mtime_s for e in entries.entries.values())
    assert b"TREE" in entries.extensions, "a cache tree, as git's own checkout writes"
    before = index.stat().st_mtime_ns, index.read_bytes()
    assert status(cell) == ""
    assert (index.stat().st_mtime_ns, index.read_bytes()) == before, "git refreshed nothing"
    assert git(cell, "rev-parse", "--abbrev-ref", "HEAD") == "hive/one"
    assert checkout_finished(cell)


async def test_a_file_dirty_in_the_main_checkout_gets_head_content(
    mount: Path, git: GitRunner
) -> None:
    repo = make_repo(mount / "repo", git)
    (repo / "src" / "pkg0" / "m0.py").write_text("edited, not staged\n")
    (repo / "src" / "pkg1" / "m1.py").write_text("edited and staged\n")
    git(repo, "add", "src/pkg1/m1.py")
    (repo / "big.bin").write_bytes(os.urandom(BIG))  # same size, new content
    cell = mount / "cells" / "dirty"
    sha = git(repo, "rev-parse", "HEAD")
    prepared = await prepare_cow(repo, sha, cell.parent, CloneSupport())
    assert prepared.reasons == {"differs": 1}, "the staged file: known from the index"
    report = await make_cow_worktree(repo, cell, "hive/dirty", sha, prepared, new_branch=True)
    assert report.checkout == "cow"
    assert report.from_git == {"differs": 1, "changed": 2}, "found by checking the clones"
    assert (cell / "src" / "pkg0" / "m0.py").read_text() == "VALUE = 0\n"
    assert (cell / "src" / "pkg1" / "m1.py").read_text() == "VALUE = 1\n"
    head_big = subprocess.run(
        ["git", "-C", str(repo), "show", "HEAD:big.bin"], check=True, capture_output=True
    ).stdout
    assert (cell / "big.bin").read_bytes() == head_big
    assert report.files_checked_out == 3 and report.files_cloned == 31
    assert status(cell) == ""
    assert stat_dirty(cell) == ""


async def test_a_base_other_than_head_gets_that_refs_content(mount: Path, git: GitRunner) -> None:
    repo = make_repo(mount / "repo", git)
    base = git(repo, "rev-parse", "HEAD")
    (repo / "src" / "pkg0" / "m0.py").write_text("changed on main\n")
    (repo / "added.txt").write_text("only on main\n")
    (repo / "src" / "pkg2" / "m2.py").unlink()
    age_tree(repo, 60)  # whole seconds from the first ages: git compares seconds only
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "later")
    cell = mount / "cells" / "older"
    report = await cow(repo, cell, base)
    assert report.checkout == "cow" and report.from_git == {"differs": 2}
    assert (cell / "src" / "pkg0" / "m0.py").read_text() == "VALUE = 0\n"
    assert (cell / "src" / "pkg2" / "m2.py").read_text() == "VALUE = 2\n"
    assert not (cell / "added.txt").exists()
    assert git(cell, "rev-parse", "HEAD") == base
    assert status(cell) == ""


async def test_racy_and_changed_files_are_taken_from_git(mount: Path, git: GitRunner) -> None:
    repo = make_repo(mount / "repo", git)
    future = time.time_ns() + 3600 * 1_000_000_000
    os.utime(repo / "src" / "pkg0" / "m0.py", ns=(future, future))
    git(repo, "update-index", "--refresh")  # the index vouches for an mtime not before it
    cell = mount / "cells" / "racy"
    sha = git(repo, "rev-parse", "HEAD")
    prepared = await prepare_cow(repo, sha, cell.parent, CloneSupport())
    assert prepared.reasons == {"racy": 1}
    # Changed after the plan, before the clone: found when the clones are checked.
    (repo / "src" / "pkg1" / "m1.py").write_text("VALUE = 9\n")
    report = await make_cow_worktree(repo, cell, "hive/racy", sha, prepared, new_branch=True)
    assert report.from_git == {"racy": 1, "changed": 1}
    assert (cell / "src" / "pkg1" / "m1.py").read_text() == "VALUE = 1\n"
    assert status(cell) == ""


async def test_edits_never_cross_between_cell_and_main(mount: Path, git: GitRunner) -> None:
    repo = make_repo(mount / "repo", git)
    cell = mount / "cells" / "apart"
    await cow(repo, cell)
    original = (repo / "big.bin").read_bytes()
    with (cell / "big.bin").open("r+b") as f:
        f.write(b"cell")
    with (repo / "src" / "pkg0" / "m0.py").open("a") as f:
        f.write("# main\n")
    assert (repo / "big.bin").read_bytes() == original
    assert (cell / "src" / "pkg0" / "m0.py").read_text() == "VALUE = 0\n"
    assert status(cell) == " M big.bin\n"
    assert status(repo) == " M src/pkg0/m0.py\n"


async def test_a_submodule_repository_falls_back_to_git(mount: Path, git: GitRunner) -> None:
    repo = make_repo(mount / "repo", git)
    head = git(repo, "rev-parse", "HEAD")
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{head},vendor/lib")
    git(repo, "commit", "-q", "-m", "submodule")
    with pytest.raises(CowUnavailable) as caught:
        await prepare_cow(repo, git(repo, "rev-parse", "HEAD"), mount / "cells", CloneSupport())
    assert caught.value.reason == "submodules"


@pytest.mark.parametrize(
    ("attributes", "config", "reason"),
    [
        ("*.psd filter=lfs diff=lfs merge=lfs -text\n", None, "filter=lfs"),
        ("* text=auto\n", None, "text=auto"),
        ("*.bin -text\n", ("core.sparseCheckout", "true"), "sparse checkout"),
        ("*.bin binary\n", ("core.autocrlf", "true"), "core.autocrlf"),
        ("*.bin binary\n", ("core.autocrlf", "input"), "core.autocrlf"),
    ],
)
async def test_unusual_repositories_fall_back_to_git(
    mount: Path, git: GitRunner, attributes: str, config: tuple[str, str] | None, reason: str
) -> None:
    repo = make_repo(mount / "repo", git)
    (repo / ".gitattributes").write_text(attributes)
    git(repo, "add", ".gitattributes")
    git(repo, "commit", "-q", "-m", "attributes")
    if config:
        git(repo, "config", *config)
    with pytest.raises(CowUnavailable) as caught:
        await prepare_cow(repo, git(repo, "rev-parse", "HEAD"), mount / "cells", CloneSupport())
    assert reason in caught.value.reason


@pytest.mark.parametrize("where", [".gitattributes", "src/pkg0/.gitattributes"])
async def test_converting_attributes_only_in_the_main_checkout_fall_back_to_git(
    mount: Path, git: GitRunner, where: str
) -> None:
    """An untracked attributes file shaped the main checkout's files (`eol=crlf` wrote
    them with CRLF, still stat-clean) where the cell's checkout writes LF."""
    repo = make_repo(mount / "repo", git)
    (repo / where).write_text("*.py text eol=crlf\n")
    with pytest.raises(CowUnavailable) as caught:
        await prepare_cow(repo, git(repo, "rev-parse", "HEAD"), mount / "cells", CloneSupport())
    assert "attributes that convert files on checkout" in caught.value.reason


async def test_tracked_files_get_the_mode_git_gives_not_the_main_checkouts(
    mount: Path, git: GitRunner
) -> None:
    repo = make_repo(mount / "repo", git)
    private, read_only = repo / "src" / "pkg0" / "m0.py", repo / "src" / "pkg1" / "m1.py"
    private.chmod(0o600)
    read_only.chmod(0o444)
    (repo / "bin" / "tool.sh").chmod(0o700)
    git(repo, "update-index", "--refresh")
    age_tree(repo, 60)  # the chmods moved ctimes; whole seconds in the past again
    git(repo, "update-index", "--really-refresh")
    cell = mount / "cells" / "modes"
    old_umask = os.umask(0o022)
    try:
        report = await cow(repo, cell)
    finally:
        os.umask(old_umask)
    assert report.checkout == "cow" and report.files_checked_out == 0
    assert stat.S_IMODE((cell / "src" / "pkg0" / "m0.py").stat().st_mode) == 0o644
    assert stat.S_IMODE((cell / "src" / "pkg1" / "m1.py").stat().st_mode) == 0o644
    assert stat.S_IMODE((cell / "bin" / "tool.sh").stat().st_mode) == 0o755
    assert status(cell) == "" and stat_dirty(cell) == ""


async def test_a_fifo_or_a_moved_parent_at_a_tracked_path_is_taken_from_git(
    mount: Path, git: GitRunner
) -> None:
    """Replaced after the index vouched for them: a FIFO (whose plain open would wait
    for a writer for ever) and a file where a symlink's directory was."""
    repo = make_repo(mount / "repo", git)
    (repo / "links").mkdir()
    git(repo, "mv", "link", "links/link")
    age_tree(repo, 60)
    git(repo, "commit", "-q", "-m", "link in a directory")
    git(repo, "update-index", "--really-refresh")
    fifo = repo / "src" / "pkg0" / "m0.py"
    fifo.unlink()
    os.mkfifo(fifo)
    (repo / "links" / "link").unlink()
    (repo / "links").rmdir()
    (repo / "links").write_text("a file where the directory was\n")
    cell = mount / "cells" / "replaced"
    report = await asyncio.wait_for(cow(repo, cell), timeout=60)
    assert report.checkout == "cow"
    assert report.from_git.get("changed") == 2
    assert (cell / "src" / "pkg0" / "m0.py").read_text() == "VALUE = 0\n"
    assert (cell / "links" / "link").readlink() == Path("src/pkg0/m0.py")
    assert status(cell) == ""


async def test_harmless_attributes_keep_the_cow_checkout(mount: Path, git: GitRunner) -> None:
    repo = make_repo(mount / "repo", git)
    (repo / ".gitattributes").write_text("# none\n*.bin -text -diff\n*.py diff=python\n")
    age_tree(repo, 60)
    git(repo, "add", ".gitattributes")
    git(repo, "commit", "-q", "-m", "attributes")
    report = await cow(repo, mount / "cells" / "attrs")
    assert report.checkout == "cow"


async def test_a_file_system_that_refuses_clones_is_remembered(
    tmp_path: Path, git: GitRunner
) -> None:
    if disk_clones(tmp_path):
        pytest.skip("this disk clones (btrfs/XFS): nothing to fall back from")
    repo = make_repo(tmp_path / "repo", git)
    support = CloneSupport()
    sha = git(repo, "rev-parse", "HEAD")
    with pytest.raises(CowUnavailable) as caught:
        await prepare_cow(repo, sha, tmp_path / "cells", support)
    assert caught.value.reason == REFUSED
    assert support.probes == 1
    with pytest.raises(CowUnavailable) as again:
        await prepare_cow(repo, sha, tmp_path / "cells", support)
    assert support.probes == 1, "the refusal was remembered, not asked again"
    assert again.value.reason == REFUSED and again.value.files is None, "known before any read"
    assert not list((tmp_path / "cells").iterdir()), "the probe left nothing behind"


async def test_a_cut_short_checkout_has_no_index_and_removes_like_any_other(
    mount: Path, git: GitRunner
) -> None:
    repo = make_repo(mount / "repo", git)
    cell = mount / "cells" / "short"
    git(repo, "worktree", "add", "-q", "--no-checkout", "-b", "hive/short", str(cell), "HEAD")
    assert not checkout_finished(cell)
    await remove_worktree(repo, cell)
    made = mount / "cells" / "made"
    await cow(repo, made)
    assert checkout_finished(made)
    await remove_worktree(repo, made)
    assert not made.exists()
    assert str(made) not in git(repo, "worktree", "list")
    assert (repo / "big.bin").stat().st_size == BIG, "the main checkout keeps its files"


async def test_a_cow_checkout_failing_half_way_is_undone(mount: Path, git: GitRunner) -> None:
    repo = make_repo(mount / "repo", git)
    # A file dirty in the main checkout whose HEAD blob is missing (a damaged object
    # store): the plan sends it to git, whose checkout fails after the clones.
    blob = git(repo, "rev-parse", "HEAD:src/pkg0/m0.py")
    (repo / "src" / "pkg0" / "m0.py").write_text("edited\n")
    git(repo, "add", "src/pkg0/m0.py")
    (repo / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    cell = mount / "cells" / "half"
    sha = git(repo, "rev-parse", "HEAD")
    prepared = await prepare_cow(repo, sha, cell.parent, CloneSupport())
    assert prepared.reasons == {"differs": 1}
    with pytest.raises(
        CowUnavailable, match=r"the copy-on-write checkout failed: .*checkout-index"
    ):
        await make_cow_worktree(repo, cell, "hive/half", sha, prepared, new_branch=True)
    assert prepared.worker.ended
    assert not cell.exists(), "the half-made worktree is removed"
    assert str(cell) not in git(repo, "worktree", "list")
    assert git(repo, "branch", "--list", "hive/half"), "the branch stays for git to check out"


async def test_a_damaged_main_index_is_refused_before_anything_is_made(
    mount: Path, git: GitRunner
) -> None:
    repo = make_repo(mount / "repo", git)
    index = repo / ".git" / "index"
    data = bytearray(index.read_bytes())
    data[-1] ^= 0xFF  # the checksum no longer matches
    index.write_bytes(bytes(data))
    with pytest.raises(UnreadableIndexError, match="cannot read the index"):
        await prepare_cow(repo, git(repo, "rev-parse", "HEAD"), mount / "cells", CloneSupport())
    assert not list((mount / "cells").iterdir())


def make_large_repo(root: Path, git: GitRunner, files: int) -> Path:
    """`files` small files in directories of 50, aged and committed (none racy)."""
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "hive@example.com")
    git(root, "config", "user.name", "Hive Tests")
    for index in range(files):
        path = root / f"d{index // 50}" / f"f{index}.txt"
        path.parent.mkdir(exist_ok=True)
        path.write_text(f"file {index}\n")
    age_tree(root)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "many")
    return root


needs_two_cpus = pytest.mark.skipif(
    (os.cpu_count() or 1) < 2, reason="the clone helper starts only where a second CPU is"
)


@needs_two_cpus
async def test_a_large_checkout_is_cloned_by_two_processes(mount: Path, git: GitRunner) -> None:
    repo = make_large_repo(mount / "repo", git, HELPER_FROM_FILES + 100)
    cell = mount / "cells" / "large"
    report = await cow(repo, cell)
    assert report.clone_processes == 2, "a helper cloned half of the files"
    assert report.files_cloned == HELPER_FROM_FILES + 100 and report.files_checked_out == 0
    assert git(cell, "ls-files", "-s") == git(repo, "ls-files", "-s")
    assert stat_dirty(cell) == "" and status(cell) == ""
    last = HELPER_FROM_FILES + 99
    assert (cell / f"d{last // 50}" / f"f{last}.txt").read_text() == f"file {last}\n"


@needs_two_cpus
async def test_a_cancelled_checkout_stops_its_worker_and_helper(
    mount: Path, git: GitRunner
) -> None:
    repo = make_large_repo(mount / "repo", git, 4 * HELPER_FROM_FILES)
    cell = mount / "cells" / "cancelled"
    sha = git(repo, "rev-parse", "HEAD")
    prepared = await prepare_cow(repo, sha, cell.parent, CloneSupport())
    worker = psutil.Process(prepared.worker.pid)
    making = asyncio.ensure_future(
        make_cow_worktree(repo, cell, "hive/cancelled", sha, prepared, new_branch=True)
    )
    helpers: list[psutil.Process] = []
    deadline = time.monotonic() + 60
    while not helpers or (not any((cell / "d0").glob("*")) and not making.done()):
        assert time.monotonic() < deadline, "no helper started, or nothing was cloned"
        helpers = worker.children()
        await asyncio.sleep(0.005)
    assert not making.done(), "cancelled while cloning"
    assert [os.getpgid(h.pid) for h in helpers] == [worker.pid], "in the worker's group"
    making.cancel()
    with pytest.raises(asyncio.CancelledError):
        await making
    assert prepared.worker.ended
    for helper in helpers:
        assert not helper.is_running() or helper.status() == psutil.STATUS_ZOMBIE
    assert not checkout_finished(cell), "no index: a retry makes the checkout again"
