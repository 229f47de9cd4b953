"""GET /api/cells/{id}/prompt and `hive prompt` against a real server."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import hive_cli
from tests.support.repos import basic_template, write_config
from tests.support.server import LiveHive


def test_the_prompt_is_served_and_printed(hive: LiveHive, repo: Path) -> None:
    created = hive.create(
        "api prompt",
        description="Make the button blue",
        constraints=["leave the API alone"],
        successCriteria=["the button is blue"],
    )
    assert created["constraints"] == ["leave the API alone"]
    assert created["successCriteria"] == ["the button is blue"]
    cell = hive.settle(created["id"])
    assert cell["status"] == "ready", cell["lastSetupError"]

    body = hive.http.get(f"/api/cells/{cell['id']}/prompt").json()
    on_disk = (Path(cell["worktreePath"]) / ".hive" / "PROMPT.md").read_text()
    assert body["prompt"] == on_disk
    assert "Make the button blue" in on_disk and "- leave the API alone" in on_disk
    assert [s["path"] for s in body["sources"]] == ["hive:base", "hive:context", "hive:brief"]
    assert all(s["bytes"] > 0 for s in body["sources"]) and body["warnings"] == []

    printed = hive_cli("prompt", cell["id"][:8], hive=hive, cwd=repo)
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == on_disk


def test_unknown_cell_is_404_and_a_cell_failed_before_its_prompt_409(
    hive: LiveHive, repo: Path
) -> None:
    assert hive.http.get("/api/cells/nope/prompt").status_code == 404
    write_config(repo, {"basic": basic_template(setup=["exit 3"])})
    failed = hive.settle(hive.create("no prompt")["id"])
    assert failed["lastSetupError"]["step"] == "run_setup"
    answer = hive.http.get(f"/api/cells/{failed['id']}/prompt")
    assert answer.status_code == 409 and "no assembled prompt" in answer.json()["message"]


def test_constraints_must_be_text(hive: LiveHive) -> None:
    payload = {"workspaceId": hive.workspace_id(), "templateId": "basic", "name": "x"}
    for bad in ({"constraints": [""]}, {"successCriteria": "one"}, {"constraints": [1]}):
        answer = hive.http.post("/api/cells", json={**payload, **bad})
        assert answer.status_code == 422, (bad, answer.text)
