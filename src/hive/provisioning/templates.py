"""A cell's template as the workspace config has it now (None when it is unusable)."""

from __future__ import annotations

import logging
from pathlib import Path

from hive.config.cache import ConfigCache
from hive.config.schema import Template
from hive.core.errors import HiveError

log = logging.getLogger(__name__)


class TemplateResolver:
    def __init__(self, configs: ConfigCache) -> None:
        self._configs = configs

    async def template(self, workspace_path: Path, template_id: str) -> Template | None:
        """The valid template `template_id` of the workspace's config, or None (a run then
        reports it; a listing shows what it knows from the database)."""
        try:
            config = await self._configs.aget(workspace_path)
        except HiveError:
            return None
        except Exception:  # a pathological file (RecursionError…): the run reports it
            log.exception("cannot load the config of %s", workspace_path)
            return None
        entry = config.template(template_id)
        return entry.template if entry is not None and entry.valid else None
