"""Copy one file exactly, reflink first: a copy-on-write clone where the file system can.

`FICLONE` makes the new file share the source's extents (btrfs, XFS with reflink,
bcachefs…): no data is read or written. Where the destination refuses, the copy falls
back to `copy_file_range` (in-kernel) and the cloner remembers the refusal, so the rest
of the copy does not keep asking.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import threading

FICLONE = 0x40049409  # _IOW(0x94, 9, int), from linux/fs.h

#: Errors that mean "this file system (pair) cannot clone", not "this file is bad".
_NO_REFLINK = frozenset(
    {errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EINVAL, errno.ENOTTY, errno.ENOSYS}
)
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class Cloner:
    """Copies files and symlinks; thread-safe; counts reflinks and fallbacks."""

    def __init__(self, *, try_reflink: bool = True) -> None:
        self._lock = threading.Lock()
        self._umask = process_umask()
        self.reflink_refused = not try_reflink
        self.reflinked = 0
        self.fallback = 0

    def copy_file(self, source: str, target: str) -> int:
        """Copy a regular file with its mode and times; returns its size.

        Raises FileNotFoundError when the source vanished, IsADirectoryError/OSError
        when it is not a regular file any more (the caller decides).
        """
        src = os.open(source, _READ_FLAGS)
        try:
            st = os.fstat(src)
            if not stat.S_ISREG(st.st_mode):
                raise OSError(errno.EINVAL, "not a regular file any more", source)
            mode = stat.S_IMODE(st.st_mode)
            dst = _create(target, mode)
            try:
                if st.st_size:
                    self._copy_data(src, dst, st.st_size)
                if self._umask is None or (mode | stat.S_IWUSR) & ~self._umask != mode:
                    os.fchmod(dst, mode)  # open() could not give it exactly (umask, r/o…)
                os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))
            finally:
                os.close(dst)
        finally:
            os.close(src)
        return st.st_size

    def _copy_data(self, src: int, dst: int, size: int) -> None:
        if not self.reflink_refused:
            try:
                fcntl.ioctl(dst, FICLONE, src)
            except OSError as exc:
                if exc.errno not in _NO_REFLINK:
                    raise
                with self._lock:
                    self.reflink_refused = True
            else:
                with self._lock:
                    self.reflinked += 1
                return
        _copy_range(src, dst, size)
        with self._lock:
            self.fallback += 1


def process_umask() -> int | None:
    """The umask, read without changing it (os.umask would race with other threads)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return None


def _create(target: str, mode: int) -> int:
    # The file gets its final mode at creation: no fchmod when the umask lets it through.
    try:
        return os.open(target, _WRITE_FLAGS, mode | stat.S_IWUSR)
    except FileExistsError:
        # Left by an earlier attempt (a retry): replace it, never write through a link.
        if stat.S_ISDIR(os.lstat(target).st_mode):
            raise
        os.unlink(target)
        return os.open(target, _WRITE_FLAGS, mode | stat.S_IWUSR)


def _copy_range(src: int, dst: int, size: int) -> None:
    offset = 0
    try:
        while offset < size:
            sent = os.copy_file_range(src, dst, size - offset)
            if sent == 0:
                break  # the file shrank while we copied it
            offset += sent
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
            raise
        os.lseek(src, offset, os.SEEK_SET)
        os.lseek(dst, offset, os.SEEK_SET)
        while chunk := os.read(src, 1 << 20):
            os.write(dst, chunk)


def copy_symlink(source: str, target: str) -> None:
    """Recreate a symlink as a symlink (never followed), with its own times."""
    link = os.readlink(source)
    st = os.lstat(source)
    try:
        os.symlink(link, target)
    except FileExistsError:
        if stat.S_ISDIR(os.lstat(target).st_mode):
            raise
        os.unlink(target)
        os.symlink(link, target)
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)
