"""Bad input gets a clear 4xx that names what is wrong, and leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.repos import basic_template, make_repo, write_config
from tests.support.server import LiveHive


def _create(hive: LiveHive, **body: object) -> tuple[int, dict[str, object]]:
    payload = {"workspaceId": hive.workspace_id(), "templateId": "basic", "name": "x", **body}
    response = hive.http.post("/api/cells", json=payload)
    return response.status_code, response.json()


def _no_cells(hive: LiveHive) -> bool:
    return hive.http.get("/api/cells").json()["cells"] == []


def test_unknown_workspace_is_named(hive: LiveHive) -> None:
    status, body = _create(hive, workspaceId="nope")
    assert status == 404
    assert "'nope'" in str(body["message"])
    assert _no_cells(hive)


def test_unknown_template_is_named_with_the_known_ones(hive: LiveHive) -> None:
    status, body = _create(hive, templateId="rocket")
    assert status == 404
    assert "'rocket'" in str(body["message"]) and "basic" in str(body["hint"])
    assert _no_cells(hive)


def test_unknown_base_ref_is_named(hive: LiveHive) -> None:
    status, body = _create(hive, baseRef="no-such-branch")
    assert status == 422
    assert "'no-such-branch'" in str(body["message"])
    status, body = _create(hive, baseRef="--upload-pack=evil")
    assert status == 422
    assert _no_cells(hive)


@pytest.mark.parametrize("name", ["", "   ", "line\nbreak", "x" * 121])
def test_unusable_names_are_refused(hive: LiveHive, name: str) -> None:
    status, body = _create(hive, name=name)
    assert status == 422
    assert str(body["message"]).startswith("name")


def test_a_name_never_places_the_worktree_outside_the_cells_root(hive: LiveHive) -> None:
    for name in ("../../x", "/etc/passwd", "..", "a/../../b"):
        cell = hive.settle(hive.create(name)["id"])
        assert cell["status"] == "ready"
        assert Path(cell["workspacePath"]).parent == hive.settings.worktrees_root
        assert cell["name"] == name


def test_malformed_requests_are_422_not_500(hive: LiveHive) -> None:
    response = hive.http.post(
        "/api/cells", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    status, body = _create(hive, colour="blue")
    assert status == 422 and "colour" in str(body["message"])
    response = hive.http.post("/api/cells", json={"templateId": "basic"})
    assert response.status_code == 422 and "workspaceId" in response.json()["message"]


def test_invalid_template_is_listed_with_the_path_of_the_bad_field(
    hive: LiveHive, repo: Path
) -> None:
    broken = basic_template(
        services={"api": {"type": "process", "run": "serve", "readyTimeoutMs": "soon"}}
    )
    write_config(repo, {"basic": basic_template(), "broken": broken})
    body = hive.http.get("/api/templates", params={"workspaceId": hive.workspace_id()}).json()
    by_id = {t["id"]: t for t in body["templates"]}
    assert by_id["basic"]["valid"] is True
    assert by_id["broken"]["valid"] is False
    assert by_id["broken"]["errors"][0]["path"] == "templates.broken.services.api.readyTimeoutMs"

    status, message = _create(hive, templateId="broken")
    assert status == 422 and "readyTimeoutMs" in str(message["message"])
    assert hive.settle(hive.create("still fine")["id"])["status"] == "ready"


def test_invalid_json_names_file_line_and_column(hive: LiveHive, repo: Path) -> None:
    (repo / "hive.config.json").write_text('{\n  "templates": {\n    "basic": {,}\n  }\n}\n')
    response = hive.http.get("/api/templates", params={"workspaceId": hive.workspace_id()})
    assert response.status_code == 422
    body = response.json()
    assert body["file"].endswith("hive.config.json")
    assert body["line"] == 3
    assert "hive.config.json:3:" in body["message"]
    status, _ = _create(hive)
    assert status == 422
    assert _no_cells(hive)


def test_workspace_registration_refuses_what_is_not_a_repository(
    hive: LiveHive, tmp_path: Path
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    response = hive.http.post("/api/workspaces", json={"path": str(plain)})
    assert response.status_code == 422
    assert str(plain) in response.json()["message"]

    missing = hive.http.post("/api/workspaces", json={"path": str(tmp_path / "missing")})
    assert missing.status_code == 422

    bare = make_repo(tmp_path / "noconfig")
    (bare / "hive.config.json").unlink()
    response = hive.http.post("/api/workspaces", json={"path": str(bare)})
    assert response.status_code == 422
    assert "hive.config.json" in response.json()["message"]


def test_registering_a_workspace_twice_returns_the_same_one(hive: LiveHive, tmp_path: Path) -> None:
    other = make_repo(tmp_path / "other")
    first = hive.http.post("/api/workspaces", json={"path": str(other), "label": "Other"})
    assert first.status_code == 201
    again = hive.http.post("/api/workspaces", json={"path": str(other / "apps")})
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    labels = {w["label"] for w in hive.http.get("/api/workspaces").json()["workspaces"]}
    assert labels == {"repo", "Other"}


def test_unknown_cell_is_404_with_a_hint(hive: LiveHive) -> None:
    for method in ("GET", "DELETE"):
        response = hive.http.request(method, "/api/cells/does-not-exist")
        assert response.status_code == 404
        assert "does-not-exist" in response.json()["message"]
        assert response.json()["hint"]
