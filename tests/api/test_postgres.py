"""A real PostgreSQL per cell: initdb in setup, postgres as a service, pg_isready probe."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.repos import basic_template, make_repo
from tests.support.server import LiveHive

BINARIES = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))


@pytest.mark.skipif(not BINARIES, reason="PostgreSQL is not installed (`make test` installs it)")
def test_each_cell_gets_its_own_postgres(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    bin_dir = BINARIES[-1].parent
    # postgres refuses to run as root: there, run it as the package's `postgres` user.
    as_pg = "runuser -u postgres --" if os.geteuid() == 0 else ""
    data = "/tmp/hive-pg-$HIVE_CELL_ID"
    template = basic_template(
        setup=[
            f"rm -rf {data} && mkdir -p {data}" + (f" && chown postgres {data}" if as_pg else ""),
            f"{as_pg} {bin_dir}/initdb -D {data} -A trust -U hive > /dev/null",
        ],
        services={
            "db": {
                "run": f"exec {as_pg} {bin_dir}/postgres -D {data} -p $PORT -k {data} -h 127.0.0.1",
                "ready": {"command": f"{bin_dir}/pg_isready -h 127.0.0.1 -p $PORT"},
                "readyTimeoutMs": 60000,
            }
        },
    )
    hive = start_hive([make_repo(tmp_path / "repo", {"basic": template})])
    cells = [hive.create(f"pg {i}") for i in range(2)]
    try:
        ports = []
        for created in cells:
            cell = hive.settle(created["id"], timeout=120)
            assert cell["status"] == "ready", cell["lastSetupError"]
            [db] = hive.http.get(f"/api/cells/{cell['id']}/services").json()["services"]
            ports.append(db["port"])
            answer = subprocess.run(
                [str(bin_dir / "psql"), "-h", "127.0.0.1", "-p", str(db["port"]), "-U", "hive",
                 "-d", "postgres", "-tAc", "select 40 + 2"],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            assert answer.stdout.strip() == "42"
        assert len(set(ports)) == 2
    finally:
        for created in cells:
            hive.http.delete(f"/api/cells/{created['id']}")
            shutil.rmtree(f"/tmp/hive-pg-{created['id']}", ignore_errors=True)
