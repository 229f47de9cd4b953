"""The one writer of services' statuses: every change is checked against the table in
`core.status` by the store's conditional write, so racing writers cannot both win."""

from __future__ import annotations

import logging
from typing import Any

from hive.core.errors import TransitionError
from hive.core.status import ServiceStatus
from hive.store.clock import now_iso
from hive.store.services import ServiceRecord, ServiceStore

log = logging.getLogger(__name__)


def service_error(message: str, tail: str | None = None, **extra: Any) -> dict[str, Any]:
    """A service's `lastError`: what happened, the tail of its log, when."""
    return {"message": message, "outputTail": tail, "at": now_iso(), **extra}


class ServiceStatuses:
    def __init__(self, store: ServiceStore) -> None:
        self.store = store

    async def move(self, cell_id: str, name: str, target: ServiceStatus, **fields: Any) -> bool:
        """Move the service to `target`; False when the table refuses (someone else's
        change came first and has the last word)."""
        try:
            await self.store.transition(cell_id, name, target, **fields)
        except TransitionError as exc:
            log.info("cell %s: service %s not moved to %s: %s", cell_id, name, target, exc)
            return False
        return True

    async def lay_to_rest(self, record: ServiceRecord, message: str | None = None) -> None:
        """`stopping` (unless it is already), then `stopped`, without a pid."""
        if record.status != ServiceStatus.STOPPING:
            await self.move(record.cell_id, record.name, ServiceStatus.STOPPING)
        fields: dict[str, Any] = {"pid": None}
        if message is not None:
            fields["last_error"] = service_error(message)
        await self.move(record.cell_id, record.name, ServiceStatus.STOPPED, **fields)
