from __future__ import annotations

import asyncio
import os

import pytest

from hive.core.errors import ConfigError, StepError
from hive.ports.allocator import PortAllocator, parse_port_spec
from hive.ports.probe import port_is_free
from hive.store.leases import LeaseStore
from tests.ports.conftest import TEST_RANGE, Listen, free_port


@pytest.fixture
def allocator(leases: LeaseStore) -> PortAllocator:
    return PortAllocator(leases, TEST_RANGE)


def in_range(port: int) -> bool:
    return TEST_RANGE[0] <= port <= TEST_RANGE[1]


async def test_allocation_leases_a_free_port_in_the_default_range(
    allocator: PortAllocator, leases: LeaseStore
) -> None:
    port = await allocator.allocate("a", "web", None)
    assert in_range(port)
    holder = await leases.holder(port)
    assert holder is not None and (holder.cell_id, holder.service) == ("a", "web")


async def test_allocation_is_idempotent(allocator: PortAllocator, leases: LeaseStore) -> None:
    port = await allocator.allocate("a", "web", None)
    assert await allocator.allocate("a", "web", None) == port
    assert await allocator.allocate("a", "web", None, preferred=port + 1) == port
    assert [lease.port for lease in await leases.for_cell("a")] == [port]


async def test_concurrent_allocations_get_distinct_ports(
    allocator: PortAllocator, leases: LeaseStore
) -> None:
    ports = await asyncio.gather(
        *(allocator.allocate(f"cell{i % 10}", f"svc{i}", None) for i in range(100))
    )
    assert len(set(ports)) == 100
    assert all(in_range(port) for port in ports)
    assert await leases.leased_ports() == set(ports)


async def test_concurrent_allocations_in_a_narrow_range_get_distinct_ports(
    allocator: PortAllocator,
) -> None:
    first = free_port()
    # Everyone starts wherever their hash says; in 60 ports, 50 allocations must collide.
    span = f"{first}-{first + 59}"
    results = await asyncio.gather(
        *(allocator.allocate("a", f"svc{i}", span) for i in range(50)), return_exceptions=True
    )
    ports = [result for result in results if isinstance(result, int)]
    assert len(set(ports)) == len(ports)
    # Only ports another program holds may make some allocations fail.
    assert len(ports) >= 50 - sum(1 for p in range(first, first + 60) if not port_is_free(p))


async def test_preferred_port_is_honoured_when_free(allocator: PortAllocator) -> None:
    preferred = free_port(TEST_RANGE[0] + 500)
    assert await allocator.allocate("a", "web", None, preferred=preferred) == preferred


async def test_preferred_port_is_skipped_when_leased_by_another_cell(
    allocator: PortAllocator, leases: LeaseStore
) -> None:
    preferred = free_port(TEST_RANGE[0] + 500)
    assert await leases.acquire(preferred, "other", "web")
    port = await allocator.allocate("a", "web", None, preferred=preferred)
    assert port != preferred and in_range(port)


async def test_preferred_port_is_skipped_when_another_program_holds_it(
    allocator: PortAllocator, listen: Listen
) -> None:
    preferred = listen("127.0.0.1", free_port(TEST_RANGE[0] + 500))
    port = await allocator.allocate("a", "web", None, preferred=preferred)
    assert port != preferred and in_range(port)


async def test_preferred_port_outside_the_range_is_ignored(allocator: PortAllocator) -> None:
    port = await allocator.allocate("a", "web", None, preferred=TEST_RANGE[1] + 1)
    assert in_range(port)


async def test_a_fixed_port_is_leased(allocator: PortAllocator, leases: LeaseStore) -> None:
    port = free_port()
    assert await allocator.allocate("a", "web", port) == port
    assert await allocator.allocate("a", "web", port) == port
    assert await leases.leased_ports() == {port}


async def test_a_fixed_port_held_by_a_process_names_port_and_process(
    allocator: PortAllocator, listen: Listen, leases: LeaseStore
) -> None:
    port = listen("127.0.0.1")
    with pytest.raises(StepError) as caught:
        await allocator.allocate("a", "web", port)
    assert f"port {port}" in caught.value.message
    assert f"pid {os.getpid()}" in caught.value.message
    assert caught.value.hint
    assert await leases.leased_ports() == set()


async def test_a_fixed_port_leased_by_another_cell_names_that_cell(
    allocator: PortAllocator, leases: LeaseStore
) -> None:
    port = free_port()
    await allocator.allocate("other", "db", port)
    with pytest.raises(StepError) as caught:
        await allocator.allocate("a", "web", port)
    assert f"port {port}" in caught.value.message
    assert "cell 'other'" in caught.value.message
    assert "service 'db'" in caught.value.message
    assert caught.value.hint and "other" in caught.value.hint


async def test_an_exhausted_range_names_the_range_and_counts(
    allocator: PortAllocator, leases: LeaseStore, listen: Listen
) -> None:
    held = listen("127.0.0.1")
    await leases.acquire(held + 1, "b", "web")
    await leases.acquire(held + 2, "c", "web")
    span = f"{held}-{held + 2}"
    with pytest.raises(StepError) as caught:
        await allocator.allocate("a", "web", span)
    assert caught.value.message == (
        f"port range {span} is exhausted (2 ports leased by Hive, 1 held by other programs)"
    )
    assert caught.value.hint and "widen" in caught.value.hint


async def test_released_ports_are_leased_again(
    allocator: PortAllocator, leases: LeaseStore
) -> None:
    first = free_port()
    span = f"{first}-{first}"
    assert await allocator.allocate("a", "web", span) == first
    with pytest.raises(StepError):
        await allocator.allocate("b", "web", span)
    assert await allocator.release_cell("a") == 1
    assert await allocator.allocate("b", "web", span) == first


async def test_a_lease_outside_a_changed_spec_is_replaced(
    allocator: PortAllocator, leases: LeaseStore
) -> None:
    old = await allocator.allocate("a", "web", None)
    fixed = free_port(TEST_RANGE[0] + 500)
    new = await allocator.allocate("a", "web", fixed)
    assert new == fixed != old
    assert [lease.port for lease in await leases.for_cell("a")] == [fixed]


async def test_keep_leases_a_port_its_own_process_listens_on(
    allocator: PortAllocator, leases: LeaseStore, listen: Listen
) -> None:
    port = listen()
    assert await allocator.keep("a", "web", port)
    assert await allocator.keep("a", "web", port), "its own lease: kept again"
    assert not await allocator.keep("b", "web", port)
    holder = await leases.holder(port)
    assert holder is not None and (holder.cell_id, holder.service) == ("a", "web")
    await allocator.release("a", "web")
    assert await leases.holder(port) is None


def test_port_specs_parse() -> None:
    assert parse_port_spec(7000) == 7000
    assert parse_port_spec("7000-7099") == (7000, 7099)
    assert parse_port_spec("7000") == 7000
    for bad in (0, 70000, "7099-7000", "web"):
        with pytest.raises(ConfigError):
            parse_port_spec(bad)
