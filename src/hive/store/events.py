"""The event log: every change a live stream sends, persisted before it is published.

A store that changes something worth watching writes its event in the same
transaction (`EventLog.write`), then hands it to `publish` (the in-process bus), so a
subscriber that reconnects replays from here after its `Last-Event-ID` and never
misses one. Ids are the SSE ids: strictly increasing, never reused.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import Executable, insert, select

from hive.store.clock import now_iso
from hive.store.database import Database, Written
from hive.store.tables import events as e


@dataclass(frozen=True)
class EventRecord:
    id: int
    kind: str
    """`cell`, `cell_removed`, `timing`, `progress`, `service`."""
    cell_id: str | None
    workspace_id: str | None
    data: dict[str, Any]
    created_at: str

    @cached_property
    def data_json(self) -> str:
        """The data as a stream sends it: encoded once, however many streams send it."""
        return json.dumps(self.data)


@dataclass(frozen=True)
class NewEvent:
    kind: str
    cell_id: str | None
    workspace_id: str | None
    data: dict[str, Any]


def _record(row: Any) -> EventRecord:
    return EventRecord(
        id=row.id,
        kind=row.kind,
        cell_id=row.cell_id,
        workspace_id=row.workspace_id,
        data=row.data,
        created_at=row.created_at,
    )


Publish = Callable[[EventRecord], None]


class EventLog:
    def __init__(self, db: Database, publish: Publish | None = None) -> None:
        self._db = db
        self._publish = publish

    async def write(
        self,
        statement: Executable,
        event: Callable[[Written], NewEvent | None],
    ) -> Written:
        """Run `statement`, then the event `event(result)` describes (if any), in one
        transaction; publish the event once it is committed. Returns the statement's
        result."""

        def follow(first: Written) -> Executable | None:
            new = event(first)
            if new is None:
                return None
            return (
                insert(e)
                .values(
                    kind=new.kind,
                    cell_id=new.cell_id,
                    workspace_id=new.workspace_id,
                    data=new.data,
                    created_at=now_iso(),
                )
                .returning(*e.c)
            )

        first, second = await self._db.write_chain(statement, follow)
        if second is not None and second.rows and self._publish is not None:
            self._publish(_record(second.rows[0]))
        return first

    async def append(self, new: NewEvent) -> EventRecord:
        """An event that goes with no other change (a step that began)."""
        statement = (
            insert(e)
            .values(
                kind=new.kind, cell_id=new.cell_id, workspace_id=new.workspace_id,
                data=new.data, created_at=now_iso(),
            )
            .returning(*e.c)
        )  # fmt: skip
        [written] = await self._db.write(statement)
        record = _record(written.rows[0])
        if self._publish is not None:
            self._publish(record)
        return record

    async def after(
        self,
        after_id: int,
        *,
        cell_id: str | None = None,
        workspace_id: str | None = None,
        kinds: Collection[str] | None = None,
        limit: int = 500,
    ) -> list[EventRecord]:
        """Events with an id above `after_id`, oldest first, at most `limit`."""
        query = select(e).where(e.c.id > after_id)
        if cell_id is not None:
            query = query.where(e.c.cell_id == cell_id)
        if workspace_id is not None:
            query = query.where(e.c.workspace_id == workspace_id)
        if kinds is not None:
            query = query.where(e.c.kind.in_(sorted(kinds)))
        rows = await self._db.all(query.order_by(e.c.id).limit(limit))
        return [_record(row) for row in rows]

    async def last_id(self) -> int:
        row = await self._db.first(select(e.c.id).order_by(e.c.id.desc()).limit(1))
        return int(row.id) if row is not None else 0


def ids(records: Sequence[EventRecord]) -> list[int]:
    return [record.id for record in records]
