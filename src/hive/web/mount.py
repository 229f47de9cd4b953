"""Put the web UI on an app: its renderer, its static files and its page routers."""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from hive.web.rendering import PageRenderer
from hive.web.routes import cell, home, new_cell, resource_pages, timing_pages


def install_web(app: FastAPI) -> PageRenderer:
    renderer = PageRenderer()
    app.state.pages = renderer
    static = files("hive.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    # `cell.router` stays last: its `/cells/{id}` would take any `/cells/<word>` page
    # (such as `/cells/new`) whose router came after it.
    routers = (home.router, new_cell.router, resource_pages.router, timing_pages.router)
    for router in (*routers, cell.router):
        app.include_router(router)
    return renderer
