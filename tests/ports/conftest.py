"""Real SQLite leases and real sockets for the port tests."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest

from hive.ports.probe import port_is_free
from hive.store.database import Database
from hive.store.leases import LeaseStore
from tests.store.conftest import db, db_path

__all__ = ["db", "db_path"]

Listen = Callable[..., int]

# Below Linux's ephemeral ports (32768+), so client connections rarely land here.
TEST_RANGE = (21000, 21999)


@pytest.fixture
def leases(db: Database) -> LeaseStore:
    return LeaseStore(db)


@pytest.fixture
def listen() -> Iterator[Listen]:
    """`listen(host, port=0)`: a real listening socket, closed after the test; its port."""
    opened: list[socket.socket] = []

    def open_listener(host: str = "127.0.0.1", port: int = 0) -> int:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        opened.append(sock)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((host, port))
        sock.listen()
        return int(sock.getsockname()[1])

    yield open_listener
    for sock in opened:
        sock.close()


def has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


def free_port(first: int = TEST_RANGE[0], last: int = TEST_RANGE[1]) -> int:
    """A port in the range that nothing on the machine holds right now."""
    for port in range(first, last + 1):
        if port_is_free(port):
            return port
    raise RuntimeError(f"no free port in {first}-{last}")
