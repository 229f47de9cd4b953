from __future__ import annotations

from hive.store.agent_servers import AgentServerStore
from hive.store.database import Database


async def test_save_then_get(db: Database) -> None:
    servers = AgentServerStore(db)
    assert await servers.get("opencode") is None
    saved = await servers.save("opencode", pid=123, process_started=1.5, port=7000)
    assert (saved.pid, saved.process_started, saved.port, saved.restarts) == (123, 1.5, 7000, 0)
    assert saved.started_at is not None and saved.last_error is None
    assert await servers.get("opencode") == saved
    assert await servers.get("other") is None


async def test_clear_pid_keeps_port_restarts_and_error(db: Database) -> None:
    servers = AgentServerStore(db)
    await servers.save("opencode", pid=123, process_started=1.5, port=7000)
    await servers.bump_restarts("opencode")
    await servers.set_last_error("opencode", "exited with 1")
    cleared = await servers.clear_pid("opencode")
    assert (cleared.pid, cleared.process_started) == (None, None)
    assert (cleared.port, cleared.restarts, cleared.last_error) == (7000, 1, "exited with 1")
    assert await servers.get("opencode") == cleared


async def test_restarts_count_up_and_a_new_start_keeps_them(db: Database) -> None:
    servers = AgentServerStore(db)
    await servers.save("opencode", pid=1, process_started=1.0, port=7000)
    assert (await servers.bump_restarts("opencode")).restarts == 1
    assert (await servers.bump_restarts("opencode")).restarts == 2
    again = await servers.save("opencode", pid=2, process_started=2.0, port=7001)
    assert (again.pid, again.port, again.restarts) == (2, 7001, 2)


async def test_writes_without_a_row_make_one(db: Database) -> None:
    servers = AgentServerStore(db)
    failed = await servers.set_last_error("opencode", "not healthy within 60s")
    assert (failed.pid, failed.port, failed.restarts) == (None, None, 0)
    assert failed.last_error == "not healthy within 60s"
    assert (await servers.bump_restarts("fresh")).restarts == 1
    assert (await servers.set_last_error("opencode", None)).last_error is None


async def test_delete(db: Database) -> None:
    servers = AgentServerStore(db)
    await servers.save("opencode", pid=1, process_started=1.0, port=7000)
    await servers.delete("opencode")
    assert await servers.get("opencode") is None
    await servers.delete("opencode")  # nothing left: no error
