"""Run one setup command's tries: a failed try (a StepError) is followed, after the
command's delay, by the next, until one succeeds or none is left.

The delay is an `asyncio.sleep`, so a cancel during it stops the run at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from hive.config.schema import SetupCommand
from hive.core.errors import StepError


async def run_tries(command: SetupCommand, attempt: Callable[[int], Awaitable[None]]) -> int:
    """Call `attempt(n)` for n = 1… until it returns; the last try's StepError is raised
    when every try failed. Returns the number of the try that succeeded."""
    tries = command.retries + 1
    for number in range(1, tries + 1):
        try:
            await attempt(number)
        except StepError:
            if number == tries:
                raise
        else:
            return number
        await asyncio.sleep(command.retry_delay_ms / 1000)
    raise AssertionError("unreachable: the last try returns or raises")
