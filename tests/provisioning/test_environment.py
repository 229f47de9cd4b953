"""command_environment: user basics, then template env, then the cell's HIVE_* facts."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from hive.core.status import CellStatus
from hive.provisioning.environment import USER_BASICS, command_environment, user_basics
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


def test_user_basics_only() -> None:
    assert user_basics(ENVIRON) == {
        "PATH": "/usr/bin:/bin",
        "HOME": "/home/me",
        "USER": "me",
        "LANG": "C.UTF-8",
    }
    assert user_basics({}) == {}


def test_server_settings_and_secrets_are_not_passed() -> None:
    env = command_environment(ENVIRON, CELL, "/repo", {})
    for name in ("HIVE_HOME", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "VIRTUAL_ENV"):
        assert name not in env
    assert "do-not-leak" not in env.values()
    assert env == {**user_basics(ENVIRON), **CELL_VARS}


def test_template_env_overrides_basics() -> None:
    template_env = {"PATH": "/custom/bin", "APP_MODE": "test", "API_TOKEN": "t"}
    env = command_environment(ENVIRON, CELL, "/repo", template_env)
    assert env["PATH"] == "/custom/bin"
    assert env["APP_MODE"] == "test"
    assert env["API_TOKEN"] == "t"  # the template's own secrets are the cell's to use
    assert env["HOME"] == "/home/me"


def test_cell_variables_win_over_template_env() -> None:
    template_env = {"HIVE_CELL_ID": "spoofed", "HIVE_BRANCH": "other", "HIVE_HOME": "/x"}
    env = command_environment(ENVIRON, CELL, "/repo", template_env)
    for name, value in CELL_VARS.items():
        assert env[name] == value
    # A HIVE_* name that is not a cell fact is just template env.
    assert env["HIVE_HOME"] == "/x"


@pytest.mark.parametrize("name", USER_BASICS)
def test_every_basic_is_passed(name: str) -> None:
    assert command_environment({name: "v"}, CELL, "/repo", {})[name] == "v"


def test_missing_base_commit_is_empty() -> None:
    env = command_environment(ENVIRON, replace(CELL, base_commit=None), "/repo", {})
    assert env["HIVE_BASE_COMMIT"] == ""
