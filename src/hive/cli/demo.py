"""`hive demo`: a sample repository, a server on it, one cell followed to ready."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from rich.console import Console

from hive.cli.client import ClientError, HiveClient
from hive.cli.follow import follow_cell
from hive.cli.serving import BackgroundServer
from hive.settings import Settings

SAMPLE_CONFIG = {
    "promptSources": [],
    "templates": {
        "starter": {
            "id": "starter",
            "label": "Starter",
            "type": "manual",
            "description": "A worktree with the repository's .env copied in and a setup step.",
            "env": {"APP_MODE": "development"},
            "setup": [
                'echo "setting up $HIVE_CELL_NAME on branch $HIVE_BRANCH"',
                "mkdir -p .cache && date > .cache/setup-at",
            ],
            "includePatterns": ["./.env*"],
        }
    },
    "defaults": {"templateId": "starter"},
}


def make_sample_repository(root: Path) -> Path:
    """A small git repository with a gitignored .env and a hive.config.json."""
    root.mkdir(parents=True)
    (root / "README.md").write_text("# sample app\n\nA repository made by `hive demo`.\n")
    (root / "app.py").write_text('print("hello from the sample app")\n')
    (root / ".gitignore").write_text(".env*\n.cache/\n")
    (root / ".env").write_text("DEMO_GREETING=hello\n")
    (root / "hive.config.json").write_text(json.dumps(SAMPLE_CONFIG, indent=2) + "\n")
    git = ["git", "-C", str(root), "-c", "user.name=Hive Demo", "-c", "user.email=demo@hive.local"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "sample app"], check=True)
    return root


def run_demo(*, check: bool, console: Console) -> int:
    scratch = Path(tempfile.mkdtemp(prefix="hive-demo-"))
    server: BackgroundServer | None = None
    try:
        repository = make_sample_repository(scratch / "sample-app")
        settings = Settings(hive_home=scratch / "home", port=0)
        server = BackgroundServer(settings, register=[repository])
        url = server.start()
        console.print(f"sample repository  {repository}")
        console.print(f"Hive server        {url}")
        with HiveClient(url) as client:
            workspace = client.get("/api/workspaces")["workspaces"][0]
            cell = client.post(
                "/api/cells",
                {"workspaceId": workspace["id"], "templateId": "starter", "name": "demo cell"},
            )
            console.print(f"cell               {cell['id']} on {cell['branchName']}")
            final = follow_cell(client, console, cell["id"], since_run=cell.get("runId"))
            if final["status"] != "ready":
                return 1
            console.print(f"\nworktree  {final['workspacePath']}")
            console.print(f"server    {url}   (try: HIVE_URL={url} hive ls -a)")
            if check:
                client.delete(f"/api/cells/{cell['id']}")
                console.print("check passed; cleaned up")
                return 0
        console.print("serving; press Ctrl-C to stop")
        try:
            server.wait()
        except KeyboardInterrupt:
            console.print("stopping")
        return 0
    except ClientError as exc:
        console.print(f"[red]demo failed:[/] {exc.message}")
        return 1
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
