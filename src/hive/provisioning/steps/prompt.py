"""`assemble_prompt`: the cell's first prompt, written to `.hive/PROMPT.md`.

Fragments in order: the base prompt (Hive's, or the workspace's `basePrompt`), the
workspace `promptSources`, the template's `prompts`, the runtime context, the brief.
Runs on every attempt: service URLs and statuses may have changed since the last.
"""

from __future__ import annotations

import asyncio
from typing import Any

from hive.config.cache import ConfigCache
from hive.core.redaction import redact_values
from hive.prompts.assemble import assemble
from hive.prompts.base import BASE_PROMPT
from hive.prompts.context import (
    OptionFacts,
    RuntimeFacts,
    ServiceFacts,
    brief_fragment,
    context_fragment,
    placeholders,
)
from hive.prompts.fragments import BASE_SOURCE, Found, Fragment
from hive.prompts.remote import PromptFetcher
from hive.prompts.sources import find_sources
from hive.provisioning.engine.context import RunContext
from hive.provisioning.environment import CellEnvironment, CellEnvironments
from hive.services.plan import service_url
from hive.store.cells import CellStore
from hive.store.clock import now_iso
from hive.store.services import ServiceStore
from hive.workspace.cell_files import write_prompt


class AssemblePrompt:
    def __init__(
        self,
        cells: CellStore,
        environments: CellEnvironments,
        services: ServiceStore,
        configs: ConfigCache,
        fetcher: PromptFetcher,
    ) -> None:
        self._cells = cells
        self._environments = environments
        self._services = services
        self._configs = configs
        self._fetcher = fetcher

    async def run(self, ctx: RunContext, metadata: dict[str, Any]) -> None:
        template = ctx.require_template()
        cell, root = ctx.cell, ctx.workspace.path
        config = await self._configs.aget(root)
        environment = await self._environments.of(cell, root, template)
        base = await self._base(config.base_prompt, ctx)
        workspace = await find_sources(root, config.prompt_sources, "promptSources", self._fetcher)
        where = f"templates.{template.id}.prompts"
        own = await find_sources(root, template.prompts, where, self._fetcher)
        facts = await self._facts(environment)
        fragments = [
            *base.fragments,
            *workspace.fragments,
            *own.fragments,
            context_fragment(facts),
        ]
        brief = brief_fragment(cell.description, cell.constraints, cell.success_criteria)
        if brief is not None:
            fragments.append(brief)
        assembled = await asyncio.to_thread(assemble, fragments, placeholders(facts))
        # A fragment may quote a secret the cell has: the agent is told names, not values.
        text = redact_values(assembled.text, environment.variables())
        path = await asyncio.to_thread(write_prompt, cell.worktree_path, text)
        sources = [{"path": s.path, "bytes": s.bytes} for s in assembled.sources]
        warnings = [*base.warnings, *workspace.warnings, *own.warnings]
        metadata.update(path=str(path), bytes=len(text.encode()), sources=sources)
        if warnings:
            metadata["warnings"] = warnings
        ctx.cell = await self._cells.update(
            cell.id,
            prompt={"path": str(path), "sources": sources, "warnings": warnings, "at": now_iso()},
        )

    async def _base(self, override: str | None, ctx: RunContext) -> Found:
        if override is None:
            return Found((Fragment(BASE_SOURCE, BASE_PROMPT),))
        found = await find_sources(ctx.workspace.path, [override], "basePrompt", self._fetcher)
        if found.fragments:
            return found
        # An override that cannot be read leaves the agent Hive's own words, not none.
        return Found((Fragment(BASE_SOURCE, BASE_PROMPT),), found.warnings)

    async def _facts(self, environment: CellEnvironment) -> RuntimeFacts:
        # The template as the cell runs it: only the services its options leave on.
        cell, template = environment.cell, environment.template
        statuses = {s.name: s.status for s in await self._services.for_cell(cell.id)}
        services = tuple(
            ServiceFacts(
                name=name,
                port=environment.ports.get(name),
                url=service_url(environment.ports[name]) if name in environment.ports else None,
                status=statuses.get(name, "unknown"),
            )
            for name in sorted(template.services)
        )
        return RuntimeFacts(
            cell_id=cell.id,
            name=cell.name,
            branch=cell.branch_name,
            base_commit=cell.base_commit,
            worktree_path=str(cell.worktree_path),
            workspace_path=str(environment.workspace_path),
            template_id=template.id,
            template_label=template.label,
            services=services,
            env_names=tuple(sorted(environment.variables())),
            options=tuple(
                OptionFacts(name, template.options[name].label or name, value)
                for name, value in environment.choices.chosen.items()
            ),
        )
