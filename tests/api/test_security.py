"""Local by default: foreign Host headers and cross-origin writes are refused."""

from __future__ import annotations

from tests.support.server import LiveHive


def test_foreign_host_header_is_refused(hive: LiveHive) -> None:
    response = hive.http.get("/api/workspaces", headers={"Host": "evil.example.com"})
    assert response.status_code == 403
    assert "evil.example.com" in response.json()["message"]


def test_loopback_host_names_are_accepted(hive: LiveHive) -> None:
    port = hive.url.rsplit(":", 1)[1]
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", "app.localhost"):
        assert hive.http.get("/health", headers={"Host": host}).status_code == 200


def test_cross_origin_writes_are_refused_but_same_origin_works(hive: LiveHive) -> None:
    body = {"workspaceId": hive.workspace_id(), "templateId": "basic", "name": "x"}
    refused = hive.http.post("/api/cells", json=body, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403
    assert "cross-origin" in refused.json()["message"]
    assert hive.http.get("/api/cells").json()["cells"] == []

    allowed = hive.http.post("/api/cells", json=body, headers={"Origin": hive.url})
    assert allowed.status_code == 201
    hive.settle(allowed.json()["id"])
    # reads are not state-changing: a foreign Origin may read (CORS keeps the answer hidden)
    assert hive.http.get("/health", headers={"Origin": "https://evil.example"}).status_code == 200


def test_secret_looking_env_values_are_redacted(hive: LiveHive) -> None:
    body = hive.http.get("/api/templates", params={"workspaceId": hive.workspace_id()}).json()
    [template] = body["templates"]
    assert template["env"]["APP_MODE"] == "test"
    assert template["env"]["API_TOKEN"] != "s3cret-value"
    assert "s3cret-value" not in str(body)
