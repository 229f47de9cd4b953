"""A runtime that can be restarted on the same home, with a fault plan of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from hive.core.faults import FaultAction
from hive.provisioning.requests.workspaces import register_workspace
from hive.runtime import HiveRuntime
from hive.settings import Settings
from tests.conftest import stop_leftover_services
from tests.support.ports import worker_port_range
from tests.support.repos import basic_template, make_repo

from ..conftest import Hive

FaultyHive = Callable[[dict[str, FaultAction]], Awaitable[Hive]]
"""Starts Hive with the given faults (stopping the one running before)."""
TEMPLATE = basic_template(
    setup=["true"], services={"web": {"run": "exec python3 -m http.server --bind 127.0.0.1 $PORT"}}
)


@pytest.fixture
async def faulty_hive(tmp_path: Path) -> AsyncIterator[FaultyHive]:
    started: list[HiveRuntime] = []
    repo = make_repo(tmp_path / "repo", {"basic": TEMPLATE})
    home = tmp_path / "home"

    async def make(faults: dict[str, FaultAction]) -> Hive:
        # One server at a time on the home, as in life: the next one restarts it.
        while started:
            await started.pop().close()
        settings = Settings(
            hive_home=home, port=0, setup_timeout_s=30, kill_grace_s=1,
            service_start_grace_s=0.2, cleanup_step_timeout_s=0.5, faults=faults,
            port_range=worker_port_range(),
        )  # fmt: skip
        runtime = await HiveRuntime.start(settings)
        started.append(runtime)
        workspace, _ = await register_workspace(runtime.stores.workspaces, repo)
        return Hive(runtime, workspace.id, repo)

    yield make
    for runtime in started:
        await runtime.close()
    stop_leftover_services(home / "hive.db")
