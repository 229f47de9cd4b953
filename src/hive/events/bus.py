"""The in-process bus. Events are persisted first (`store.events.EventLog`), then
published here, and a subscriber that is keeping up takes them straight from its
queue: one read of the log serves every stream, however many are open.

The log stays the truth. A subscriber reads it after its own cursor when it starts,
when its bounded queue overflows (it fell behind: memory stays bounded and the
writer is never held up), and whenever the bus cannot vouch that the queue holds
every event after the cursor: publications must come in id order, one after another,
and any gap or reordering sends every subscriber back to the log.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from hive.store.events import EventRecord

Match = Callable[[EventRecord], bool]

#: Events a subscriber may have waiting before it is sent back to the log instead.
QUEUE_LIMIT = 1000


class Subscription:
    def __init__(self, bus: EventBus, match: Match, limit: int) -> None:
        self._bus = bus
        self.match = match
        self._limit = limit
        self._queue: deque[EventRecord] = deque()
        self.stale = True
        """The queue cannot be trusted alone: read the log after the cursor first."""
        self.changed = asyncio.Event()
        """Set when something for this subscriber happened since it last looked."""

    def offer(self, event: EventRecord, in_order: bool) -> None:
        if not in_order or len(self._queue) >= self._limit:
            self.stale = True
            self._queue.clear()
            self.changed.set()
        elif self.match(event):
            self._queue.append(event)
            self.changed.set()

    def begin_read(self) -> None:
        """Before reading the log: what is queued now is committed, so the read has it;
        what is published during the read is queued and taken after it."""
        self.stale = False
        self._queue.clear()

    def take(self, after: int) -> list[EventRecord]:
        """The queued events after `after`, in id order; empties the queue."""
        events = [event for event in self._queue if event.id > after]
        self._queue.clear()
        return events

    async def wait(self, within_s: float) -> bool:
        """Wait until something happens (True) or `within_s` passes (False)."""
        try:
            async with asyncio.timeout(within_s):
                await self.changed.wait()
        except TimeoutError:
            return False
        return True

    def close(self) -> None:
        self._bus.unsubscribe(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class EventBus:
    def __init__(self, queue_limit: int = QUEUE_LIMIT) -> None:
        self._subscriptions: set[Subscription] = set()
        self._queue_limit = queue_limit
        self._last_id: int | None = None

    def subscribe(self, match: Match) -> Subscription:
        subscription = Subscription(self, match, self._queue_limit)
        self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    def publish(self, event: EventRecord) -> None:
        """Called once the event is committed. Only the very next id is in order: the
        first event after start-up, or one after a gap, sends subscribers to the log."""
        in_order = self._last_id is not None and event.id == self._last_id + 1
        self._last_id = event.id if self._last_id is None else max(self._last_id, event.id)
        for subscription in self._subscriptions:
            subscription.offer(event, in_order)

    @property
    def subscribers(self) -> int:
        return len(self._subscriptions)
