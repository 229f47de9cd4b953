"""Reflink-first copies: proven on a real btrfs loop mount, fallback on the ordinary disk."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from hive.workspace.clone import Cloner, copy_symlink
from hive.workspace.include_copy import copy_included
from tests.support.btrfs import btrfs_mount, shares_extents
from tests.support.repos import git


def _same(a: Path, b: Path) -> bool:
    sa, sb = a.stat(), b.stat()
    return (
        a.read_bytes() == b.read_bytes()
        and stat.S_IMODE(sa.st_mode) == stat.S_IMODE(sb.st_mode)
        and sa.st_mtime_ns == sb.st_mtime_ns
    )


def test_falls_back_once_and_remembers_on_a_disk_without_reflink(tmp_path: Path) -> None:
    sources = []
    for index in range(5):
        path = tmp_path / f"src{index}.bin"
        path.write_bytes(os.urandom(10_000 + index))
        path.chmod(0o751)
        sources.append(path)
    cloner = Cloner()
    for source in sources:
        cloner.copy_file(str(source), str(tmp_path / f"copy-{source.name}"))
    if cloner.reflinked:  # the test disk itself can clone (btrfs/XFS home): nothing to prove
        assert cloner.fallback == 0
        return
    assert cloner.reflink_refused
    assert cloner.fallback == 5
    assert cloner.reflinked_bytes == 0, "copied bytes take space of their own"
    for source in sources:
        assert _same(source, tmp_path / f"copy-{source.name}")


def test_empty_file_and_existing_target_are_handled(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.touch()
    target = tmp_path / "target"
    target.write_text("old content that must go")
    Cloner().copy_file(str(empty), str(target))
    assert target.read_bytes() == b""


def test_symlink_is_recreated_not_followed(tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to("/etc/hostname")
    copy_symlink(str(link), str(tmp_path / "copy"))
    assert (tmp_path / "copy").is_symlink()
    assert (tmp_path / "copy").readlink() == Path("/etc/hostname")


def test_reflinks_for_real_on_btrfs(tmp_path: Path) -> None:
    with btrfs_mount(tmp_path) as mount:
        big = mount / "big.bin"
        big.write_bytes(os.urandom(4 << 20))
        os.sync()
        cloner = Cloner()
        size = cloner.copy_file(str(big), str(mount / "clone.bin"))
        assert size == 4 << 20
        assert cloner.reflinked == 1 and cloner.fallback == 0
        assert cloner.reflinked_bytes == 4 << 20
        os.sync()
        assert shares_extents(mount / "clone.bin"), "the clone shares the source's extents"
        assert _same(big, mount / "clone.bin")


async def test_include_copy_reports_reflinks_on_btrfs(tmp_path: Path) -> None:
    with btrfs_mount(tmp_path) as mount:
        repo = mount / "repo"
        repo.mkdir()
        git(repo, "init", "-q", "-b", "main")
        (repo / ".gitignore").write_text("node_modules/\n")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "init")
        for index in range(50):
            package = repo / "node_modules" / f"p{index % 5}"
            package.mkdir(parents=True, exist_ok=True)
            (package / f"f{index}.js").write_bytes(os.urandom(5000))
        dest = mount / "cell"
        dest.mkdir()
        report = await copy_included(repo, dest, ["node_modules/**"], [])
        assert report.files == 50
        assert report.reflinked == 50 and report.fallback == 0
        assert report.reflinked_bytes == 50 * 5000
        assert report.metadata()["reflinkedBytes"] == 50 * 5000
        assert report.threads == 1, "clones queue on btrfs locks: one thread is fastest"
        assert report.metadata()["threads"] == 1


def test_modes_are_exact_whatever_the_umask_lets_through(tmp_path: Path) -> None:
    cloner = Cloner()
    for mode in (0o644, 0o755, 0o444, 0o600, 0o777, 0o700, 0o4755, 0o2755):
        source = tmp_path / f"m{mode:o}"
        source.write_text("x")
        source.chmod(mode)
        target = tmp_path / f"copy-{mode:o}"
        cloner.copy_file(str(source), str(target))
        assert stat.S_IMODE(target.stat().st_mode) == mode
