"""Give each service of a cell a port: leased in the database, free on the machine.

The lease (a row keyed by port) is what makes a port ours; the bind probe only keeps
Hive from leasing a port another program already holds. Allocation order for a range:
the lease the service already has, then the port it had before (stable across restarts
and restore), then a scan of the range starting at a place derived from the cell and
service, so cells provisioning at once do not all contend for the first port.
"""

from __future__ import annotations

import asyncio
import re
import zlib
from collections.abc import Collection

from hive.core.errors import ConfigError, StepError
from hive.ports.probe import port_holder, port_is_free
from hive.store.leases import LeaseRecord, LeaseStore

_RANGE = re.compile(r"^\s*(\d{1,5})\s*-\s*(\d{1,5})\s*$")
# Ports probed per hop to a worker thread while scanning a range.
_PROBE_BATCH = 16


def parse_port_spec(spec: int | str) -> int | tuple[int, int]:
    """A fixed port, or an inclusive (first, last) range from "7000-7099"."""
    if isinstance(spec, int):
        if not 1 <= spec <= 65535:
            raise ConfigError(
                f"port {spec} is not between 1 and 65535",
                hint="fix the service's `port` in hive.config.json",
            )
        return spec
    match = _RANGE.match(spec)
    if match is None and spec.strip().isdigit():
        return parse_port_spec(int(spec))
    if match is None:
        raise ConfigError(
            f"port {spec!r} is neither a number nor a range like '7000-7099'",
            hint="fix the service's `port` in hive.config.json",
        )
    first, last = int(match[1]), int(match[2])
    if not 1 <= first <= last <= 65535:
        raise ConfigError(
            f"port range {spec!r} must go up, within 1-65535",
            hint="fix the service's `port` in hive.config.json",
        )
    return first, last


def _start_offset(cell_id: str, service: str, size: int) -> int:
    """Where a scan starts: stable for a cell/service, spread across cells."""
    return zlib.crc32(f"{cell_id}\0{service}".encode()) % size


def _first_free(candidates: list[int]) -> tuple[int | None, int]:
    """The first port free on the machine, and how many before it were taken (blocking)."""
    for taken, port in enumerate(candidates):
        if port_is_free(port):
            return port, taken
    return None, len(candidates)


def _lease_owner(lease: LeaseRecord) -> str:
    return f"service '{lease.service}' of cell '{lease.cell_id}'"


class PortAllocator:
    def __init__(self, leases: LeaseStore, default_range: tuple[int, int]) -> None:
        first, last = default_range
        if not 1 <= first <= last <= 65535:
            raise ValueError(f"default port range {first}-{last} must go up, within 1-65535")
        self._leases = leases
        self._default_range = default_range

    async def allocate(
        self,
        cell_id: str,
        service: str,
        spec: int | str | None,
        preferred: int | None = None,
    ) -> int:
        """Lease a port for the cell's service and return it; StepError when none can be,
        ConfigError for a `spec` that is no port.

        `spec` is the service's `port` field: a fixed port, a range "7000-7099", or None
        for the default range. `preferred` is the port the service had before.
        """
        target = self._default_range if spec is None else parse_port_spec(spec)
        existing = await self._leases.find(cell_id, service)
        if existing is not None:
            if _accepts(target, existing.port):
                return existing.port
            # The config changed since the lease was taken: let the old port go.
            await self._leases.release(cell_id, service)
        if isinstance(target, int):
            return await self._allocate_fixed(cell_id, service, target)
        return await self._allocate_range(cell_id, service, target, preferred)

    async def keep(self, cell_id: str, service: str, port: int) -> bool:
        """Lease `port`, which a running process of the owner already listens on (one
        adopted after a restart), without the bind probe; False when another holds it."""
        return await self._leases.acquire(port, cell_id, service)

    async def release(self, cell_id: str, service: str) -> None:
        """Drop one service's lease (call only once its process is gone)."""
        await self._leases.release(cell_id, service)

    async def release_cell(self, cell_id: str) -> int:
        """Drop the cell's leases (call only once its processes are gone); how many."""
        return await self._leases.release_cell(cell_id)

    async def _allocate_fixed(self, cell_id: str, service: str, port: int) -> int:
        holder = await self._leases.holder(port)
        if holder is not None:
            raise _leased_elsewhere(port, holder)
        if not await asyncio.to_thread(port_is_free, port):
            process = await asyncio.to_thread(port_holder, port)
            by = f" by {process}" if process else " by another program"
            raise StepError(
                f"port {port} is already in use{by}",
                hint=f"stop whatever listens on port {port}, or give the service a port range "
                "such as '7000-7099' instead of a fixed port",
            )
        if await self._leases.acquire(port, cell_id, service):
            return port
        # Another cell leased it between our check and our insert.
        raced = await self._leases.holder(port)
        if raced is None:  # released again at once: try once more from the top
            return await self._allocate_fixed(cell_id, service, port)
        raise _leased_elsewhere(port, raced)

    async def _allocate_range(
        self, cell_id: str, service: str, span: tuple[int, int], preferred: int | None
    ) -> int:
        first, last = span
        leased = await self._leases.leased_ports()
        if (
            preferred is not None
            and first <= preferred <= last
            and preferred not in leased
            and await asyncio.to_thread(port_is_free, preferred)
            and await self._leases.acquire(preferred, cell_id, service)
        ):
            return preferred

        size = last - first + 1
        start = _start_offset(cell_id, service, size)
        order = [first + (start + i) % size for i in range(size)]
        held_by_others = 0
        position = 0
        while position < len(order):
            batch: list[int] = []
            while position < len(order) and len(batch) < _PROBE_BATCH:
                port = order[position]
                position += 1
                if port not in leased:
                    batch.append(port)
            while batch:
                port_or_none, taken = await asyncio.to_thread(_first_free, batch)
                held_by_others += taken
                if port_or_none is None:
                    break
                if await self._leases.acquire(port_or_none, cell_id, service):
                    return port_or_none
                leased.add(port_or_none)  # lost a race to another allocation
                batch = batch[taken + 1 :]
        raise _exhausted(first, last, _count_within(leased, first, last), held_by_others)


def _accepts(target: int | tuple[int, int], port: int) -> bool:
    if isinstance(target, int):
        return port == target
    return target[0] <= port <= target[1]


def _count_within(ports: Collection[int], first: int, last: int) -> int:
    return sum(1 for port in ports if first <= port <= last)


def _leased_elsewhere(port: int, holder: LeaseRecord) -> StepError:
    return StepError(
        f"port {port} is already leased to {_lease_owner(holder)}",
        hint=f"delete or archive cell '{holder.cell_id}' to free port {port}, or give this "
        "service a port range such as '7000-7099' instead of a fixed port",
    )


def _exhausted(first: int, last: int, leased: int, held: int) -> StepError:
    return StepError(
        f"port range {first}-{last} is exhausted "
        f"({leased} ports leased by Hive, {held} held by other programs)",
        hint="widen the range (the service's `port`, or Hive's default port range), "
        "or delete or archive cells you no longer need",
    )
