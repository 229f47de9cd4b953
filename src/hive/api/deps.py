"""Dependencies routes ask for: the runtime the app was started with."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hive.runtime import HiveRuntime


def _runtime(request: Request) -> HiveRuntime:
    runtime: HiveRuntime = request.app.state.runtime
    return runtime


Runtime = Annotated[HiveRuntime, Depends(_runtime)]
