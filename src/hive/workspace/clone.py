"""Copy one file exactly, reflink first: a copy-on-write clone where the file system can.

`FICLONE` makes the new file share the source's extents (btrfs, XFS with reflink,
bcachefs…): no data is read or written. Where the destination refuses, the copy falls
back to `copy_file_range` (in-kernel) and the cloner remembers the refusal, so the rest
of the copy does not keep asking.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import stat
import threading
from collections.abc import Callable
from typing import cast

FICLONE = 0x40049409  # _IOW(0x94, 9, int), from linux/fs.h

#: Errors that mean "this file system (pair) cannot clone", not "this file is bad".
_NO_REFLINK = frozenset(
    {errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EINVAL, errno.ENOTTY, errno.ENOSYS}
)
READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_TYPE = 0o170000

# Hot-path aliases: one global lookup per call instead of a global and an attribute.
_open, _fstat, _fchmod, _utime, _close = os.open, os.fstat, os.fchmod, os.utime, os.close


def _load_ioctl() -> Callable[[int, int, int], int]:
    """C `ioctl(fd, request, arg)` for an int arg: 0 or -1 (errno in ctypes.get_errno()).

    Through ctypes rather than fcntl.ioctl, which tries two buffer signatures and
    formats an error message for each before it accepts an int: twice the cost.
    """
    try:
        ioctl = ctypes.CDLL(None, use_errno=True).ioctl
    except (OSError, AttributeError):  # no C library to load: the slower stdlib way
        return _stdlib_ioctl
    ioctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_int)
    ioctl.restype = ctypes.c_int
    return cast("Callable[[int, int, int], int]", ioctl)


def _stdlib_ioctl(fd: int, request: int, arg: int) -> int:
    try:
        fcntl.ioctl(fd, request, arg)
    except OSError as exc:
        ctypes.set_errno(exc.errno or 0)
        return -1
    return 0


_ioctl = _load_ioctl()


class Cloner:
    """Copies files and symlinks; thread-safe; counts reflinks (and the bytes they
    share, which cost no space until changed) and fallbacks.

    `copy_file` runs once per file of a copy of tens of thousands: it is written for
    speed (measured on btrfs: half the interpreter time of a plainer version).
    """

    def __init__(self, *, try_reflink: bool = True) -> None:
        self._lock = threading.Lock()
        self._stripped = unsure_mode_bits()  # a file's mode with none: no fchmod
        self.reflink_refused = not try_reflink
        self.reflinked = 0
        self.reflinked_bytes = 0
        self.fallback = 0

    def copy_file(self, source: str, target: str) -> int:
        """Copy a regular file with its mode and times; returns its size.

        Raises FileNotFoundError when the source vanished, IsADirectoryError/OSError
        when it is not a regular file any more (the caller decides).
        """
        src = _open(source, READ_FLAGS)
        try:
            st = _fstat(src)
            if st.st_mode & _FILE_TYPE != stat.S_IFREG:
                raise OSError(errno.EINVAL, "not a regular file any more", source)
            self.copy_open(src, st, target)
        finally:
            _close(src)
        return st.st_size

    def copy_open(
        self, src: int, st: os.stat_result, target: str, *, checkout_mode: int | None = None
    ) -> os.stat_result:
        """Copy the regular file open as `src` (`st` is its fstat) to `target`, with its
        mode and times; returns the copy's own stat, taken before it is closed.

        `checkout_mode` (0o666 or 0o777): made with that mode less the umask, as git's
        checkout makes a file, instead of the source's own mode.
        """
        if checkout_mode is None:  # exactly the source's mode, owner-writable while made
            mode = st.st_mode & 0o7777
            chmod = bool(mode & self._stripped or not mode & stat.S_IWUSR)
            dst = _create(target, mode | stat.S_IWUSR)
        else:  # the umask applies, as to git's own files
            mode, chmod = checkout_mode, False
            dst = _create(target, mode)
        try:
            size = st.st_size
            if size and (self.reflink_refused or _ioctl(dst, FICLONE, src) != 0):
                self._fall_back(src, dst, size)
            elif size:
                with self._lock:
                    self.reflinked += 1
                    self.reflinked_bytes += size
            if chmod:
                _fchmod(dst, mode)  # open() could not give it exactly (umask, r/o…)
            _utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))
            return _fstat(dst)
        finally:
            _close(dst)

    def _fall_back(self, src: int, dst: int, size: int) -> None:
        if not self.reflink_refused:  # the clone was just tried and failed: why?
            error = ctypes.get_errno()
            if error not in _NO_REFLINK:
                raise OSError(error, os.strerror(error))
            with self._lock:
                self.reflink_refused = True
        _copy_range(src, dst, size)
        with self._lock:
            self.fallback += 1


def unsure_mode_bits() -> int:
    """Mode bits that open() and mkdir() may not give a new file as asked.

    The umask's (all bits when it cannot be read) and the special ones: the kernel may
    drop setuid/setgid, and a directory inherits setgid from its parent. A mode with
    none of them needs no chmod after creation.
    """
    umask = process_umask()
    return (0o7777 if umask is None else umask) | 0o7000


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
        return _open(target, _WRITE_FLAGS, mode)
    except FileExistsError:
        # Left by an earlier attempt (a retry): replace it, never write through a link.
        if stat.S_ISDIR(os.lstat(target).st_mode):
            raise
        os.unlink(target)
        return _open(target, _WRITE_FLAGS, mode)


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
