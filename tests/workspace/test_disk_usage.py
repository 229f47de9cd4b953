"""measure_tree over real files: apparent and allocated sizes, hard links once, the
worktree's `.git` left out, a budget that runs out; read_free_space of a real mount."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from hive.workspace.disk_usage import measure_tree, read_free_space

MB = 1 << 20


def test_a_sparse_file_is_big_in_size_and_small_on_disk(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    with (tree / "sparse.img").open("wb") as sparse:
        sparse.truncate(64 * MB)
    (tree / "dense.bin").write_bytes(os.urandom(MB))
    usage = measure_tree(tree, budget_s=10)
    assert usage.complete and usage.files == 2
    assert usage.apparent_bytes >= 65 * MB
    assert MB <= usage.allocated_bytes < 2 * MB, "the sparse file holds no blocks"


def test_nested_directories_hard_links_once_and_the_top_git_file_skipped(
    tmp_path: Path,
) -> None:
    tree = tmp_path / "tree"
    (tree / "a" / "b").mkdir(parents=True)
    (tree / "a" / "b" / "deep.txt").write_bytes(b"x" * 1000)
    os.link(tree / "a" / "b" / "deep.txt", tree / "a" / "linked.txt")
    (tree / ".git").write_text("gitdir: /somewhere/else\n" + "#" * 50_000)
    (tree / "a" / ".git").write_bytes(b"y" * 3000)  # not the worktree's own: counted
    (tree / "link").symlink_to("a/b/deep.txt")
    usage = measure_tree(tree, budget_s=10, skip_top={".git"})
    assert usage.complete
    assert usage.files == 2, "deep.txt (once, with its hard link) and a/.git"
    directories = sum(os.lstat(p).st_size for p in (tree, tree / "a", tree / "a" / "b"))
    link = os.lstat(tree / "link").st_size
    assert usage.apparent_bytes == 1000 + 3000 + link + directories


def test_a_spent_budget_stops_the_walk_and_says_so(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    for index in range(600):
        (tree / f"f{index}").write_bytes(b"z")
    whole = measure_tree(tree, budget_s=10)
    assert whole.complete and whole.files == 600
    cut = measure_tree(tree, budget_s=0)
    assert not cut.complete
    assert 0 < cut.files < 600


def test_a_missing_tree_takes_nothing(tmp_path: Path) -> None:
    usage = measure_tree(tmp_path / "gone", budget_s=1)
    assert (usage.apparent_bytes, usage.allocated_bytes, usage.files) == (0, 0, 0)
    assert usage.complete


def test_free_space_is_read_where_the_cells_root_will_be(tmp_path: Path) -> None:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        (mount / "filler").write_bytes(b"f" * 10 * MB)
        space = read_free_space(mount / "cells" / "not-made-yet")
        assert space.total_bytes == 40 * MB
        assert space.free_bytes == 30 * MB
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
