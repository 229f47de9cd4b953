"""The bus: a subscriber that keeps up takes events from its queue; anything the queue
cannot vouch for (start-up, a gap, reordering, overflow) sends it back to the log."""

from __future__ import annotations

from hive.events.bus import EventBus
from hive.store.events import EventRecord


def event(event_id: int, kind: str = "timing", cell: str = "c1") -> EventRecord:
    return EventRecord(event_id, kind, cell, "w1", {"n": event_id}, "2026-12-01T00:00:00Z")


def test_events_in_order_are_queued_for_those_who_want_them() -> None:
    bus = EventBus()
    mine = bus.subscribe(lambda e: e.cell_id == "c1")
    other = bus.subscribe(lambda e: e.cell_id == "c2")
    bus.publish(event(1))
    mine.begin_read()
    other.begin_read()
    mine.changed.clear()
    other.changed.clear()
    for record in (event(2), event(3, cell="c2"), event(4)):
        bus.publish(record)
    assert not mine.stale and mine.changed.is_set()
    assert [e.id for e in mine.take(after=1)] == [2, 4]
    assert mine.take(after=4) == [], "taking empties the queue"
    assert [e.id for e in other.take(after=1)] == [3]


def test_the_first_event_after_start_up_sends_everyone_to_the_log() -> None:
    bus = EventBus()
    subscription = bus.subscribe(lambda e: True)
    subscription.begin_read()
    bus.publish(event(41))
    assert subscription.stale, "what came before 41 is unknown to the bus"


def test_a_gap_or_a_late_event_sends_subscribers_to_the_log() -> None:
    bus = EventBus()
    subscription = bus.subscribe(lambda e: True)
    bus.publish(event(1))
    subscription.begin_read()
    bus.publish(event(3))  # 2 is committed but not yet published
    assert subscription.stale and subscription.take(after=1) == []
    subscription.begin_read()
    bus.publish(event(4))
    assert not subscription.stale
    bus.publish(event(2))  # late
    assert subscription.stale


def test_events_already_read_from_the_log_are_not_taken_twice() -> None:
    bus = EventBus()
    subscription = bus.subscribe(lambda e: True)
    bus.publish(event(1))
    subscription.begin_read()
    bus.publish(event(2))
    bus.publish(event(3))
    # A log read that ran meanwhile saw 2 already.
    assert [e.id for e in subscription.take(after=2)] == [3]


def test_a_subscriber_that_falls_behind_is_bounded_and_reads_the_log_again() -> None:
    bus = EventBus(queue_limit=3)
    subscription = bus.subscribe(lambda e: True)
    bus.publish(event(1))
    subscription.begin_read()
    for n in range(2, 5):
        bus.publish(event(n))
    assert not subscription.stale
    bus.publish(event(5))
    assert subscription.stale and subscription.take(after=1) == [], "the queue was dropped"


def test_closing_unsubscribes() -> None:
    bus = EventBus()
    with bus.subscribe(lambda e: True):
        assert bus.subscribers == 1
    assert bus.subscribers == 0
