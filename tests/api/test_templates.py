"""Template metadata through a real server: GET /api/templates shows description,
requirements and options; POST /api/templates/{id}/validate checks them; a create is
refused (409) by a failed check unless forced, and its options change the cell's env,
setup and services."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.repos import basic_template, git, make_repo
from tests.support.server import LiveHive

MISSING = "hive-test-no-such-command"

#: `db` runs only with database=postgres, `cache` only with database=sqlite, `web` always.
SERVICES = {
    "web": {"run": "exec sleep 60"},
    "db": {"run": "exec sleep 60", "port": "27000-27999", "ready": {"command": "true"}},
    "cache": {"run": "exec sleep 60"},
}
DATABASE = {
    "label": "Database",
    "default": "sqlite",
    "choices": {
        "postgres": {
            "env": {"DATABASE_URL": "postgres://localhost/app", "DB_PASSWORD": "pg-secret"},
            "services": ["db"],
            # Runs after the template's setup, with the choice's env.
            "setup": ['test -f setup-ran.txt && echo "$DATABASE_URL" > choice-setup.txt'],
        },
        "sqlite": {"env": {"DATABASE_URL": "sqlite:///app.db"}, "services": ["cache"]},
    },
}


def templates(**extra: Any) -> dict[str, Any]:
    return {
        "needy": basic_template(
            id="needy",
            description="Needs a command nobody has",
            requires={"commands": ["git", MISSING], "files": ["README.md"], "env": ["APP_MODE"]},
        ),
        "db": basic_template(
            id="db", description="A choice of database", services=SERVICES,
            options={"database": DATABASE}, setup=['echo "$DATABASE_URL" > setup-ran.txt'],
        ),
        **extra,
    }  # fmt: skip


def start(start_hive: Callable[..., LiveHive], tmp_path: Path, **extra: Any) -> LiveHive:
    repo = make_repo(tmp_path / "repo", templates(**extra))
    return start_hive([repo], service_start_grace_s=0.2)


def post_cell(hive: LiveHive, template: str, **body: Any) -> Any:
    payload = {"workspaceId": hive.workspace_id(), "templateId": template, "name": "c", **body}
    return hive.http.post("/api/cells", json=payload)


def validate(hive: LiveHive, template: str) -> Any:
    return hive.http.post(
        f"/api/templates/{template}/validate", params={"workspaceId": hive.workspace_id()}
    )


def checks_of(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["name"]: check for check in body["checks"]}


def test_the_listing_shows_description_requirements_and_options(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    hive = start(start_hive, tmp_path)
    body = hive.http.get("/api/templates", params={"workspaceId": hive.workspace_id()}).json()
    by_id = {t["id"]: t for t in body["templates"]}
    assert by_id["needy"]["description"] == "Needs a command nobody has"
    assert by_id["needy"]["requires"] == {
        "commands": ["git", MISSING],
        "files": ["README.md"],
        "env": ["APP_MODE"],
    }
    assert by_id["needy"]["options"] == {}
    option = by_id["db"]["options"]["database"]
    assert option["label"] == "Database" and option["default"] == "sqlite"
    assert option["choices"]["postgres"]["services"] == ["db"]
    # Secret-looking env values of a choice are hidden like the template's own.
    assert option["choices"]["postgres"]["env"]["DB_PASSWORD"] != "pg-secret"
    assert by_id["db"]["requires"] == {"commands": [], "files": [], "env": []}
    assert by_id["db"]["estimate"]["basis"] == "none"  # no cell of it yet


def test_a_missing_command_fails_validation_and_creation_by_name_unless_forced(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    hive = start(start_hive, tmp_path)
    response = validate(hive, "needy")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["templateId"] == "needy" and body["ok"] is False
    checks = checks_of(body)
    assert not checks[f"command:{MISSING}"]["ok"]
    assert MISSING in checks[f"command:{MISSING}"]["message"]
    assert "install it" in checks[f"command:{MISSING}"]["message"]
    passed = ("git", "cells-root", "command:git", "file:README.md", "env:APP_MODE", "agent")
    assert all(checks[name]["ok"] for name in passed), checks
    assert validate(hive, "db").json()["ok"] is True

    refused = post_cell(hive, "needy")
    assert refused.status_code == 409, refused.text
    error = refused.json()
    assert error["error"] == "ChecksFailedError" and f"command:{MISSING}" in error["message"]
    assert [c["name"] for c in error["checks"]] == [f"command:{MISSING}"]
    assert "force" in error["hint"]
    assert hive.http.get("/api/cells").json()["cells"] == []

    forced = post_cell(hive, "needy", force=True)
    assert forced.status_code == 201, forced.text
    assert hive.settle(forced.json()["id"])["status"] == "ready"


def test_env_requirements_are_checked_by_name_and_values_never_shown(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    needs = basic_template(id="env", requires={"env": ["API_TOKEN", "HIVE_TEST_UNSET_VAR"]})
    hive = start(start_hive, tmp_path, env=needs)
    response = validate(hive, "env")
    checks = checks_of(response.json())
    assert checks["env:API_TOKEN"]["ok"]
    assert not checks["env:HIVE_TEST_UNSET_VAR"]["ok"]
    assert "template's `env`" in checks["env:HIVE_TEST_UNSET_VAR"]["message"]
    assert "s3cret-value" not in response.text


def test_a_fixed_port_in_use_fails_its_check(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        fixed = basic_template(id="fixed", services={"web": {"run": "sleep 60", "port": port}})
        hive = start(start_hive, tmp_path, fixed=fixed)
        check = checks_of(validate(hive, "fixed").json())["port:web"]
        refused = post_cell(hive, "fixed")
    assert not check["ok"] and str(port) in check["message"] and "port range" in check["message"]
    assert refused.status_code == 409 and "port:web" in refused.json()["message"]


def test_a_repository_without_commits_fails_the_git_check(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    hive = start(start_hive, tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q", "-b", "main")
    (empty / "hive.config.json").write_text('{"templates": {"t": {}}}')
    added = hive.http.post("/api/workspaces", json={"path": str(empty)})
    assert added.status_code in (200, 201), added.text
    response = hive.http.post(
        "/api/templates/t/validate", params={"workspaceId": added.json()["id"]}
    )
    check = checks_of(response.json())["git"]
    assert not check["ok"] and "no commit" in check["message"]


def test_validate_refuses_unknown_and_invalid_templates(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    broken = {"options": {"database": {**DATABASE, "default": "mysql"}}}
    hive = start(start_hive, tmp_path, broken=broken)
    assert validate(hive, "ghost").status_code == 404
    invalid = validate(hive, "broken")
    assert invalid.status_code == 422
    assert "templates.broken.options.database.default" in invalid.json()["message"]
    unknown = hive.http.post("/api/templates/db/validate", params={"workspaceId": "nope"})
    assert unknown.status_code == 404


def test_unknown_option_names_and_values_are_422_naming_them(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    hive = start(start_hive, tmp_path)
    response = post_cell(hive, "db", options={"databse": "postgres", "database": "mysql"})
    assert response.status_code == 422, response.text
    message = response.json()["message"]
    assert "'databse'" in message and "'mysql'" in message and "postgres, sqlite" in message
    assert post_cell(hive, "needy", options={"x": "y"}, force=True).status_code == 422
    assert hive.http.get("/api/cells").json()["cells"] == []


def services_of(hive: LiveHive, cell_id: str) -> dict[str, str]:
    body = hive.http.get(f"/api/cells/{cell_id}/services").json()
    return {s["name"]: s["status"] for s in body["services"]}


def env_file(cell: dict[str, Any]) -> str:
    return (Path(cell["worktreePath"]) / ".hive" / "env").read_text()


def test_an_option_choice_changes_the_env_setup_and_services(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    hive = start(start_hive, tmp_path)
    created = post_cell(hive, "db", options={"database": "postgres"})
    assert created.status_code == 201, created.text
    assert created.json()["options"] == {"database": "postgres"}
    default = post_cell(hive, "db")
    assert default.json()["options"] == {"database": "sqlite"}  # the default, stored

    postgres = hive.settle(created.json()["id"])
    assert postgres["status"] == "ready", postgres["lastSetupError"]
    assert 'DATABASE_URL="postgres://localhost/app"' in env_file(postgres)
    assert "DB_PORT=" in env_file(postgres)  # a port leased for the service it turned on
    worktree = Path(postgres["worktreePath"])
    assert (worktree / "setup-ran.txt").read_text() == "postgres://localhost/app\n"
    assert (worktree / "choice-setup.txt").read_text() == "postgres://localhost/app\n"
    assert services_of(hive, postgres["id"]) == {"web": "ready", "db": "ready"}
    steps = hive.http.get(f"/api/cells/{postgres['id']}/timings").json()["steps"]
    assert {"run_setup:1", "run_setup:2"} <= {s["step"] for s in steps}
    prompt = hive.http.get(f"/api/cells/{postgres['id']}/prompt").json()["prompt"]
    assert "- Option `database` (Database): `postgres`" in prompt
    assert "pg-secret" not in prompt

    sqlite = hive.settle(default.json()["id"])
    assert sqlite["status"] == "ready", sqlite["lastSetupError"]
    assert 'DATABASE_URL="sqlite:///app.db"' in env_file(sqlite)
    assert "DB_PORT=" not in env_file(sqlite)  # none for a service left off
    assert (Path(sqlite["worktreePath"]) / "setup-ran.txt").read_text() == "sqlite:///app.db\n"
    assert not (Path(sqlite["worktreePath"]) / "choice-setup.txt").exists()
    assert services_of(hive, sqlite["id"]) == {"web": "ready", "cache": "ready"}
    # A service the options leave off cannot be started by hand either.
    off = hive.http.post(f"/api/cells/{sqlite['id']}/services/db/start")
    assert off.status_code == 409 and "off" in off.json()["message"]
