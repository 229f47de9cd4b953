from __future__ import annotations

import os
import socket

import pytest

from hive.ports.probe import port_holder, port_is_free
from tests.ports.conftest import Listen, free_port, has_ipv6_loopback


def test_a_port_nobody_holds_is_free() -> None:
    assert port_is_free(free_port())


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_an_ipv4_listener_makes_the_port_taken(listen: Listen, host: str) -> None:
    port = listen(host)
    assert not port_is_free(port)


@pytest.mark.skipif(not has_ipv6_loopback(), reason="no IPv6 loopback on this machine")
def test_a_listener_on_ipv6_loopback_only_makes_the_port_taken(listen: Listen) -> None:
    port = listen("::1")
    assert not port_is_free(port)


@pytest.mark.skipif(not has_ipv6_loopback(), reason="no IPv6 on this machine")
def test_a_listener_on_the_ipv6_wildcard_makes_the_port_taken(listen: Listen) -> None:
    port = listen("::")
    assert not port_is_free(port)


def test_a_port_is_free_again_once_its_listener_closed_with_connections_in_time_wait() -> None:
    # Like real servers, this one sets SO_REUSEADDR: then its TIME_WAIT leftovers do not
    # keep the next server (or the probe) from binding. Without it the kernel refuses every
    # later bind until TIME_WAIT ends, and the probe rightly reports the port taken.
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)) as client:
            accepted, _ = server.accept()
            accepted.close()  # the server side closes first: its end goes to TIME_WAIT
            client.recv(1)
    assert port_is_free(port)


def test_holder_names_this_process(listen: Listen) -> None:
    port = listen("127.0.0.1")
    holder = port_holder(port)
    assert holder is not None
    assert holder.startswith(f"pid {os.getpid()} (")


def test_holder_of_a_free_port_is_none() -> None:
    assert port_holder(free_port()) is None
