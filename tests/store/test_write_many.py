"""Database.write_many: statements run once per row (executemany), all in one transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from hive.store.database import Database
from hive.store.tables import port_leases


def lease(port: int) -> dict[str, object]:
    return {"port": port, "cell_id": "c", "service": "web", "created_at": "now"}


async def test_every_row_is_written_or_none_is(db: Database) -> None:
    await db.write_many((insert(port_leases), [lease(1), lease(2)]), (insert(port_leases), []))
    count = select(func.count()).select_from(port_leases)
    assert (await db.first(count)) == (2,)
    with pytest.raises(IntegrityError):  # port 2 twice: the whole call is undone
        await db.write_many((insert(port_leases), [lease(3)]), (insert(port_leases), [lease(2)]))
    assert (await db.first(count)) == (2,)
