"""A workspace path or a baseRef that cannot be used is a 4xx naming the field and what
to do; git failing at its own work is a 502 naming the command and git's first line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.repos import make_repo
from tests.support.server import LiveHive


def _register(hive: LiveHive, path: str) -> tuple[int, dict[str, str]]:
    response = hive.http.post("/api/workspaces", json={"path": path})
    return response.status_code, response.json()


def _create(hive: LiveHive, **body: object) -> tuple[int, dict[str, str]]:
    payload = {"workspaceId": hive.workspace_id(), "templateId": "basic", "name": "x", **body}
    response = hive.http.post("/api/cells", json=payload)
    return response.status_code, response.json()


def _raw_post(hive: LiveHive, url: str, body: str) -> tuple[int, dict[str, str]]:
    """`body` as written: JSON escapes a client library would not send (lone surrogates)."""
    headers = {"content-type": "application/json"}
    response = hive.http.post(url, content=body.encode(), headers=headers)
    return response.status_code, response.json()


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("~\u0090\u00ee\n", "control characters"),
        ("/tmp/a\x00b", "control characters"),
        ("~no-such-user-here/repo", "'~no-such-user-here' names no home directory"),
        ("relative/repo", "is relative"),
        (" /tmp", "whitespace"),
        ("/" + "a" * 5000, "at most 4096"),
        ("/tmp/" + "a" * 300, "longer than the file system allows"),
    ],
)
def test_unusable_workspace_paths_are_422_naming_the_path(
    hive: LiveHive, path: str, says: str
) -> None:
    status, body = _register(hive, path)
    assert status == 422, body
    assert body["message"].startswith("path: ") and says in body["message"]
    assert body["hint"]


def test_paths_that_cannot_be_stated_are_422_saying_why(hive: LiveHive, tmp_path: Path) -> None:
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    file = tmp_path / "file"
    file.write_text("")
    for path, says in [
        (loop, "runs into a loop of symbolic links"),
        (loop / "repo", "runs into a loop of symbolic links"),
        (file, "is not a directory"),
        (file / "repo", "goes through a file"),
        (tmp_path / "missing", "does not exist"),
    ]:
        status, body = _register(hive, str(path))
        assert status == 422, body
        assert body["message"].startswith(f"path: {path} {says}"), body


def test_a_path_under_home_is_expanded(
    hive: LiveHive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    make_repo(tmp_path / "mine")
    status, body = _register(hive, "~/mine")
    assert status == 201, body
    assert body["path"] == str((tmp_path / "mine").resolve())


def test_lone_surrogates_are_422_naming_the_field(hive: LiveHive, repo: Path) -> None:
    status, body = _raw_post(hive, "/api/workspaces", '{"path": "/tmp/\\ud800"}')
    assert status == 422 and body["message"].startswith("invalid request: path: ")
    workspace = json.dumps({"path": str(repo)})
    status, body = _raw_post(hive, "/api/workspaces", workspace[:-1] + ', "label": "\\udc80"}')
    assert status == 422 and "label: must be Unicode text" in body["message"]
    for field in ("name", "description", "baseRef"):
        cell = {"workspaceId": hive.workspace_id(), "templateId": "basic", "name": "x"}
        cell.pop(field, None)
        text = json.dumps(cell)[:-1] + f', "{field}": "a\\ud800"}}'
        status, body = _raw_post(hive, "/api/cells", text)
        assert status == 422, body
        assert f"{field}: must be Unicode text" in body["message"]
    assert hive.http.get("/api/cells").json()["cells"] == []


@pytest.mark.parametrize(
    ("ref", "says"),
    [
        ("main\x00", "control characters"),
        ("-x", "starts with '-'"),
        ("--upload-pack=touch /tmp/owned", "starts with '-'"),
        ("main\n", "control characters"),
        ("ma\tin", "control characters"),
        ("\u0090main", "control characters"),
        (" main", "whitespace"),
        ("main ", "whitespace"),
        # git refuses it (exit 128, not "no such commit"): still the caller's ref.
        ("main@{upstream}", "no upstream configured for branch 'main'"),
        ("no-such-branch", "is not a branch, tag or commit"),
    ],
)
def test_unusable_base_refs_are_422_naming_the_base_ref(
    hive: LiveHive, ref: str, says: str
) -> None:
    status, body = _create(hive, baseRef=ref)
    assert status == 422, body
    assert body["message"].startswith(f"baseRef: {ref!r} ") and says in body["message"], body
    assert "git branch" in body["hint"]
    assert hive.http.get("/api/cells").json()["cells"] == []


def test_an_over_long_base_ref_is_422_before_git_is_asked(hive: LiveHive) -> None:
    # Past MAX_ARG_STRLEN (128 KiB) git could not even be started.
    status, body = _create(hive, baseRef="x" * 200_000)
    assert status == 422
    assert body["message"] == "invalid request: baseRef: String should have at most 4096 characters"


def test_base_refs_git_accepts_still_work(hive: LiveHive, repo: Path) -> None:
    head = hive.create("at head", baseRef="main")["baseCommit"]
    assert hive.create("by expression", baseRef="main~0")["baseCommit"] == head
    for cell in hive.http.get("/api/cells").json()["cells"]:
        assert hive.settle(cell["id"])["status"] == "ready"


def test_git_failing_on_the_repository_is_502_with_command_and_first_line(
    hive: LiveHive, repo: Path
) -> None:
    # The registered repository can no longer be read as one; its config still can.
    head = repo / ".git" / "HEAD"
    saved = head.read_text()
    head.unlink()
    try:
        # Forced: the create's own git check would refuse it first (409, tested elsewhere).
        status, body = _create(hive, baseRef="main", force=True)
    finally:
        head.write_text(saved)
    assert status == 502, body
    assert body["error"] == "GitError"
    assert body["command"].startswith("git rev-parse --verify --quiet --end-of-options 'main")
    assert body["stderr"].startswith("fatal: not a git repository")
    assert body["exitCode"] == 128
    assert hive.http.get("/api/cells").json()["cells"] == []


def test_a_service_log_name_too_long_for_a_file_is_404(hive: LiveHive) -> None:
    cell = hive.settle(hive.create()["id"])
    response = hive.http.get(f"/api/cells/{cell['id']}/services/{'x' * 300}/logs")
    assert response.status_code == 404, response.text
    assert "has no log" in response.json()["message"]


def test_registering_a_second_repository_still_works(hive: LiveHive, tmp_path: Path) -> None:
    other = make_repo(tmp_path / "other repo")
    status, body = _register(hive, str(other / "apps"))
    assert status == 201, body
    assert body["path"] == str(other.resolve())
