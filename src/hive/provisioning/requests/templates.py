"""Requests on a workspace's templates: validate one here, now."""

from __future__ import annotations

from dataclasses import dataclass

from hive.config.cache import ConfigCache
from hive.provisioning.options import apply_options
from hive.provisioning.template_checks import Check, TemplateChecks
from hive.provisioning.templates import usable_template
from hive.store.workspaces import WorkspaceStore


@dataclass(frozen=True)
class TemplateValidation:
    template_id: str
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)


class TemplateRequests:
    def __init__(
        self, *, workspaces: WorkspaceStore, configs: ConfigCache, checks: TemplateChecks
    ) -> None:
        self._workspaces = workspaces
        self._configs = configs
        self._checks = checks

    async def validate(self, workspace_id: str, template_id: str) -> TemplateValidation:
        """The checks a create of `template_id` would run, with its options' defaults:
        404 for an unknown workspace or template, 422 for an invalid template."""
        workspace = await self._workspaces.get(workspace_id)
        config = await self._configs.aget(workspace.path)
        template, _ = apply_options(usable_template(config, template_id), None)
        return TemplateValidation(template_id, await self._checks.run(workspace.path, template))
