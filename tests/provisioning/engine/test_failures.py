"""Failures of real runs explain themselves: the kind, the known cause in the hint, and
what the compensation undid."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from hive.core.failure_kind import FailureKind
from hive.core.failures import RollbackStep
from hive.core.status import CellStatus
from hive.ports.probe import port_holder

from ..conftest import MakeHive

UNDONE = (RollbackStep("stop_services", "ok"), RollbackStep("release_ports", "ok"))


@pytest.fixture
def held_port() -> Iterator[int]:
    """A port some other program listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


async def test_a_setup_command_not_found_names_the_command(make_hive: MakeHive) -> None:
    hive = await make_hive(setup=["nosuchtool --version"])
    cell = await hive.settle((await hive.create()).id)
    assert cell.status == CellStatus.ERROR
    failure = cell.last_setup_error
    assert failure is not None
    assert (failure.kind, failure.step, failure.exit_code) == (
        FailureKind.SETUP_COMMAND, "run_setup", 127
    )  # fmt: skip
    assert failure.hint.startswith("`nosuchtool` was not found") and "PATH" in failure.hint
    assert "setup[0]" in failure.hint and "hive retry" in failure.hint, "the step's own hint"
    assert failure.rollback == UNDONE
    assert failure.occurred_at == failure.at


async def test_a_fixed_port_another_program_holds_names_the_port(
    make_hive: MakeHive, held_port: int
) -> None:
    hive = await make_hive(setup=[], services={"web": {"run": "exec sleep 300", "port": held_port}})
    # Forced past the create's port check: the run's own lease must say it too.
    cell = await hive.settle((await hive.create(force=True)).id)
    failure = cell.last_setup_error
    assert failure is not None and failure.kind == FailureKind.PORT
    assert failure.step == "allocate_ports"
    assert f"port {held_port} is already in use" in failure.hint
    if holder := port_holder(held_port):  # visible to us: this test's own process
        assert holder in failure.hint
    assert failure.rollback == UNDONE


async def test_a_service_that_never_gets_ready_says_so_and_what_was_undone(
    make_hive: MakeHive,
) -> None:
    hive = await make_hive(
        services={
            "web": {"run": "exec python3 -m http.server --bind 127.0.0.1 $PORT"},
            "broken": {"run": "echo starting broken; exit 4", "dependsOn": ["web"]},
        }
    )
    cell = await hive.settle((await hive.create()).id)
    failure = cell.last_setup_error
    assert failure is not None and failure.step == "ensure_services"
    # The sub-step that failed names the kind: broken's readiness, not web's start.
    assert failure.kind == FailureKind.SERVICE_READY and failure.exit_code == 4
    assert failure.rollback == UNDONE
    assert await hive.runtime.stores.leases.for_cell(cell.id) == []
    web = await hive.runtime.stores.services.get(cell.id, "web")
    assert web is not None and web.status == "stopped"
