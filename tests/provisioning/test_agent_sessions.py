"""Cells with real agents, end to end through the API: a real Hive server, the real
`opencode serve` with the fake model, real tmux for command agents."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from pydantic import SecretStr

from hive.agents.opencode_server import OpenCodeServer
from tests.support.cli import hive_cli
from tests.support.fake_llm import MODEL_ID, FakeLLM, Hang, ToolCall
from tests.support.opencode import PROVIDER_ID, config_content, opencode_binary
from tests.support.repos import basic_template, make_repo
from tests.support.server import LiveHive
from tests.support.sse import events

FAKE_MODEL = {"providerId": PROVIDER_ID, "id": MODEL_ID}


def wait_until(
    hive: LiveHive, cell_id: str, predicate: Callable[[dict[str, Any]], bool], timeout: float = 60
) -> dict[str, Any]:
    return hive.wait_for(cell_id, predicate, timeout)


def agent_status(wanted: str) -> Callable[[dict[str, Any]], bool]:
    return lambda cell: (cell.get("agent") or {}).get("status") == wanted


def assert_ends(pid: int) -> None:
    """The process ends (a KILL lands a moment after it is sent) and is reaped if ours."""
    try:
        process = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    _, alive = psutil.wait_procs([process], timeout=15)
    assert not alive, f"pid {pid} still runs"


def sessions_of(server: OpenCodeServer, directory: str) -> set[str]:
    auth = ("opencode", server.spec.password or "")
    headers = {"x-opencode-directory": directory}
    answer = httpx.get(f"{server.url}/session", auth=auth, headers=headers, timeout=10)
    answer.raise_for_status()
    return {s["id"] for s in answer.json()}


@pytest.fixture
def agent_repo(tmp_path: Path) -> Path:
    return make_repo(
        tmp_path / "repo",
        {
            "agent": basic_template(id="agent", agent={"model": FAKE_MODEL}),
            "plain": basic_template(id="plain"),
            "bare": basic_template(id="bare", agent={"type": "none"}),
            "script": basic_template(
                id="script",
                agent={
                    "type": "command",
                    "run": 'cat .hive/PROMPT.md > seen-prompt.txt; echo "$APP_MODE" > seen-env.txt;'
                    " exec sleep 600",
                },
            ),
            "quick": basic_template(id="quick", agent={"type": "command", "run": "exit 3"}),
        },
    )


@pytest.fixture
def on_opencode(
    start_hive: Callable[..., LiveHive],
    agent_repo: Path,
    opencode_server: OpenCodeServer,
    fake_llm: FakeLLM,
) -> Iterator[LiveHive]:
    """A Hive using the session's OpenCode server by URL."""
    fake_llm.script()
    yield start_hive(
        [agent_repo],
        opencode_url=opencode_server.url,
        opencode_password=SecretStr(opencode_server.spec.password or ""),
    )
    fake_llm.script()


