"""The SQLite database: engine with WAL and foreign keys, migrations at start-up."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import CursorResult, Engine, Executable, Row, create_engine, event

_MIGRATIONS = Path(__file__).with_name("migrations")
_PRIVATE = 0o600

T = TypeVar("T")


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sync_engine(path: Path) -> Engine:
    engine = create_engine(
        f"sqlite:///{path}", connect_args={"check_same_thread": False}, pool_size=8
    )
    event.listen(engine, "connect", _on_connect)
    return engine


def _make_private(path: Path) -> None:
    """The database (0600) and its -wal/-shm, which SQLite creates with the database's mode."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, _PRIVATE)
    os.close(fd)
    for file in (path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")):
        with contextlib.suppress(FileNotFoundError):
            if file.stat().st_mode & 0o077:
                file.chmod(_PRIVATE)


def migrate(path: Path, revision: str = "head") -> None:
    """Bring the database at `path` to the newest schema, or to `revision` (blocking;
    run in a thread)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    _make_private(path)
    engine = _sync_engine(path)
    try:
        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()


async def open_database(path: Path) -> Database:
    """Migrate, then return the database every query goes through."""
    await asyncio.to_thread(migrate, path)
    return Database(_sync_engine(path))


@dataclass(frozen=True)
class Written:
    rowcount: int
    inserted_id: Any | None
    rows: list[Row[Any]]
    """What a statement with RETURNING gave back."""


def _written(result: CursorResult[Any]) -> Written:
    rows = list(result.all()) if result.returns_rows else []
    # SQLAlchemy refuses inserted_primary_key under RETURNING, even when no row came back
    # (an upsert whose WHERE refused).
    inserted = result.is_insert and not result.returns_rows
    key = result.inserted_primary_key if inserted else None
    count = len(rows) if rows else result.rowcount
    return Written(count, key[0] if key else None, rows)


class Database:
    """SQLite behind two thread pools: one writer thread, a few reader threads.

    SQLite takes one writer at a time. A single writer thread makes writes queue in
    order instead of meeting in SQLite's busy handler (which sleeps up to 100 ms), and
    each call is one hop to a thread that runs the whole statement or transaction, so
    the event loop never waits on the database.
    """

    def __init__(self, engine: Engine, readers: int = 4) -> None:
        self.engine = engine
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hive-db-write")
        self._readers = ThreadPoolExecutor(max_workers=readers, thread_name_prefix="hive-db-read")

    async def _run(self, pool: ThreadPoolExecutor, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(pool, work)

    async def first(self, statement: Executable) -> Row[Any] | None:
        def work() -> Row[Any] | None:
            with self.engine.connect() as conn:
                return conn.execute(statement).first()

        return await self._run(self._readers, work)

    async def all(self, statement: Executable) -> list[Row[Any]]:
        def work() -> list[Row[Any]]:
            with self.engine.connect() as conn:
                return list(conn.execute(statement).all())

        return await self._run(self._readers, work)

    async def write(self, *statements: Executable) -> list[Written]:
        """Run the statements in one transaction; all of them take effect or none."""

        def work() -> list[Written]:
            results = []
            with self.engine.begin() as conn:
                for statement in statements:
                    result = conn.execute(statement)
                    rows = list(result.all()) if result.returns_rows else []
                    # SQLAlchemy refuses inserted_primary_key under RETURNING, even when no row came
                    # back (an upsert whose WHERE refused).
                    returning = result.returns_rows
                    key = (
                        result.inserted_primary_key if result.is_insert and not returning else None
                    )
                    count = len(rows) if rows else result.rowcount
                    results.append(Written(count, key[0] if key else None, rows))
            return results

        return await self._run(self._writer, work)

    async def write_many(self, *batches: tuple[Executable, Sequence[Mapping[str, Any]]]) -> None:
        """Each statement once per row of its parameters (an executemany, compiled once
        however many rows there are), all of them in one transaction."""

        def work() -> None:
            with self.engine.begin() as conn:
                for statement, rows in batches:
                    if rows:
                        conn.execute(statement, list(rows))

        await self._run(self._writer, work)

    async def write_chain(
        self, first: Executable, then: Callable[[Written], Executable | None]
    ) -> tuple[Written, Written | None]:
        """`first`, then the statement `then` makes from its result (if any), in one
        transaction: a change and the event that tells of it commit together."""

        def work() -> tuple[Written, Written | None]:
            with self.engine.begin() as conn:
                done = _written(conn.execute(first))
                following = then(done)
                return done, _written(conn.execute(following)) if following is not None else None

        return await self._run(self._writer, work)

    async def close(self) -> None:
        def shutdown() -> None:
            self._writer.shutdown(wait=True)
            self._readers.shutdown(wait=True)
            self.engine.dispose()

        await asyncio.to_thread(shutdown)
