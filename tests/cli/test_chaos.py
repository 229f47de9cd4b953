"""Chaos: rounds of concurrent creates and deletes against a real `hive serve`, each
ended by a `kill -9` at a random moment, then a restart. After each restart every cell
settles on its own (interrupted creates resume to `ready`, interrupted deletes finish),
ready cells are whole and the others left nothing. The seed is printed (and can be set
with HIVE_CHAOS_SEED) so a failing round can be replayed."""

from __future__ import annotations

import os
import random
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path

import httpx

from tests.support.crash import check_consistent, rows, settle_all
from tests.support.repos import basic_template, make_repo
from tests.support.served import auth_of, free_port, serving

ROUNDS, CREATES, DELETES = 5, 3, 2
TEMPLATE = basic_template(
    setup=["sleep 0.2"],
    services={"web": {"run": "exec python3 -m http.server --bind 127.0.0.1 $PORT"}},
)


def test_kill_9_at_random_moments_leaves_hive_consistent(tmp_path: Path) -> None:
    seed = int(os.environ.get("HIVE_CHAOS_SEED") or time.time_ns() % 1_000_000)
    print(f"chaos seed: {seed} (HIVE_CHAOS_SEED={seed} replays it)")
    chance = random.Random(seed)
    repo = make_repo(tmp_path / "repo", {"basic": TEMPLATE})
    home, port = tmp_path / "home", free_port()
    url = f"http://127.0.0.1:{port}"
    known: set[str] = set()
    for round_ in range(ROUNDS + 1):
        with serving(repo, home, port) as server:
            settle_all(home)
            outcome = check_consistent(home, repo, known)
            print(f"round {round_}: {outcome.ready} ready, {outcome.gone} gone, seed {seed}")
            if round_ == ROUNDS:
                break
            headers = auth_of(home)
            [workspace] = httpx.get(f"{url}/api/workspaces", headers=headers).json()["workspaces"]
            ready = [str(cell_id) for (cell_id,) in rows(home, "SELECT id FROM cells")]
            doomed = chance.sample(ready, min(DELETES, len(ready)))
            names = [f"r{round_}-{i}" for i in range(CREATES)]
            with ThreadPoolExecutor(CREATES + DELETES) as pool:
                for name in names:
                    body = {"workspaceId": workspace["id"], "templateId": "basic", "name": name}
                    pool.submit(_quietly, "POST", f"{url}/api/cells", headers, body)
                for cell_id in doomed:
                    pool.submit(_quietly, "DELETE", f"{url}/api/cells/{cell_id}", headers)
                # The random moment: anywhere from the first request to cells being ready.
                time.sleep(chance.uniform(0.0, 2.5))
                server.send_signal(signal.SIGKILL)
                server.wait(timeout=30)
            known |= {str(c) for (c,) in rows(home, "SELECT id FROM cells")} | set(doomed)


def _quietly(method: str, url: str, headers: dict[str, str], body: object = None) -> None:
    """A request the kill may cut off; what it did is read from the database after."""
    with suppress(httpx.TransportError):
        httpx.request(method, url, headers=headers, json=body, timeout=60)