@pytest.fixture
def own_opencode(
    fake_llm: FakeLLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """Settings for a Hive that starts its own OpenCode, the fake model its provider."""
    binary = opencode_binary()
    if binary is None:
        pytest.skip("no OpenCode binary: `make opencode` installs it (needs npm)")
    monkeypatch.setenv("OPENCODE_CONFIG_CONTENT", config_content(fake_llm.base_url))
    monkeypatch.setenv("OPENCODE_DISABLE_MODELS_FETCH", "1")
    fake_llm.script()
    return {"opencode_bin": str(binary), "opencode_home": tmp_path / "opencode-home"}


def test_the_first_prompt_reaches_a_real_agent_which_writes_in_the_worktree(
    start_hive: Callable[..., LiveHive],
    agent_repo: Path,
    fake_llm: FakeLLM,
    own_opencode: dict[str, Any],
) -> None:
    hive = start_hive([agent_repo], **own_opencode)
    created = hive.create("writer", template="agent", description="write done.txt: unique-brief")
    # Scripted before the run gets to the agent (after a checkout, setup, OpenCode's start).
    target = Path(created["worktreePath"], "done.txt")
    fake_llm.script(ToolCall("write", {"filePath": str(target), "content": "written\n"}))
    cell = hive.settle(created["id"], timeout=120)
    assert cell["status"] == "ready", cell["lastSetupError"]
    worktree = Path(cell["worktreePath"])

    cell = wait_until(hive, cell["id"], agent_status("idle"))
    assert (worktree / "done.txt").read_text() == "written\n"
    agent = hive.http.get(f"/api/cells/{cell['id']}/agent").json()
    assert agent["type"] == "opencode" and agent["status"] == "idle"
    assert agent["model"] == {"providerId": PROVIDER_ID, "modelId": MODEL_ID, "variant": None}
    assert f"--session {agent['sessionId']}" in agent["attach"]
    assert "OPENCODE_SERVER_PASSWORD=" in agent["attach"] and "password" in agent["attach"]
    # The assembled prompt was the first message, and OpenCode read the instructions file.
    user_texts = [
        json.dumps(m)
        for body in fake_llm.requests
        for m in body.get("messages", [])
        if m.get("role") == "user"
    ]
    assert any("unique-brief" in text and "Runtime context" in text for text in user_texts)
    system = [
        json.dumps(m)
        for b in fake_llm.requests
        for m in b.get("messages", [])
        if m["role"] == "system"
    ]
    assert any(".hive/instructions.md" in text for text in system)
    health = hive.http.get("/health").json()["opencode"]
    assert health["running"] and health["managed"] and "password" not in json.dumps(health)
    server_pid = health["pid"]

    # Delete closes the session; the server Hive started goes with Hive when unused.
    session_id = agent["sessionId"]
    url = health["url"]
    assert hive.http.delete(f"/api/cells/{cell['id']}").status_code == 200
    password = (hive.settings.hive_home / "opencode" / "password").read_text().strip()
    listed = httpx.get(
        f"{url}/session",
        auth=("opencode", password),
        headers={"x-opencode-directory": str(worktree)},
        timeout=10,
    ).json()
    assert session_id not in {s["id"] for s in listed}
    hive.stop()
    assert_ends(server_pid)


def test_a_model_the_agent_does_not_offer_fails_the_cell_naming_it(on_opencode: LiveHive) -> None:
    created = on_opencode.create("nope", template="agent", modelId="no-such-model")
    cell = on_opencode.settle(created["id"])
    assert cell["status"] == "error"
    failure = cell["lastSetupError"]
    assert failure["step"] == "ensure_agent_session" and failure["kind"] == "agent"
    assert "fake/no-such-model" in failure["message"]
    assert "available: " in failure["message"]
    assert f"{PROVIDER_ID}: {MODEL_ID}" in failure["message"]


def test_a_model_for_a_template_without_an_agent_is_refused_at_once(
    on_opencode: LiveHive,
) -> None:
    body = {
        "workspaceId": on_opencode.workspace_id(),
        "templateId": "bare",
        "name": "x",
        "providerId": "fake",
        "modelId": "fake-model",
    }
    answer = on_opencode.http.post("/api/cells", json=body)
    assert answer.status_code == 422
    assert "model fake/fake-model cannot be used" in answer.json()["message"]
    assert on_opencode.http.get("/api/cells").json()["cells"] == []


def test_without_a_brief_the_session_is_seeded_and_messages_start_turns(
    on_opencode: LiveHive, opencode_server: OpenCodeServer, fake_llm: FakeLLM, agent_repo: Path
) -> None:
    # The template names no agent: the workspace default is OpenCode, on its default model.
    turns = len([body for body in fake_llm.requests if body.get("tools")])
    created = on_opencode.create("seeded", template="plain")
    cell = on_opencode.settle(created["id"])
    assert cell["status"] == "ready", cell["lastSetupError"]
    agent = cell["agent"]
    assert agent["type"] == "opencode" and agent["status"] == "idle" and agent["warning"] is None
    assert agent["sessionId"] in sessions_of(opencode_server, cell["worktreePath"])
    assert len([body for body in fake_llm.requests if body.get("tools")]) == turns  # no turn

    said_file = Path(cell["worktreePath"], "said.txt")
    fake_llm.script(ToolCall("write", {"filePath": str(said_file), "content": "hi\n"}))
    said = hive_cli("say", cell["id"][:12], "write said.txt", cwd=agent_repo, hive=on_opencode)
    assert said.returncode == 0, said.stderr
    wait_until(on_opencode, cell["id"], agent_status("idle"))
    assert said_file.read_text() == "hi\n"

    models = on_opencode.http.get(
        "/api/agents/models", params={"workspaceId": on_opencode.workspace_id()}
    ).json()
    assert models["available"] is True
    offered = {p["id"]: p["models"] for p in models["providers"]}
    assert offered[PROVIDER_ID] == [MODEL_ID]
    listed = hive_cli("models", cwd=agent_repo, hive=on_opencode)
    assert listed.returncode == 0, listed.stderr
    assert any(
        line.split() == [PROVIDER_ID, MODEL_ID, "yes"] for line in listed.stdout.splitlines()
    )


def test_archive_keeps_the_session_and_restore_finds_it_without_prompting_again(
    on_opencode: LiveHive, fake_llm: FakeLLM
) -> None:
    created = on_opencode.create("kept", template="agent", description="say hello")
    cell = on_opencode.settle(created["id"])
    cell = wait_until(on_opencode, cell["id"], agent_status("idle"))
    session_id = cell["agent"]["sessionId"]
    turns = len([b for b in fake_llm.requests if b.get("tools")])

    assert on_opencode.http.post(f"/api/cells/{cell['id']}/archive").status_code == 200
    archived = on_opencode.cell(cell["id"])
    assert archived["agent"]["status"] == "stopped"
    assert on_opencode.http.post(f"/api/cells/{cell['id']}/restore").status_code == 202
    restored = on_opencode.settle(cell["id"])
    assert restored["status"] == "ready"
    assert restored["agent"]["sessionId"] == session_id
    assert restored["agent"]["status"] == "idle"
    assert len([b for b in fake_llm.requests if b.get("tools")]) == turns


def test_without_opencode_a_template_without_agent_gets_none_with_a_warning(
    hive: LiveHive,
) -> None:
    cell = hive.settle(hive.create("plain")["id"])
    assert cell["status"] == "ready"
    assert cell["agent"]["type"] == "none"
    assert "OpenCode is turned off" in cell["agent"]["warning"]
    timings = hive.http.get(f"/api/cells/{cell['id']}/timings").json()["steps"]
    [step] = [t for t in timings if t["step"] == "ensure_agent_session"]
    assert "OpenCode is turned off" in step["metadata"]["warnings"][0]
    answer = hive.http.post(f"/api/cells/{cell['id']}/agent/message", json={"text": "hi"})
    assert answer.status_code == 409


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_a_command_agent_runs_in_tmux_with_the_prompt_and_delete_ends_it(
    start_hive: Callable[..., LiveHive], agent_repo: Path
) -> None:
    hive = start_hive([agent_repo])
    created = hive.create("scripted", template="script", description="task: unique-brief")
    cell = hive.settle(created["id"])
    assert cell["status"] == "ready", cell["lastSetupError"]
    worktree = Path(cell["worktreePath"])
    deadline = time.monotonic() + 30
    while not (worktree / "seen-env.txt").exists():
        assert time.monotonic() < deadline, "the command agent never ran"
        time.sleep(0.05)
    assert "unique-brief" in (worktree / "seen-prompt.txt").read_text()
    assert (worktree / "seen-env.txt").read_text() == "test\n"
    agent = cell["agent"]
    assert agent["type"] == "command" and agent["status"] == "working"
    attach = hive_cli("attach", cell["id"][:12], "--print", cwd=agent_repo, hive=hive)
    assert attach.returncode == 0, attach.stderr
    assert attach.stdout.strip() == agent["attach"]
    assert "tmux -S" in agent["attach"] and "attach -t" in agent["attach"]
    sleepers = [
        p
        for p in psutil.process_iter(["cmdline", "cwd"])
        if p.info["cmdline"] == ["sleep", "600"] and p.info["cwd"] == str(worktree)
    ]
    assert len(sleepers) == 1

    assert hive.http.delete(f"/api/cells/{cell['id']}").status_code == 200
    psutil.wait_procs(sleepers, timeout=10)
    assert not sleepers[0].is_running()


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_a_command_agent_that_ends_is_stopped_with_its_exit_code(
    start_hive: Callable[..., LiveHive], agent_repo: Path
) -> None:
    hive = start_hive([agent_repo])
    cell = hive.settle(hive.create("quick", template="quick")["id"])
    assert cell["status"] == "ready"
    cell = wait_until(hive, cell["id"], agent_status("stopped"))
    assert cell["agent"]["exitCode"] == 3
    # A list view learns it from the workspace stream (replayed from the start here).
    path = f"/api/workspaces/{hive.workspace_id()}/stream"
    with hive.http.stream("GET", path, params={"after": 0}) as stream:
        for event in events(stream):
            agent = event.data.get("agent") if event.event == "cell" else None
            if agent and agent.get("status") == "stopped":
                assert agent["exitCode"] == 3
                break
    listed = hive_cli("ls", cwd=agent_repo, hive=hive)
    assert "stopped (3)" in listed.stdout
    assert Path(cell["worktreePath"]).exists()


def test_a_restarted_hive_adopts_its_opencode_and_still_follows_the_sessions(
    start_hive: Callable[..., LiveHive],
    agent_repo: Path,
    fake_llm: FakeLLM,
    own_opencode: dict[str, Any],
) -> None:
    first = start_hive([agent_repo], **own_opencode)
    cell = first.settle(first.create("long lived", template="agent")["id"], timeout=120)
    assert cell["status"] == "ready", cell["lastSetupError"]
    # A turn still running when the server stops: the next server sees it end.
    fake_llm.script(Hang())
    sent = first.http.post(f"/api/cells/{cell['id']}/agent/message", json={"text": "go"})
    assert sent.status_code == 202, sent.text
    assert fake_llm.wait_hanging()
    wait_until(first, cell["id"], agent_status("working"))
    pid = first.http.get("/health").json()["opencode"]["pid"]
    first.stop()  # a session lives in it: the server stays for the next Hive
    assert psutil.pid_exists(pid)

    second = start_hive([agent_repo], **own_opencode)
    assert second.http.get("/health").json()["opencode"]["pid"] == pid
    assert agent_status("working")(second.cell(cell["id"]))
    fake_llm.release()
    wait_until(second, cell["id"], agent_status("idle"))
    assert second.http.delete(f"/api/cells/{cell['id']}").status_code == 200
    second.stop()  # no session left: it stops the server
    assert_ends(pid)
