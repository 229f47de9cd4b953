"""Is a port free on this machine, and who holds it? Blocking: call from a worker thread.

A port is free only if a server could bind it everywhere a Hive service might listen:
127.0.0.1, ::1 (when the machine has an IPv6 loopback) and 0.0.0.0. Probing binds and
never connects: a connect misses a listener on the other loopback family, and it talks
to whatever answers. SO_REUSEADDR is set as servers set it, so a port whose last
connection lingers in TIME_WAIT counts as free while any listener still counts as taken.
"""

from __future__ import annotations

import errno
import socket

import psutil

# Binding ::1 fails with these when the machine has no IPv6 loopback: nothing to check.
_NO_IPV6 = {errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT, errno.EPROTONOSUPPORT}
_MAX_COMMAND = 120


def _can_bind(family: socket.AddressFamily, host: str, port: int) -> bool:
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def _can_bind_ipv6_loopback(port: int) -> bool:
    try:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    except OSError:
        return True  # no IPv6 at all: nobody can hold the port there
    with sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        try:
            sock.bind(("::1", port))
        except OSError as error:
            return error.errno in _NO_IPV6
        return True


def port_is_free(port: int) -> bool:
    """True when `port` can be bound on 127.0.0.1, ::1 and 0.0.0.0 (blocking)."""
    return (
        _can_bind(socket.AF_INET, "127.0.0.1", port)
        and _can_bind(socket.AF_INET, "0.0.0.0", port)
        and _can_bind_ipv6_loopback(port)
    )


def _describe(pid: int) -> str:
    try:
        process = psutil.Process(pid)
        command = " ".join(process.cmdline()) or process.name()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return f"pid {pid}"
    if len(command) > _MAX_COMMAND:
        command = command[: _MAX_COMMAND - 1] + "…"
    return f"pid {pid} ({command})"


def port_holder(port: int) -> str | None:
    """Who listens on `port`, e.g. "pid 1234 (python3 -m http.server 7000)" (blocking).

    None when nobody visible does: the holder may belong to another user, whose sockets
    the operating system does not show us.
    """
    try:
        connections = psutil.net_connections(kind="inet")
    except (psutil.AccessDenied, PermissionError):
        return None
    bound = [c for c in connections if c.laddr and c.laddr.port == port and c.pid]
    # A listener is the holder; a bound socket that does not listen is the fallback.
    bound.sort(key=lambda c: c.status != psutil.CONN_LISTEN)
    return _describe(bound[0].pid) if bound else None
