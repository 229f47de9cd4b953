"""The `hive` CLI as a user runs it: a real process talking to a real server."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.support.cli import cli_env, hive_cli
from tests.support.repos import basic_template, make_repo, write_config
from tests.support.server import LiveHive


def test_new_follows_the_cell_to_ready_then_ls_show_timings_rm(hive: LiveHive, repo: Path) -> None:
    created = hive_cli("new", "basic", "CLI cell", "--brief", "do things", hive=hive, cwd=repo)
    assert created.returncode == 0, created.stderr
    assert "create_worktree:git_add" in created.stdout
    assert "ready" in created.stdout
    [cell] = hive.http.get("/api/cells").json()["cells"]
    assert cell["status"] == "ready" and cell["description"] == "do things"

    listed = hive_cli("ls", hive=hive, cwd=repo)
    assert cell["id"][:12] in listed.stdout and "CLI cell" in listed.stdout
    assert cell["branchName"] in listed.stdout
    assert re.search(r"just now|\d+ min ago", listed.stdout), listed.stdout

    shown = hive_cli("show", cell["id"][:8], hive=hive, cwd=repo)
    assert shown.returncode == 0 and cell["workspacePath"] in shown.stdout
    as_json = hive_cli("show", cell["id"], "--json", hive=hive, cwd=repo)
    assert json.loads(as_json.stdout)["id"] == cell["id"]

    timings = hive_cli("timings", cell["id"][:8], hive=hive, cwd=repo)
    assert "run_setup:1" in timings.stdout and "create run" in timings.stdout

    removed = hive_cli("rm", cell["id"][:8], hive=hive, cwd=repo)
    assert removed.returncode == 0, removed.stderr
    assert "deleted (no new commits)" in removed.stdout
    assert hive.http.get("/api/cells").json()["cells"] == []


def test_templates_lists_valid_and_invalid_ones(hive: LiveHive, repo: Path) -> None:
    broken = basic_template(services={"api": {"run": "serve", "readyTimeoutMs": "soon"}})
    write_config(repo, {"basic": basic_template(), "broken": broken})
    out = hive_cli("templates", hive=hive, cwd=repo)
    assert out.returncode == 0, out.stderr
    assert "basic" in out.stdout and "yes" in out.stdout
    assert "broken" in out.stdout and "no" in out.stdout
    assert "templates.broken.services.api.readyTimeoutMs" in out.stdout


def test_unknown_keys_are_warnings_in_the_api_and_in_templates(hive: LiveHive, repo: Path) -> None:
    # Keys a newer (or older) Hive writes: the template stays valid and usable.
    future = basic_template(
        services={"api": {"run": "true", "oneshot": True, "healthcheck": {"path": "/"}}},
        sandbox=True,
    )
    broken = basic_template(setup="npm ci", sandbox=True)
    write_config(repo, {"future": future, "broken": broken}, colour="blue")

    body = hive.http.get("/api/templates", params={"workspaceId": hive.workspace_id()}).json()
    by_id = {t["id"]: t for t in body["templates"]}
    assert by_id["future"]["valid"] is True and "errors" not in by_id["future"]
    assert [w["path"] for w in by_id["future"]["warnings"]] == [
        "templates.future.services.api.healthcheck",
        "templates.future.sandbox",
    ]
    assert by_id["broken"]["valid"] is False
    assert [e["path"] for e in by_id["broken"]["errors"]] == ["templates.broken.setup"]
    assert [w["path"] for w in by_id["broken"]["warnings"]] == ["templates.broken.sandbox"]
    assert body["warnings"] == [{"path": "colour", "message": "unknown key, ignored"}]
    assert body["errors"] == []

    out = hive_cli("templates", hive=hive, cwd=repo)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[2].split()[:4] == ["broken", "Basic", "no", "-"]  # SETUP: not a list
    assert "error broken: templates.broken.setup: Input should be a list" in out.stdout
    for line in (
        "warning future: templates.future.services.api.healthcheck: unknown key, ignored",
        "warning broken: templates.broken.sandbox: unknown key, ignored",
        "warning config: colour: unknown key, ignored",
    ):
        assert line in lines

    assert hive.settle(hive.create("from the future", template="future")["id"])["status"] == "ready"


def test_failed_setup_exits_1_with_the_error_and_what_to_do(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"basic": basic_template(setup=["exit 3"])})
    hive = start_hive([repo])
    out = hive_cli("new", "basic", "doomed", hive=hive, cwd=repo)
    assert out.returncode == 1
    assert "failed at run_setup" in out.stdout
    assert "exit code 3" in out.stdout
    assert "hive retry" in out.stdout


def test_a_repository_you_stand_in_is_registered_on_first_use(
    hive: LiveHive, tmp_path: Path
) -> None:
    other = make_repo(tmp_path / "other")
    out = hive_cli("new", "basic", "elsewhere", hive=hive, cwd=other / "apps")
    assert out.returncode == 0, out.stderr
    paths = {w["path"] for w in hive.http.get("/api/workspaces").json()["workspaces"]}
    assert str(other) in paths


def test_unknown_template_is_reported_without_a_traceback(hive: LiveHive, repo: Path) -> None:
    out = hive_cli("new", "nope", "x", hive=hive, cwd=repo)
    assert out.returncode == 1
    assert "template 'nope' is not defined" in out.stderr
    assert "Traceback" not in out.stderr


def test_no_server_says_how_to_start_one(tmp_path: Path) -> None:
    out = hive_cli("ls", url="http://127.0.0.1:9", cwd=tmp_path)
    assert out.returncode == 1
    assert "no Hive server is answering" in out.stderr
    assert "hive serve" in out.stderr


def test_config_schema_prints_a_json_schema(tmp_path: Path) -> None:
    out = hive_cli("config", "schema", url="http://127.0.0.1:9", cwd=tmp_path)
    schema = json.loads(out.stdout)
    assert "templates" in schema["properties"]


def test_services_logs_and_restart_from_the_cli(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    from tests.api.test_services import repo_with, two_services

    repo = repo_with(tmp_path, two_services())
    hive = start_hive([repo])
    cell = hive.settle(hive.create("cli services")["id"])
    short = cell["id"][:8]

    listed = hive_cli("services", short, hive=hive, cwd=repo)
    assert listed.returncode == 0, listed.stderr
    assert "db" in listed.stdout and "api" in listed.stdout and "ready" in listed.stdout

    logs = hive_cli("logs", short, "api", hive=hive, cwd=repo)
    assert "api listening on" in logs.stdout

    restarted = hive_cli("restart", short, "api", hive=hive, cwd=repo)
    assert restarted.returncode == 0, restarted.stderr
    assert "ready" in restarted.stdout and "http://127.0.0.1:" in restarted.stdout

    follow = subprocess.Popen(
        [sys.executable, "-m", "hive", "logs", short, "api", "-f", "-n", "1"],
        env=cli_env(hive),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert follow.stdout is not None
        first = follow.stdout.readline()
        assert "api listening on" in first
        hive.http.post(f"/api/cells/{cell['id']}/services/api/restart")
        seen = [follow.stdout.readline() for _ in range(2)]
        assert any("api listening on" in line or "[hive] started" in line for line in seen)
    finally:
        follow.terminate()
        follow.wait(timeout=10)
        if follow.stdout:
            follow.stdout.close()
    hive.http.delete(f"/api/cells/{cell['id']}")


def test_cancel_discard_removes_the_worktree(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"basic": basic_template(setup=["exec sleep 60"])})
    hive = start_hive([repo])
    cell = hive.create("unwanted")
    hive.wait_for(cell["id"], lambda c: (c.get("progress") or {}).get("step") == "run_setup:1")
    done = hive_cli("cancel", cell["id"][:8], "--discard", cwd=repo, hive=hive)
    assert done.returncode == 0, done.stderr
    assert "worktree discarded" in done.stdout
    assert not Path(cell["worktreePath"]).exists()
