"""Cloning tracked files against what the main index vouched for (any file system:
where clones are refused the copy falls back to bytes, which checks the same)."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from hive.workspace.tracked_clone import (
    ClonedFiles,
    Vouched,
    clone_tracked,
    split_by_directory,
    stat_matches,
)
from hive.workspace.tree_copy import CopyStoppedError

_U32 = 0xFFFFFFFF


def vouch(root: Path, rel: str) -> Vouched:
    """What an index written right now would vouch for (git's mode for the file)."""
    st = os.lstat(root / rel)
    executable = 0o100755 if st.st_mode & 0o100 else 0o100644
    mode = stat.S_IFLNK if stat.S_ISLNK(st.st_mode) else executable
    return Vouched(
        rel, mode, st.st_mtime_ns, st.st_ctime_ns, st.st_size & _U32, st.st_ino & _U32,
        st.st_uid, st.st_gid,
    )  # fmt: skip


@pytest.fixture
def source(tmp_path: Path) -> Path:
    root = tmp_path / "main"
    (root / "a").mkdir(parents=True)
    (root / "a" / "one.txt").write_text("one\n")
    (root / "a" / "two.txt").write_text("two\n")
    (root / "run.sh").write_text("#!/bin/sh\n")
    (root / "run.sh").chmod(0o755)
    (root / "link").symlink_to("a/one.txt")
    return root


def test_files_the_index_vouches_for_are_cloned_with_their_own_stat(
    source: Path, tmp_path: Path
) -> None:
    files = [vouch(source, rel) for rel in ("a/one.txt", "a/two.txt", "run.sh", "link")]
    dest = tmp_path / "cell"
    done = clone_tracked(str(source), str(dest), files, threading.Event())
    assert done.changed == []
    assert [c.path for c in done.cloned] == ["a/one.txt", "a/two.txt", "run.sh", "link"]
    assert (dest / "a" / "two.txt").read_text() == "two\n"
    assert os.access(dest / "run.sh", os.X_OK)
    assert (dest / "link").readlink() == Path("a/one.txt")
    for copied in done.cloned:
        st = os.lstat(dest / copied.path)
        assert (copied.ino, copied.mtime_ns, copied.ctime_ns) == (
            st.st_ino,
            st.st_mtime_ns,
            st.st_ctime_ns,
        ), "the clone's own stat data, for the cell's index"
        assert st.st_mtime_ns == os.lstat(source / copied.path).st_mtime_ns


def test_a_file_changed_since_the_index_vouched_for_it_is_left_to_git(
    source: Path, tmp_path: Path
) -> None:
    files = [vouch(source, rel) for rel in ("a/one.txt", "a/two.txt", "run.sh", "link")]
    (source / "a" / "one.txt").write_text("ONE\n")  # same size, another ctime
    (source / "run.sh").chmod(0o644)  # the exec bit is part of git's check
    (source / "link").unlink()
    (source / "link").write_text("a file now\n")
    done = clone_tracked(str(source), str(tmp_path / "cell"), files, threading.Event())
    assert done.changed == ["a/one.txt", "run.sh", "link"]
    assert [c.path for c in done.cloned] == ["a/two.txt"]


def test_a_replaced_file_fails_the_check(source: Path) -> None:
    known = vouch(source, "a/one.txt")
    replacement = source / "a" / "new.txt"
    replacement.write_text("one\n")
    os.utime(replacement, ns=(known.mtime_ns, known.mtime_ns))
    replacement.replace(source / "a" / "one.txt")  # same size and mtime, another inode
    assert not stat_matches(os.lstat(source / "a" / "one.txt"), known)


def test_a_stop_ends_the_clone(source: Path, tmp_path: Path) -> None:
    stop = threading.Event()
    stop.set()
    with pytest.raises(CopyStoppedError):
        clone_tracked(str(source), str(tmp_path / "cell"), [vouch(source, "run.sh")], stop)
    assert not (tmp_path / "cell" / "run.sh").exists()


def test_shares_keep_directories_whole_and_about_even() -> None:
    def file(rel: str) -> Vouched:
        return Vouched(rel, 0o100644, 0, 0, 0, 0, 0, 0)

    files = [file(f"d{d}/f{i}") for d in range(5) for i in range(10 + d)] + [file("top")]
    shares = split_by_directory(files, 2)
    assert sorted(f.path for share in shares for f in share) == sorted(f.path for f in files)
    directories = [{f.path.rpartition("/")[0] for f in share} for share in shares]
    assert not directories[0] & directories[1], "no directory split between two"
    assert abs(len(shares[0]) - len(shares[1])) <= 14


def test_results_travel_as_json() -> None:
    done = ClonedFiles(changed=["x"], reflinked_bytes=3, byte_copies=1)
    known = Vouched("a b/ü", 0o100755, 1, 2, 3, 4, 5, 6)
    assert Vouched.from_json(known.to_json()) == known
    assert ClonedFiles.from_json(done.to_json()) == done
