"""Deletes through the real HTTP API: the snapshot in the answer, bulk deletes reported
per id, snapshot listing and pruning."""

from __future__ import annotations

from pathlib import Path

from tests.support.repos import git
from tests.support.server import LiveHive

FUTURE = "2999-01-01T00:00:00Z"


def test_the_delete_answer_says_what_was_kept_and_how_to_get_it_back(
    hive: LiveHive, repo: Path
) -> None:
    cell = hive.settle(hive.create("agent")["id"])
    assert cell["status"] == "ready"
    # The basic template's setup leaves setup-ran.txt, untracked: work to keep.
    outcome = hive.http.delete(f"/api/cells/{cell['id']}")
    assert outcome.status_code == 200, outcome.text
    snapshot = outcome.json()["snapshot"]
    ref = f"refs/hive/snapshots/{cell['id']}"
    assert snapshot["ref"] == ref
    assert (snapshot["filesChanged"], snapshot["filesAdded"]) == (0, 1)
    assert snapshot["added"] == ["setup-ran.txt"]
    assert snapshot["rescueCommand"] == f"hive rescue {cell['id']}"
    assert snapshot["gitCommand"] == f"git worktree add ../rescue {ref}"
    assert git(repo, "show", f"{ref}:setup-ran.txt") == "setup for agent"


def test_bulk_delete_reports_each_id(hive: LiveHive) -> None:
    first, second = (hive.settle(hive.create(name)["id"]) for name in ("one", "two"))
    unknown = "0" * 32
    response = hive.http.request(
        "DELETE", "/api/cells", json={"ids": [first["id"], unknown, second["id"]]}
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [(r["id"], r["ok"]) for r in results] == [
        (first["id"], True),
        (unknown, False),
        (second["id"], True),
    ]
    assert results[0]["snapshot"]["ref"] == f"refs/hive/snapshots/{first['id']}"
    assert results[1]["error"]["status"] == 404 and results[1]["deleted"] is False
    assert hive.http.get("/api/cells").json()["cells"] == []


def test_bulk_delete_needs_ids(hive: LiveHive) -> None:
    assert hive.http.request("DELETE", "/api/cells", json={"ids": []}).status_code == 422
    assert hive.http.request("DELETE", "/api/cells", json={}).status_code == 422


def test_snapshots_are_listed_then_pruned_only_when_old_enough(hive: LiveHive, repo: Path) -> None:
    cell = hive.settle(hive.create("kept")["id"])
    hive.http.delete(f"/api/cells/{cell['id']}")
    ref = f"refs/hive/snapshots/{cell['id']}"

    young = hive.http.get("/api/snapshots", params={"olderThan": "30d"}).json()
    assert young == {"snapshots": [], "deleted": False}
    listed = hive.http.get("/api/snapshots", params={"olderThan": FUTURE}).json()
    assert [(s["cellId"], s["ref"]) for s in listed["snapshots"]] == [(cell["id"], ref)]
    assert git(repo, "for-each-ref", "--format=%(refname)", "refs/hive") == ref  # dry run

    kept = hive.http.delete("/api/snapshots", params={"olderThan": "30d"}).json()
    assert kept["snapshots"] == [] and git(repo, "for-each-ref", "refs/hive") != ""
    pruned = hive.http.delete("/api/snapshots", params={"olderThan": FUTURE}).json()
    assert pruned["deleted"] is True and len(pruned["snapshots"]) == 1
    assert git(repo, "for-each-ref", "refs/hive") == ""


def test_an_unusable_age_is_a_422(hive: LiveHive) -> None:
    response = hive.http.get("/api/snapshots", params={"olderThan": "soon"})
    assert response.status_code == 422
    assert "olderThan" in response.json()["message"]
