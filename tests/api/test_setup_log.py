"""A cell's setup log through a real server: the whole log with every attempt marked,
and the live stream of it (output of a command still running, exact resumption after
Last-Event-ID, the end once the cell settles, the token)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.repos import basic_template, make_repo
from tests.support.server import LiveHive
from tests.support.sse import Event, events

# Prints, then waits for a file the test makes: "second" cannot come before the test says.
WAIT = 'while [ ! -f "$HIVE_CELL_PATH.go" ]; do sleep 0.02; done'
HELD = f"echo first; {WAIT}; echo second"


@pytest.fixture
def held_hive(start_hive: Callable[..., LiveHive], tmp_path: Path) -> LiveHive:
    template = basic_template(setup=["echo before", HELD])
    return start_hive([make_repo(tmp_path / "repo", {"basic": template})])


def client(hive: LiveHive, **headers: str) -> httpx.Client:
    return httpx.Client(base_url=hive.url, headers={**hive.http.headers, **headers}, timeout=30)


def release(hive: LiveHive, cell: dict[str, Any]) -> None:
    Path(hive.cell(cell["id"])["worktreePath"] + ".go").touch()


def text_until(stream: Iterator[Event], needle: str) -> tuple[str, list[Event]]:
    """Read `log` events until their text holds `needle`."""
    seen: list[Event] = []
    for event in stream:
        seen.append(event)
        if needle in joined(seen):
            return joined(seen), seen
    raise AssertionError(f"the stream ended without {needle!r}: {joined(seen)!r}")


def joined(seen: list[Event]) -> str:
    return "".join(e.data["text"] for e in seen if e.event == "log")


def whole_log(hive: LiveHive, cell_id: str) -> str:
    response = hive.http.get(f"/api/cells/{cell_id}/setup-log")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def test_the_whole_log_has_every_command_of_every_attempt_marked(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    flaky = 'test -f fixed.txt || { echo "registry down"; exit 3; }'
    template = basic_template(setup=["echo preparing", flaky, "echo done"])
    hive = start_hive([make_repo(tmp_path / "repo", {"basic": template})])
    cell = hive.settle(hive.create("flaky")["id"])
    assert cell["status"] == "error"
    (Path(cell["worktreePath"]) / "fixed.txt").touch()
    assert hive.http.post(f"/api/cells/{cell['id']}/retry").status_code == 202
    assert hive.settle(cell["id"])["status"] == "ready"

    log = whole_log(hive, cell["id"])
    runs = hive.http.get(f"/api/cells/{cell['id']}/timings").json()["runs"]
    attempts = re.split(r"^(?=\[hive\] attempt )", log, flags=re.MULTILINE)[1:]
    assert len(attempts) == 2, log
    for number, (attempt, run) in enumerate(zip(attempts, runs, strict=True), start=1):
        head = attempt.splitlines()[0]
        assert head.startswith(f"[hive] attempt {number} · run {run['runId']} · 20"), head
        assert head.endswith("· 3 setup commands")
    first, second = (a.splitlines()[1:] for a in attempts)
    assert first == [
        "[hive] setup 1/3", "$ echo preparing", "preparing", "[hive] exit code 0",
        "[hive] setup 2/3", f"$ {flaky}", "registry down", "[hive] exit code 3",
    ]  # fmt: skip
    assert second == [
        "[hive] setup 1/3", "$ echo preparing", "preparing", "[hive] exit code 0",
        "[hive] setup 2/3", f"$ {flaky}", "[hive] exit code 0",
        "[hive] setup 3/3", "$ echo done", "done", "[hive] exit code 0",
    ]  # fmt: skip
    assert "s3cret-value" not in log, "Hive's own lines print no environment value"

    tail = hive.http.get(f"/api/cells/{cell['id']}/setup-log", params={"tail": 2})
    assert tail.text == "done\n[hive] exit code 0\n"
    assert int(tail.headers["hive-log-end"]) == len(log.encode())


def test_no_log_yet_is_empty_and_an_unknown_cell_is_a_404(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    hive = start_hive([make_repo(tmp_path / "repo", {"basic": basic_template(setup=[])})])
    cell = hive.settle(hive.create("no setup")["id"])
    response = hive.http.get(f"/api/cells/{cell['id']}/setup-log")
    assert response.status_code == 200 and response.text == ""
    assert response.headers["hive-log-end"] == "0"
    with client(hive) as http, http.stream("GET", f"/api/cells/{cell['id']}/setup-log/stream") as r:
        assert [(e.event, e.data) for e in events(r)] == [("end", {"status": "ready"})]

    for path in ("/api/cells/nope/setup-log", "/api/cells/nope/setup-log/stream"):
        missing = hive.http.get(path)
        assert missing.status_code == 404
        assert "nope" in missing.json()["message"]


def test_the_stream_sends_output_of_a_command_still_running_then_ends(
    held_hive: LiveHive,
) -> None:
    hive = held_hive
    cell = hive.create("watched")
    with client(hive) as http, http.stream("GET", f"/api/cells/{cell['id']}/setup-log/stream") as r:
        assert r.status_code == 200
        stream = events(r)
        early, seen = text_until(stream, "\nfirst\n")
        # Seen live: the command is still waiting for the file only the test makes.
        assert "\nsecond\n" not in early
        assert hive.cell(cell["id"])["status"] == "spawning"
        release(hive, cell)
        seen += list(stream)  # returns only because the server ends the stream
    assert seen[-1].event == "end" and seen[-1].data == {"status": "ready"}
    ids = [e.id for e in seen[:-1]]
    assert all(i is not None for i in ids)
    assert ids == sorted({i for i in ids if i is not None}), "offsets strictly increase"
    log = whole_log(hive, cell["id"])
    assert joined(seen) == log
    assert "first\nsecond\n[hive] exit code 0\n" in log
    assert seen[-1].id == len(log.encode()), "ids are byte offsets"


def test_a_reconnect_gets_exactly_the_rest(held_hive: LiveHive) -> None:
    hive = held_hive
    cell = hive.create("interrupted viewer")
    path = f"/api/cells/{cell['id']}/setup-log/stream"
    with client(hive) as http, http.stream("GET", path) as r:
        early, seen = text_until(events(r), "first\n")
    last = seen[-1].id
    release(hive, cell)  # the rest is written while the viewer is away
    hive.settle(cell["id"])
    log = whole_log(hive, cell["id"])
    with client(hive, **{"Last-Event-ID": str(last)}) as http, http.stream("GET", path) as r:
        resumed = list(events(r))
    assert early + joined(resumed) == log
    with client(hive) as http, http.stream("GET", path, params={"after": last}) as r:
        assert joined(list(events(r))) == joined(resumed)


def test_a_split_character_is_never_cut_in_two(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    # "é" is two bytes; the command writes the first, waits, then the second. (Whether
    # the server read the first byte alone is up to its polling: tests/services/
    # test_log_chunks.py holds the rule exactly; this is the whole way through.)
    split = rf"printf '\303'; {WAIT}; printf '\251\n'"
    template = basic_template(setup=[f"echo first; {split}"])
    hive = start_hive([make_repo(tmp_path / "repo", {"basic": template})])
    cell = hive.create("accented")
    path = f"/api/cells/{cell['id']}/setup-log/stream"
    on_disk = hive.settings.logs_root / cell["id"] / "setup.log"
    with client(hive) as http, http.stream("GET", path) as r:
        stream = events(r)
        _, seen = text_until(stream, "first\n")
        wait_until(lambda: on_disk.read_bytes().endswith(b"first\n\303"))
        release(hive, cell)
        seen += list(stream)
    assert "first\n\u00e9\n[hive] exit code 0" in joined(seen)
    assert "\ufffd" not in joined(seen)


def wait_until(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "never came true"
        time.sleep(0.01)


def test_the_log_and_its_stream_need_the_token(hive: LiveHive) -> None:
    cell = hive.settle(hive.create("private")["id"])
    for path in ("setup-log", "setup-log/stream"):
        url = f"{hive.url}/api/cells/{cell['id']}/{path}"
        assert httpx.get(url).status_code == 401
        assert httpx.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert hive.http.get(url).status_code == 200


def test_a_bad_last_event_id_is_a_422(hive: LiveHive) -> None:
    cell = hive.settle(hive.create("confused")["id"])
    response = hive.http.get(
        f"/api/cells/{cell['id']}/setup-log/stream", headers={"Last-Event-ID": "later"}
    )
    assert response.status_code == 422
    assert "Last-Event-ID" in response.json()["message"]
