"""Which cell each live process belongs to, from the records and the process tags.

Three ways in, most specific first:
1. its `HIVE_PROCESS_TAG` (kept by whatever left its group: `setsid`, a daemon);
2. its process group, when the records name the group's leader: a service (pid and
   start time in `cell_services`) or a setup command (`cell_processes`). Linux hands out
   no pid still used as a group id, so a group's members stay the cell's even after
   the leader exited; a live leader with another start time is a stranger that got the
   pid, and its group is left alone;
3. the group of a process tagged as a cell's agent: the tmux pane's runner leads it
   and carries no tag (it starts from the tmux server's environment).
Pure: the caller reads the process table.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass

from hive.resources.scopes import AGENT, SETUP, Owner, owner_of_tag, service_scope
from hive.store.resources import Targets

#: Two start times closer than this are the same process (psutil rounds them).
SAME_START_S = 0.01


@dataclass(frozen=True)
class GroupClaim:
    """A process group the records give a cell, led by `pid` started at `started`."""

    owner: Owner
    pid: int
    started: float | None


@dataclass(frozen=True)
class Seen:
    """What the process table knows of one live process."""

    pid: int
    pgid: int
    create_time: float
    tag: str | None


def claims_of(targets: Targets) -> list[GroupClaim]:
    claims = [
        GroupClaim(Owner(row.cell_id, service_scope(row.name)), row.pid, row.process_started)
        for row in targets.services
        if row.pid is not None
    ]
    claims += [
        GroupClaim(Owner(row.cell_id, SETUP), row.pid, row.process_started)
        for row in targets.setups
    ]
    return claims


def _valid_groups(claims: Iterable[GroupClaim], by_pid: Mapping[int, Seen]) -> dict[int, Owner]:
    groups: dict[int, Owner] = {}
    for claim in claims:
        leader = by_pid.get(claim.pid)
        if (
            leader is not None
            and claim.started is not None
            and abs(leader.create_time - claim.started) >= SAME_START_S
        ):
            continue  # the pid now names a stranger
        groups[claim.pid] = claim.owner
    return groups


def assign(
    seen: Iterable[Seen], claims: Iterable[GroupClaim], cells: Container[str]
) -> dict[int, Owner]:
    """The owner of every process of `seen` that belongs to one of `cells`, by pid."""
    processes = list(seen)
    by_pid = {process.pid: process for process in processes}
    groups = _valid_groups(claims, by_pid)
    owners: dict[int, Owner] = {}
    agent_groups: dict[int, Owner] = {}
    for process in processes:
        owner = owner_of_tag(process.tag, cells)
        if owner is not None:
            owners[process.pid] = owner
            if owner.scope == AGENT:
                agent_groups.setdefault(process.pgid, owner)
    for process in processes:
        if process.pid in owners:
            continue
        owner = groups.get(process.pgid) or agent_groups.get(process.pgid)
        if owner is not None:
            owners[process.pid] = owner
    return owners
