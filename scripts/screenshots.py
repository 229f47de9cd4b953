"""Screenshots of the web UI's main pages for the README, in docs/screenshots/.

Runs the demo's sample repository (plus a template that fails and one that waits) on a
scratch server and photographs each page in Debian's Chromium:

    .venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

from hive.cli.demo import make_sample_repository
from hive.cli.serving import BackgroundServer
from hive.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def _repository(scratch: Path) -> Path:
    repository = make_sample_repository(scratch / "sample-app")
    config_path = repository / "hive.config.json"
    config = json.loads(config_path.read_text())
    config["templates"]["broken-setup"] = {
        "id": "broken-setup",
        "label": "Broken setup",
        "type": "manual",
        "description": "A setup command that fails: shows the error, hint and log tail.",
        "setup": [
            "echo installing dependencies",
            "echo 'npm ERR! missing script: build' >&2 && exit 1",
        ],
    }
    config["templates"]["slow-setup"] = {
        "id": "slow-setup",
        "label": "Slow setup",
        "type": "manual",
        "description": "A setup that waits for a file: shows the live checklist.",
        "setup": ["echo 'fetching dependencies…'", "while [ ! -e go ]; do sleep 0.1; done"],
    }
    config_path.write_text(json.dumps(config, indent=2) + "\n")
    git = ["git", "-C", str(repository), "-c", "user.name=Hive", "-c", "user.email=h@hive.local"]
    subprocess.run([*git, "commit", "-qam", "more templates"], check=True)
    return repository


def _wait(http: httpx.Client, cell_id: str, statuses: set[str]) -> dict[str, object]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        cell = http.get(f"/api/cells/{cell_id}").json()
        if cell["status"] in statuses:
            return dict(cell)
        time.sleep(0.1)
    raise SystemExit(f"cell {cell_id} never reached {statuses}")


def _shoot(page: Page, url: str, name: str) -> None:
    page.goto(url)
    # Streams keep the network busy for good: give live regions a moment instead.
    page.wait_for_timeout(800)
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
    print(f"docs/screenshots/{name}.png")


def main() -> int:
    scratch = Path(tempfile.mkdtemp(prefix="hive-shots-"))
    server: BackgroundServer | None = None
    try:
        repository = _repository(scratch)
        settings = Settings(hive_home=scratch / "home", port=0, opencode_bin="none")
        server = BackgroundServer(settings, register=[repository])
        url = server.start()
        auth = {"Authorization": f"Bearer {server.token.value}"}
        with httpx.Client(base_url=url, headers=auth, timeout=60) as http:
            workspace = http.get("/api/workspaces").json()["workspaces"][0]["id"]

            def create(name: str, template: str) -> str:
                body = {"workspaceId": workspace, "templateId": template, "name": name}
                response = http.post("/api/cells", json=body)
                response.raise_for_status()
                return str(response.json()["id"])

            ready = create("login-fix", "starter")
            _wait(http, ready, {"ready"})
            broken = create("build-cache", "broken-setup")
            _wait(http, broken, {"error"})
            slow = create("dependency-bump", "slow-setup")
            time.sleep(1.5)  # let the sampler and the slow setup get going
            OUT.mkdir(parents=True, exist_ok=True)
            with sync_playwright() as playwright:
                chromium = shutil.which("chromium") or "/usr/bin/chromium"
                browser = playwright.chromium.launch(executable_path=chromium, args=ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 860})
                page.goto(f"{url}/?token={server.token.value}")
                _shoot(page, f"{url}/cells/{slow}", "cell-provisioning")
                _shoot(page, f"{url}/", "cells")
                _shoot(page, f"{url}/cells/new?workspaceId={workspace}", "template-browser")
                _shoot(page, f"{url}/cells/{ready}", "cell-ready")
                _shoot(page, f"{url}/cells/{broken}", "cell-error")
                _shoot(page, f"{url}/resources", "resources")
                _shoot(page, f"{url}/timings", "timings")
                _shoot(page, f"{url}/cells/{ready}/timings", "cell-timings")
                browser.close()
            cells = [c["id"] for c in http.get("/api/cells").json()["cells"]]
            (Path(_wait(http, slow, {"spawning"})["worktreePath"]) / "go").touch()  # type: ignore[arg-type]
            for cell_id in cells:
                http.delete(f"/api/cells/{cell_id}")
        return 0
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
