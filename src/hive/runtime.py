"""Everything one running server holds, built at start-up and closed at shutdown."""

from __future__ import annotations

from dataclasses import dataclass

from hive.config.cache import ConfigCache
from hive.provisioning.context import Stores
from hive.provisioning.lifecycle import CellLifecycle
from hive.provisioning.runner import Runner
from hive.settings import Settings
from hive.store.cells import CellStore
from hive.store.database import Database, open_database
from hive.store.processes import ProcessStore
from hive.store.timings import TimingStore
from hive.store.workspaces import WorkspaceStore


@dataclass(frozen=True)
class HiveRuntime:
    settings: Settings
    db: Database
    stores: Stores
    configs: ConfigCache
    runner: Runner
    cells: CellLifecycle

    @classmethod
    async def start(cls, settings: Settings) -> HiveRuntime:
        db = await open_database(settings.database_path)
        stores = Stores(
            workspaces=WorkspaceStore(db),
            cells=CellStore(db),
            timings=TimingStore(db),
            processes=ProcessStore(db),
        )
        configs = ConfigCache()
        runner = Runner(settings, stores, configs)
        runtime = cls(
            settings=settings,
            db=db,
            stores=stores,
            configs=configs,
            runner=runner,
            cells=CellLifecycle(settings, stores, configs, runner),
        )
        await runner.recover()
        return runtime

    async def close(self) -> None:
        await self.runner.close()
        await self.db.close()
