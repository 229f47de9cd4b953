"""CellEnvironment: the one builder of what a cell's commands see: user basics, then
template env, then the cell's HIVE_* facts and ports, everywhere alike."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from hive.config.schema import Template
from hive.core.status import CellStatus
from hive.provisioning.environment import USER_BASICS, CellEnvironment, user_basics
from hive.store.records import CellRecord

CELL = CellRecord(
    id="cell123",
    workspace_id="ws1",
    name="My cell",
    description=None,
    template_id="basic",
    status=CellStatus.SPAWNING,
    worktree_path=Path("/cells/cell123"),
    branch_name="hive/my-cell-cell123",
    base_ref=None,
    base_commit="abc123",
    last_setup_error=None,
    completed_steps=(),
    run_id="r1",
    attempt=1,
    created_at="2024-01-01T00:00:00.000Z",
    updated_at="2024-01-01T00:00:00.000Z",
)

ENVIRON = {
    "PATH": "/usr/bin:/bin",
    "HOME": "/home/me",
    "USER": "me",
    "LANG": "C.UTF-8",
    "HIVE_HOME": "/home/me/.hive",
    "AWS_SECRET_ACCESS_KEY": "do-not-leak",
    "GITHUB_TOKEN": "ghp_secret",
    "VIRTUAL_ENV": "/venv",
}

CELL_VARS = {
    "HIVE_CELL_ID": "cell123",
    "HIVE_CELL_NAME": "My cell",
    "HIVE_CELL_PATH": "/cells/cell123",
    "HIVE_BRANCH": "hive/my-cell-cell123",
    "HIVE_BASE_COMMIT": "abc123",
    "HIVE_TEMPLATE_ID": "basic",
    "HIVE_WORKSPACE_PATH": "/repo",
}


def environment(
    template_env: dict[str, str] | None = None,
    *,
    environ: dict[str, str] = ENVIRON,
    cell: CellRecord = CELL,
    services: dict[str, object] | None = None,
    setup: list[str] | None = None,
    ports: dict[str, int] | None = None,
) -> CellEnvironment:
    template = Template.model_validate(
        {"id": "basic", "env": template_env or {}, "services": services or {}, "setup": setup or []}
    )
    return CellEnvironment(template, cell, Path("/repo"), ports or {}, user_basics(environ), 0.5)


def command_environment(
    environ: dict[str, str], cell: CellRecord, template_env: dict[str, str]
) -> dict[str, str]:
    return environment(template_env, environ=environ, cell=cell).setup_env()


def test_user_basics_only() -> None:
    assert user_basics(ENVIRON) == {
        "PATH": "/usr/bin:/bin",
        "HOME": "/home/me",
        "USER": "me",
        "LANG": "C.UTF-8",
    }
    assert user_basics({}) == {}


def test_server_settings_and_secrets_are_not_passed() -> None:
    env = command_environment(ENVIRON, CELL, {})
    for name in ("HIVE_HOME", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "VIRTUAL_ENV"):
        assert name not in env
    assert "do-not-leak" not in env.values()
    assert env == {**user_basics(ENVIRON), **CELL_VARS}


def test_template_env_overrides_basics() -> None:
    template_env = {"PATH": "/custom/bin", "APP_MODE": "test", "API_TOKEN": "t"}
    env = command_environment(ENVIRON, CELL, template_env)
    assert env["PATH"] == "/custom/bin"
    assert env["APP_MODE"] == "test"
    assert env["API_TOKEN"] == "t"  # the template's own secrets are the cell's to use
    assert env["HOME"] == "/home/me"


def test_cell_variables_win_over_template_env() -> None:
    template_env = {"HIVE_CELL_ID": "spoofed", "HIVE_BRANCH": "other", "HIVE_HOME": "/x"}
    env = command_environment(ENVIRON, CELL, template_env)
    for name, value in CELL_VARS.items():
        assert env[name] == value
    # A HIVE_* name that is not a cell fact is just template env.
    assert env["HIVE_HOME"] == "/x"


@pytest.mark.parametrize("name", USER_BASICS)
def test_every_basic_is_passed(name: str) -> None:
    assert command_environment({name: "v"}, CELL, {})[name] == "v"


def test_missing_base_commit_is_empty() -> None:
    env = command_environment(ENVIRON, replace(CELL, base_commit=None), {})
    assert env["HIVE_BASE_COMMIT"] == ""


def test_one_variable_reaches_setup_env_files_and_every_service() -> None:
    env = environment(
        {"APP_MODE": "test", "DATABASE_URL": "postgres://127.0.0.1:$PORT:db/app"},
        services={
            "db": {"run": "db --port $PORT"},
            "worker": {"run": "work", "env": {"OWN": "1"}},
        },
        setup=["migrate --port $PORT:db"],
        ports={"db": 7001},
    )
    setup, files, plan = env.setup_env(), env.variables(), env.plan()
    for variables in (setup, files, plan.services["db"].env, plan.services["worker"].env):
        assert variables["APP_MODE"] == "test"
        assert variables["DATABASE_URL"] == "postgres://127.0.0.1:7001/app"
        assert variables["DB_PORT"] == "7001"
        assert variables["HIVE_CELL_ID"] == "cell123"
    assert "PATH" in setup and "PATH" not in files  # the user's basics stay out of .hive/env
    assert env.setup_command(0) == "migrate --port 7001"
    assert plan.services["worker"].env["OWN"] == "1"
    cell_json = env.cell_json()
    assert cell_json["services"]["db"]["url"] == "http://127.0.0.1:7001"
    assert cell_json["services"]["worker"]["readiness"] == "started, still alive after 0.5s"
    assert cell_json["worktreePath"] == "/cells/cell123"
