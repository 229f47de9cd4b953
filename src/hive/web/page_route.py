"""Pages answer errors as pages: a HiveError becomes an HTML page with its message and
hint, at the status the API would answer, instead of the API's JSON."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from hive.api.errors import status_for
from hive.core.errors import HiveError
from hive.web.rendering import PageRenderer


def renderer_of(request: Request) -> PageRenderer:
    renderer: PageRenderer = request.app.state.pages
    return renderer


class PageRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except HiveError as exc:
                return renderer_of(request).render(
                    request,
                    "error.html",
                    status_code=status_for(exc),
                    error=exc.to_dict(),
                )

        return page_handler
