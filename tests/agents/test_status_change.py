"""The pure parts of the status feed: an event of `/global/event` to a session's status,
which changes are worth reporting, the reconnection delays."""

from __future__ import annotations

from typing import Any

import pytest

from hive.agents.models import Event, GlobalEvent
from hive.agents.protocol import AgentStatus
from hive.agents.status_feed import Backoff, StatusChange, is_news, status_change

WT = "/work/cells/a"
SID = "ses_1"


def envelope(kind: str, properties: object, directory: object = WT) -> dict[str, Any]:
    """What the server sends as one `data:` message of `/global/event`."""
    return {
        "directory": directory,
        "project": "p1",
        "payload": {"id": "evt_1", "type": kind, "properties": properties},
    }


def change(kind: str, **properties: Any) -> StatusChange | None:
    event = GlobalEvent.parse(envelope(kind, properties))
    assert event is not None
    return status_change(event)


@pytest.mark.parametrize(
    ("kind", "properties", "status"),
    [
        ("session.status", {"sessionID": SID, "status": {"type": "busy"}}, AgentStatus.WORKING),
        (
            "session.status",
            {"sessionID": SID, "status": {"type": "retry", "attempt": 1, "message": "429"}},
            AgentStatus.WORKING,
        ),
        ("session.status", {"sessionID": SID, "status": {"type": "idle"}}, AgentStatus.IDLE),
        ("session.idle", {"sessionID": SID}, AgentStatus.IDLE),
        (
            "permission.asked",
            {"id": "per_1", "sessionID": SID, "permission": "external_directory"},
            AgentStatus.WAITING,
        ),
        ("question.asked", {"id": "que_1", "sessionID": SID, "questions": []}, AgentStatus.WAITING),
        (
            "permission.replied",
            {"sessionID": SID, "requestID": "per_1", "reply": "once"},
            AgentStatus.WORKING,
        ),
        ("question.replied", {"sessionID": SID, "requestID": "que_1"}, AgentStatus.WORKING),
        ("question.rejected", {"sessionID": SID, "requestID": "que_1"}, AgentStatus.WORKING),
        (
            "session.error",
            {"sessionID": SID, "error": {"name": "MessageAbortedError", "data": {}}},
            AgentStatus.IDLE,
        ),
        ("session.deleted", {"info": {"id": SID, "title": "t"}}, AgentStatus.STOPPED),
    ],
)
def test_each_relevant_event_gives_its_session_a_status(
    kind: str, properties: dict[str, Any], status: AgentStatus
) -> None:
    assert change(kind, **properties) == StatusChange(SID, status, None, WT)


def test_an_error_carries_its_message_or_at_least_its_name() -> None:
    error = {"name": "APIError", "data": {"message": "the model refuses", "statusCode": 400}}
    assert change("session.error", sessionID=SID, error=error) == StatusChange(
        SID, AgentStatus.ERROR, "the model refuses", WT
    )
    named = change("session.error", sessionID=SID, error={"name": "ProviderAuthError"})
    assert named is not None and named.error == "ProviderAuthError"
    bare = change("session.error", sessionID=SID, error="boom")
    assert bare is not None
    assert (bare.status, bare.error) == (AgentStatus.ERROR, "unknown error")


def test_the_per_directory_stream_maps_the_same_without_a_directory() -> None:
    event = Event(type="session.idle", properties={"sessionID": SID})
    assert status_change(event) == StatusChange(SID, AgentStatus.IDLE, None, None)


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        "text",
        {},
        {"payload": None},
        {"payload": {"properties": {}}},
        {"payload": {"type": 7}},
        # The `sync` envelopes repeat events for the server's own clients.
        {"directory": WT, "payload": {"type": "sync", "syncEvent": {"type": "session.idle.1"}}},
    ],
)
def test_what_is_not_an_event_does_not_parse(data: object) -> None:
    assert GlobalEvent.parse(data) is None


def test_odd_properties_and_directories_parse_to_empty_or_none() -> None:
    event = GlobalEvent.parse(envelope("session.idle", ["not", "a", "map"], directory=3))
    assert event == GlobalEvent(type="session.idle", properties={}, directory=None)
    assert status_change(event) is None  # no session to give it to


@pytest.mark.parametrize(
    ("kind", "properties"),
    [
        # Not about a session's status.
        ("server.connected", {}),
        ("server.heartbeat", {}),
        ("plugin.added", {"id": "agent"}),
        ("message.part.updated", {"sessionID": SID, "part": {"type": "text"}}),
        ("session.updated", {"sessionID": SID, "info": {"id": SID}}),
        # Shapes this does not know, or no session to give the status to.
        ("session.status", {"sessionID": SID, "status": {"type": "sleeping"}}),
        ("session.status", {"sessionID": SID, "status": "busy"}),
        ("session.status", {"sessionID": SID}),
        ("session.status", {"status": {"type": "busy"}}),
        ("session.idle", {"sessionID": 42}),
        ("session.idle", {"sessionID": ""}),
        ("permission.asked", {"id": "per_1"}),
        ("session.error", {"error": {"name": "APIError", "data": {"message": "no session"}}}),
        ("session.deleted", {"info": "gone"}),
        ("session.deleted", {"info": {"id": None}}),
    ],
)
def test_other_events_and_odd_shapes_change_nothing(kind: str, properties: Any) -> None:
    assert change(kind, **properties) is None


def test_only_news_is_reported() -> None:
    working = StatusChange(SID, AgentStatus.WORKING)
    idle = StatusChange(SID, AgentStatus.IDLE)
    failed = StatusChange(SID, AgentStatus.ERROR, "the model refuses")
    assert is_news(None, working)
    assert not is_news(working, StatusChange(SID, AgentStatus.WORKING, directory=WT))
    assert is_news(working, idle)
    assert is_news(working, failed)
    # The idle that ends a failed turn would hide its error; the next turn does not.
    assert not is_news(failed, idle)
    assert is_news(failed, working)
    assert is_news(failed, StatusChange(SID, AgentStatus.ERROR, "another"))
    assert is_news(failed, StatusChange(SID, AgentStatus.STOPPED))


def test_backoff_doubles_to_its_cap_and_starts_over_after_a_reset() -> None:
    delays = Backoff()
    assert [delays.next() for _ in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    delays.reset()
    assert [delays.next() for _ in range(2)] == [0.5, 1.0]
