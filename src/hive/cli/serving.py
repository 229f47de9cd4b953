"""Run a Hive server in the foreground (`hive serve`) or in a background thread (demo)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import uvicorn
from rich.console import Console

from hive.access_token import server_token
from hive.app import create_app
from hive.cli.web_urls import browser_url
from hive.cli.workspace_resolution import repository_with_config
from hive.settings import Settings

#: Open responses (a `hive logs -f`) may delay a shutdown this long, no longer.
_GRACEFUL_S = 5


def serve_forever(*, host: str | None, port: int | None, cwd: Path) -> None:
    settings = Settings.from_env(host=host, port=port)
    repository = repository_with_config(cwd.resolve())
    console = Console(stderr=True, highlight=False)
    if repository is None:
        console.print(
            "[yellow]no hive.config.json in this repository[/]: register workspaces with "
            "`hive workspace add PATH`"
        )
    token = server_token(settings)
    app = create_app(settings, register=[repository] if repository else [], token=token)
    # soft_wrap: a wrapped URL cannot be copied or clicked; no markup in paths or tokens.
    console.print(
        f"Hive {browser_url(settings.base_url, token)}  (state in {settings.hive_home})",
        markup=False,
        soft_wrap=True,
    )
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,  # request lines would carry `?token=`
        timeout_graceful_shutdown=_GRACEFUL_S,
    )


class BackgroundServer:
    """A uvicorn server on its own thread and event loop; port 0 picks a free port."""

    def __init__(self, settings: Settings, register: list[Path]) -> None:
        self.token = server_token(settings)
        app = create_app(settings, register=register, token=self.token)
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=_GRACEFUL_S,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="hive-server", daemon=True)

    def start(self, timeout: float = 30.0) -> str:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the Hive server did not start; see the messages above")
            time.sleep(0.02)
        host, port = self._server.servers[0].sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    def wait(self) -> None:
        while self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=60)
