"""Applies the fault-injection seam (`HIVE_FAULTS`) where the engine runs steps, so a
test can drive any step's failure path, not only those a broken template reaches."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field

from hive.core.errors import StepError
from hive.core.faults import FaultAction


@dataclass(frozen=True)
class Faults:
    planned: Mapping[str, FaultAction] = field(default_factory=dict)

    async def strike(self, step: str) -> None:
        """Fail or hang if `step` is named; nothing otherwise (the default)."""
        action = self.planned.get(step)
        if action is FaultAction.FAIL:
            raise StepError(
                f"fault injected by HIVE_FAULTS: {step}={action}",
                hint="HIVE_FAULTS is a test seam; unset it to run steps normally",
            )
        if action is FaultAction.HANG:
            # Until cancelled, or the step's timeout ends it.
            await asyncio.Event().wait()
