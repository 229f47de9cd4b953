"""Pages outside `/api`. Until the web UI exists, `/` leads to the API's own docs."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home() -> RedirectResponse:
    return RedirectResponse("/docs", status_code=303)
