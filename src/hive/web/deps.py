"""What page handlers ask for: the app's renderer (the runtime comes from `hive.api.deps`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from hive.web.page_route import renderer_of
from hive.web.rendering import PageRenderer

Pages = Annotated[PageRenderer, Depends(renderer_of)]
