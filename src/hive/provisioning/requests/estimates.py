"""Each template's estimate before a cell is made: its history in the workspace
(store/template_history.py) through the arithmetic of core/estimates.py, and its
footprint (services, ports) from the template itself."""

from __future__ import annotations

from hive.config.loader import WorkspaceConfig
from hive.config.schema import Template
from hive.core.estimates import HISTORY_CELLS, Estimate, estimate
from hive.services.plan import services_needing_ports
from hive.store.template_history import TemplateHistoryStore


class TemplateEstimates:
    def __init__(self, history: TemplateHistoryStore, cells: int = HISTORY_CELLS) -> None:
        self._history = history
        self._cells = cells

    async def of_config(self, workspace_id: str, config: WorkspaceConfig) -> dict[str, Estimate]:
        """An estimate per valid template (an invalid one's footprint is unknown)."""
        templates: dict[str, Template] = {
            entry.id: entry.template
            for entry in config.templates.values()
            if entry.template is not None
        }
        runs = await self._history.runs(workspace_id, templates, self._cells)
        footprints = await self._history.footprints(workspace_id, self._cells)
        return {
            template_id: estimate(
                runs.get(template_id, []),
                footprints.get(template_id, []),
                services=len(template.services),
                ports=len(services_needing_ports(template)),
                cells=self._cells,
            )
            for template_id, template in templates.items()
        }
