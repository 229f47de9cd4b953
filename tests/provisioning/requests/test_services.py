"""ServiceControl: what a user may do to a cell's services, and when not."""

from __future__ import annotations

import pytest

from hive.core.errors import ConflictError, NotFoundError
from hive.core.status import CellStatus

from ..conftest import Hive, MakeHive

SERVICES = {
    "web": {"run": "exec python3 -m http.server --bind 127.0.0.1 $PORT"},
    "worker": {"run": "exec sleep 300", "restart": "on-failure:2"},
}


@pytest.fixture
async def hive(make_hive: MakeHive) -> Hive:
    # Setup fails for a cell named "doomed" only.
    return await make_hive(setup=['test "$HIVE_CELL_NAME" != doomed'], services=SERVICES)


async def test_actions_need_a_ready_cell_and_a_known_service(hive: Hive) -> None:
    control = hive.runtime.services
    failed = await hive.settle((await hive.create("doomed")).id)
    assert failed.status == CellStatus.ERROR
    with pytest.raises(ConflictError, match="services can be managed once it is ready"):
        await control.start(failed.id, "web")
    ready = await hive.settle((await hive.create("fine")).id)
    with pytest.raises(NotFoundError) as caught:
        await control.restart(ready.id, "ghost")
    assert caught.value.hint == "services: web, worker"


async def test_restart_keeps_the_port_and_stop_start_renew_the_process(hive: Hive) -> None:
    control = hive.runtime.services
    cell = await hive.settle((await hive.create("fine")).id)
    before = {view.name: view for view in await control.list(cell.id)}
    web = await control.restart(cell.id, "web")
    assert web.status == "ready" and web.port == before["web"].port
    assert web.pid != before["web"].pid and web.ready_reason is not None
    assert web.restarts == 0 and web.readiness == f"tcp :{web.port}"
    worker = await control.stop(cell.id, "worker")
    assert (worker.status, worker.pid, worker.port) == ("stopped", None, None)
    worker = await control.start(cell.id, "worker")
    assert worker.status == "ready" and worker.readiness == "started, still alive after 0.2s"
