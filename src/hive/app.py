"""`create_app(settings)`: the FastAPI application, with start-up recovery in its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from hive import __version__
from hive.access_token import AccessToken, server_token
from hive.api.auth import TokenAuthMiddleware
from hive.api.errors import install_error_handlers
from hive.api.routes import (
    agents,
    cells,
    disk,
    gc,
    health,
    resources,
    services,
    setup_log,
    snapshots,
    streams,
    templates,
    timings,
    workspaces,
)
from hive.api.security import LocalOnlyMiddleware, is_loopback_name
from hive.provisioning.requests.workspaces import register_workspace
from hive.runtime import HiveRuntime
from hive.settings import Settings
from hive.web.mount import install_web
from hive.web.rendering import unauthorized_page


def create_app(
    settings: Settings, *, register: Sequence[Path] = (), token: AccessToken | None = None
) -> FastAPI:
    """Build the app; `register` are repositories to register as workspaces at start-up.

    `token` is the one requests must carry; by default it is resolved here, once (which
    also makes `$HIVE_HOME` private).
    """
    token = token if token is not None else server_token(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await HiveRuntime.start(settings)
        try:
            for path in register:
                await register_workspace(runtime.stores.workspaces, path)
            app.state.runtime = runtime
            yield
        finally:
            await runtime.close()

    app = FastAPI(title="Hive", version=__version__, lifespan=lifespan)
    extra_hosts = frozenset() if is_loopback_name(settings.host) else frozenset({settings.host})
    # The last added runs first: Host and Origin are checked before the token.
    pages = install_web(app)
    app.add_middleware(TokenAuthMiddleware, token=token, page_renderer=unauthorized_page(pages))
    app.add_middleware(LocalOnlyMiddleware, extra_hosts=extra_hosts)
    install_error_handlers(app)
    # Static paths before parametrised ones: /api/cells/timings/global beats /{cell_id}.
    for router in (
        health.router,
        workspaces.router,
        templates.router,
        streams.router,
        timings.router,
        cells.router,
        disk.router,
        services.router,
        setup_log.router,
        gc.router,
        snapshots.router,
        agents.router,
        resources.router,
    ):
        app.include_router(router)
    return app
