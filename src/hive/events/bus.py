"""The in-process bus. Events are persisted first (`store.events.EventLog`), then
published here; a subscriber learns only that something it wants was written, and
reads the log after its own cursor. So a slow reader never slows a writer or holds
events in memory, and events can never be missed or reordered between the two.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from hive.store.events import EventRecord

Match = Callable[[EventRecord], bool]


class Subscription:
    def __init__(self, bus: EventBus, match: Match) -> None:
        self._bus = bus
        self.match = match
        self.changed = asyncio.Event()
        """Set when an event this subscriber wants has been written since it last looked."""

    async def wait(self, within_s: float) -> bool:
        """Wait until something new is written (True) or `within_s` passes (False)."""
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
    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()

    def subscribe(self, match: Match) -> Subscription:
        subscription = Subscription(self, match)
        self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    def publish(self, event: EventRecord) -> None:
        """Called once the event is committed; costs a flag per interested subscriber."""
        for subscription in self._subscriptions:
            if subscription.match(event):
                subscription.changed.set()

    @property
    def subscribers(self) -> int:
        return len(self._subscriptions)
