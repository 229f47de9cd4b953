"""A template as the workspace config has it now: a cell's (None when it is unusable),
or the one a request names (refused when it is unknown or invalid)."""

from __future__ import annotations

import logging
from pathlib import Path

from hive.config.cache import ConfigCache
from hive.config.loader import WorkspaceConfig
from hive.config.schema import Template
from hive.core.errors import HiveError, InvalidInputError, NotFoundError

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


def usable_template(config: WorkspaceConfig, template_id: str) -> Template:
    """The template a request names: NotFoundError when the config has none of that id,
    InvalidInputError (with its errors) when it is invalid."""
    entry = config.template(template_id)
    if entry is None:
        known = ", ".join(sorted(config.templates)) or "none"
        raise NotFoundError(
            f"template '{template_id}' is not defined in {config.file}",
            hint=f"known templates: {known}",
        )
    if entry.template is None:
        problems = "; ".join(f"{e.path}: {e.message}" for e in entry.errors)
        raise InvalidInputError(
            f"template '{template_id}' in {config.file} is invalid: {problems}",
            hint="fix the template in the config file; it is re-read on the next request",
        )
    return entry.template
