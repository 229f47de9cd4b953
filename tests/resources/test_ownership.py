"""Which cell a process belongs to: by its tag, its recorded group, its agent's group."""

from __future__ import annotations

from hive.resources.ownership import GroupClaim, Seen, assign, claims_of
from hive.resources.scopes import (
    AGENT,
    SETUP,
    Owner,
    owner_of_tag,
    service_of,
    service_scope,
)
from hive.services.process_tag import agent_tag, cell_tag, service_tag, setup_tag
from hive.store.resources import SampledCell, ServiceRow, SetupRow, Targets

CELLS = {"c1", "c2"}


def test_tags_name_their_cell_and_scope() -> None:
    assert owner_of_tag(service_tag("c1", "web"), CELLS) == Owner("c1", "service:web")
    assert owner_of_tag(setup_tag("c1"), CELLS) == Owner("c1", SETUP)
    assert owner_of_tag(setup_tag("c2", "db"), CELLS) == Owner("c2", SETUP)
    assert owner_of_tag(agent_tag("c2"), CELLS) == Owner("c2", AGENT)
    # Another server's cell, no tag, a kind of tag this server does not make.
    assert owner_of_tag(service_tag("c9", "web"), CELLS) is None
    assert owner_of_tag(None, CELLS) is None
    assert owner_of_tag(f"{cell_tag('c1')}service/", CELLS) is None
    assert owner_of_tag(f"{cell_tag('c1')}future", CELLS) is None
    assert owner_of_tag("elsewhere/c1/agent", CELLS) is None
    assert service_of(service_scope("a:b")) == "a:b" and service_of(AGENT) is None


def seen(pid: int, pgid: int, tag: str | None = None, started: float = 100.0) -> Seen:
    return Seen(pid, pgid, started, tag)


def test_members_of_a_recorded_group_are_its_owners_even_after_the_leader_left() -> None:
    web = GroupClaim(Owner("c1", "service:web"), 10, 100.0)
    setup = GroupClaim(Owner("c2", SETUP), 20, 200.0)
    owners = assign(
        [seen(10, 10), seen(11, 10), seen(21, 20), seen(30, 30), seen(31, 10, started=5.0)],
        [web, setup],
        CELLS,
    )
    assert owners == {10: web.owner, 11: web.owner, 31: web.owner, 21: setup.owner}


def test_a_reused_leader_pid_is_a_stranger_and_so_is_its_group() -> None:
    claim = GroupClaim(Owner("c1", "service:web"), 10, 100.0)
    assert assign([seen(10, 10, started=150.0), seen(11, 10)], [claim], CELLS) == {}
    # Within psutil's rounding it is the same process.
    assert set(assign([seen(10, 10, started=100.004)], [claim], CELLS)) == {10}


def test_a_tag_wins_over_the_group_and_finds_what_left_it() -> None:
    web = GroupClaim(Owner("c1", "service:web"), 10, 100.0)
    owners = assign(
        [
            seen(10, 10, service_tag("c1", "web")),
            seen(12, 12, service_tag("c1", "web")),  # setsid: a group of its own
            seen(13, 10, setup_tag("c1")),  # a setup command the service ran
            seen(14, 10, service_tag("c9", "web")),  # another server's tag, our group
        ],
        [web],
        CELLS,
    )
    assert owners == {
        10: web.owner,
        12: web.owner,
        13: Owner("c1", SETUP),
        14: web.owner,
    }


def test_the_agent_group_holds_the_untagged_pane_runner() -> None:
    owners = assign(
        [seen(40, 40), seen(41, 40, agent_tag("c2")), seen(42, 40, agent_tag("c2")), seen(50, 50)],
        [],
        CELLS,
    )
    assert owners == {40: Owner("c2", AGENT), 41: Owner("c2", AGENT), 42: Owner("c2", AGENT)}


def test_claims_come_from_running_services_and_setup_records() -> None:
    targets = Targets(
        cells=(SampledCell("c1", "w", "t"),),
        services=(
            ServiceRow("c1", "web", "ready", 20001, 10, 100.0),
            ServiceRow("c1", "old", "stopped", None, None, None),
        ),
        setups=(SetupRow("c1", 20, 200.0),),
    )
    assert claims_of(targets) == [
        GroupClaim(Owner("c1", "service:web"), 10, 100.0),
        GroupClaim(Owner("c1", SETUP), 20, 200.0),
    ]
