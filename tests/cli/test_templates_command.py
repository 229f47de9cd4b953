"""`hive templates` (requirements, options, --check) and `hive new --option/--force`,
run as a user runs them against a real server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.cli import hive_cli
from tests.support.repos import basic_template, make_repo
from tests.support.server import LiveHive

MISSING = "hive-test-no-such-command"
DATABASE = {
    "label": "Database",
    "default": "sqlite",
    "choices": {"postgres": {"env": {"DB": "pg"}}, "sqlite": {"env": {"DB": "lite"}}},
}


@pytest.fixture
def served(start_hive: Callable[..., LiveHive], tmp_path: Path) -> tuple[LiveHive, Path]:
    repo = make_repo(
        tmp_path / "repo",
        {
            "db": basic_template(id="db", options={"database": DATABASE}),
            "needy": basic_template(
                id="needy", requires={"commands": [MISSING], "files": ["README.md"]}
            ),
        },
    )
    return start_hive([repo]), repo


def test_templates_shows_requirements_and_options_and_check_runs_the_checks(
    served: tuple[LiveHive, Path],
) -> None:
    hive, repo = served
    listed = hive_cli("templates", hive=hive, cwd=repo)
    assert listed.returncode == 0, listed.stderr
    assert "REQUIRES" in listed.stdout and "OPTIONS" in listed.stdout
    assert f"cmd: {MISSING}" in listed.stdout and "file: README.md" in listed.stdout
    assert "database=sqlite (postgres|sqlite)" in listed.stdout

    checked = hive_cli("templates", "--check", hive=hive, cwd=repo)
    assert checked.returncode == 1, checked.stdout  # a template fails a check
    lines = checked.stdout.splitlines()
    assert "db: ok" in lines and "needy: fails checks" in lines
    assert any(line.startswith(f"  ✗ command:{MISSING}: `{MISSING}` is not") for line in lines)
    assert "  ✓ file:README.md: `README.md` is in the repository" in lines
    assert any(line.startswith("  ✓ git: ") for line in lines)


def test_new_takes_options_and_force(served: tuple[LiveHive, Path]) -> None:
    hive, repo = served
    refused = hive_cli("new", "needy", "n", "--no-wait", hive=hive, cwd=repo)
    assert refused.returncode == 1
    assert f"command:{MISSING}" in refused.stderr and "HTTP 409" in refused.stderr
    assert "--force" in refused.stderr

    forced = hive_cli("new", "needy", "n", "--no-wait", "--force", hive=hive, cwd=repo)
    assert forced.returncode == 0, forced.stderr

    made = hive_cli("new", "db", "d", "--option", "database=postgres", hive=hive, cwd=repo)
    assert made.returncode == 0, made.stderr
    [cell] = [c for c in hive.http.get("/api/cells").json()["cells"] if c["templateId"] == "db"]
    assert cell["options"] == {"database": "postgres"}
    shown = hive_cli("show", cell["id"], hive=hive, cwd=repo)
    assert "options  database=postgres" in shown.stdout

    unknown = hive_cli("new", "db", "d", "-o", "database=mysql", hive=hive, cwd=repo)
    assert unknown.returncode == 1 and "'mysql' is not a choice" in unknown.stderr
    malformed = hive_cli("new", "db", "d", "--option", "postgres", hive=hive, cwd=repo)
    assert malformed.returncode == 2 and "NAME=VALUE" in malformed.stderr
