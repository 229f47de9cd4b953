"""`hive demo`: a sample repository, a server on it, one cell followed to ready."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import httpx
from rich.console import Console

from hive.cli.answer import summarize
from hive.cli.client import ClientError, HiveClient
from hive.cli.serving import BackgroundServer
from hive.cli.watch import CellWatch
from hive.cli.web_urls import browser_url, cell_page_url
from hive.settings import Settings

STORE_APP = """\
import json, os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Store(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"greeting": os.environ.get("DEMO_GREETING", "hello"),
                           "cell": os.environ["HIVE_CELL_NAME"]}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Store).serve_forever()
"""

WEB_APP = """\
import json, os, sys, urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Web(BaseHTTPRequestHandler):
    def do_GET(self):
        data = json.load(urllib.request.urlopen(os.environ["STORE_URL"]))
        page = f"<h1>{data['greeting']} from cell {data['cell']}</h1>"
        page += f"<p>web on port {os.environ['PORT']}, store on {os.environ['STORE_PORT']}</p>"
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.end_headers()
        self.wfile.write(page.encode())

    def log_message(self, *args):
        pass

port = int(sys.argv[1])
print("web listening on", port, flush=True)
ThreadingHTTPServer(("127.0.0.1", port), Web).serve_forever()
"""


def sample_config(python: str) -> dict[str, object]:
    return {
        "promptSources": [],
        "templates": {
            "starter": {
                "id": "starter",
                "label": "Starter",
                "type": "manual",
                "description": "The .env copied in, a setup step, a store and a web service.",
                "env": {"APP_MODE": "development"},
                "setup": [
                    'echo "setting up $HIVE_CELL_NAME on branch $HIVE_BRANCH"',
                    "mkdir -p .cache && date > .cache/setup-at",
                ],
                "includePatterns": ["./.env*"],
                "services": {
                    "store": {
                        "run": f"set -a; . ./.env; exec {python} store.py",
                        "ready": {"http": "/"},
                    },
                    "web": {
                        "run": f"exec {python} web.py $PORT",
                        "dependsOn": ["store"],
                        "ready": {"log": "web listening"},
                    },
                },
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
    (root / "store.py").write_text(STORE_APP)
    (root / "web.py").write_text(WEB_APP)
    config = sample_config(shlex.quote(sys.executable))
    (root / "hive.config.json").write_text(json.dumps(config, indent=2) + "\n")
    git = ["git", "-C", str(root), "-c", "user.name=Hive Demo", "-c", "user.email=demo@hive.local"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "sample app"], check=True)
    return root


def _printer(console: Console) -> Callable[[str], None]:
    """Lines with paths, URLs and tokens: no markup, never wrapped (copy and click them)."""

    def say(line: str) -> None:
        console.print(line, markup=False, soft_wrap=True)

    return say


def _what_answers(url: str) -> str:
    try:
        return summarize(httpx.get(url, timeout=10))
    except httpx.HTTPError as exc:
        return f"no answer ({type(exc).__name__})"


def run_demo(*, check: bool, console: Console) -> int:
    scratch = Path(tempfile.mkdtemp(prefix="hive-demo-"))
    server: BackgroundServer | None = None
    made: list[str] = []  # the demo's cells, deleted on every way out
    url = ""
    try:
        repository = make_sample_repository(scratch / "sample-app")
        # A scratch home; HIVE_TOKEN, when set, is still the token (the CLI sends it).
        token_env = {"HIVE_TOKEN": os.environ.get("HIVE_TOKEN", "")}
        settings = Settings.from_env(token_env, hive_home=scratch / "home", port=0)
        server = BackgroundServer(settings, register=[repository])
        url = server.start()
        say = _printer(console)
        say(f"sample repository  {repository}")
        say(f"Hive server        {browser_url(url, server.token)}")
        with HiveClient(url, token=server.token) as client:
            workspace = client.get("/api/workspaces")["workspaces"][0]
            cell = client.post(
                "/api/cells",
                {"workspaceId": workspace["id"], "templateId": "starter", "name": "demo cell"},
            )
            made.append(cell["id"])
            console.print(f"cell               {cell['id']} on {cell['branchName']}")
            final = CellWatch(client, console, cell["id"], run_id=cell.get("runId")).run()
            if final["status"] != "ready":
                return 1
            services = client.get(f"/api/cells/{cell['id']}/services")["services"]
            web = next(s for s in services if s["name"] == "web")
            console.print(f"\nworktree  {final['workspacePath']}")
            for service in services:
                console.print(
                    f"service   {service['name']:<6} {service['status']:<7} {service['url']}"
                )
            say(f"app       {web['url']}   <- open this: {_what_answers(web['url'])}")
            home = shlex.quote(str(settings.hive_home))
            say(f"try       HIVE_URL={url} HIVE_HOME={home} hive services {cell['id'][:8]}")
            # Last, so the first click lands in the web UI, signed in.
            console.print("\nOpen the web UI (these addresses carry the token):")
            say(f"web UI    {browser_url(url, server.token)}")
            say(f"cell page {cell_page_url(url, server.token, cell['id'])}")
            if check:
                console.print("check passed; cleaning up")
                return 0
            console.print("serving; press Ctrl-C to stop")
            try:
                server.wait()
            except KeyboardInterrupt:
                console.print("stopping: deleting the demo cell and its services")
        return 0
    except ClientError as exc:
        console.print(f"[red]demo failed:[/] {exc.message}")
        return 1
    finally:
        # Services outlive a server on purpose; the demo's must not outlive the demo.
        if made and url and server is not None:
            with HiveClient(url, token=server.token) as client, contextlib.suppress(ClientError):
                for cell_id in made:
                    client.delete(f"/api/cells/{cell_id}")
        if server is not None:
            server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
