"""Map Hive's exception tree (and anything unexpected) to JSON HTTP answers."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from hive.agents.opencode_client import OpenCodeError
from hive.agents.opencode_host import AgentUnavailableError
from hive.core.errors import (
    ConfigError,
    ConflictError,
    HiveError,
    InvalidInputError,
    NotFoundError,
    StepError,
)
from hive.workspace.git import GitError

log = logging.getLogger(__name__)

_STATUS: tuple[tuple[type[HiveError], int], ...] = (
    (NotFoundError, 404),
    (ConflictError, 409),
    (InvalidInputError, 422),
    (ConfigError, 422),
    # A service that would not start or get ready: the request was fine, the thing it
    # asked for failed; the body carries the command, exit code and log tail.
    (StepError, 502),
    # Git failed at its own work (a repository it cannot read, a timeout): the body names
    # the command and git's own first line. Git failures caused by the caller's input are
    # raised as InvalidInputError (422) by the code that knows which field it was.
    (GitError, 502),
    # No OpenCode server can be had (not installed, not reachable): nothing the caller
    # sent is wrong, and the message says what to install or set.
    (AgentUnavailableError, 503),
    # The agent's server failed or refused a call it was given.
    (OpenCodeError, 502),
)


def status_for(exc: HiveError) -> int:
    return next((code for kind, code in _STATUS if isinstance(exc, kind)), 500)


async def _hive_error(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, HiveError):  # registered for HiveError only
        raise exc
    return JSONResponse(exc.to_dict(), status_code=status_for(exc))


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):
        raise exc
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"] if part != "body")
        problems.append({"path": where, "message": error["msg"]})
    summary = "; ".join(f"{p['path']}: {p['message']}" for p in problems)
    return JSONResponse(
        {
            "error": "InvalidInputError",
            "message": f"invalid request: {summary}",
            "errors": problems,
        },
        status_code=422,
    )


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return JSONResponse(
        {
            "error": "InternalError",
            "message": f"Hive failed unexpectedly: {type(exc).__name__}: {exc}",
            "hint": "the server log has the traceback; the request can be retried",
        },
        status_code=500,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HiveError, _hive_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
