"""Put the web UI on an app: its renderer, its static files and its page routers."""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from hive.web.rendering import PageRenderer
from hive.web.routes import home, new_cell, resource_pages, timing_pages


def install_web(app: FastAPI) -> PageRenderer:
    renderer = PageRenderer()
    app.state.pages = renderer
    static = files("hive.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    # new_cell must come before the cell page router: `/cells/new` would otherwise
    # match `/cells/{cell_id}`.
    for router in (home.router, new_cell.router, resource_pages.router, timing_pages.router):
        app.include_router(router)
    return renderer
