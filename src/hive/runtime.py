"""Everything one running server holds, built at start-up and closed at shutdown."""

from __future__ import annotations

from dataclasses import dataclass

from hive.config.cache import ConfigCache
from hive.ports.allocator import PortAllocator
from hive.provisioning.context import Stores
from hive.provisioning.lifecycle import CellLifecycle
from hive.provisioning.runner import Runner
from hive.provisioning.service_control import ServiceControl
from hive.services.supervisor import Supervisor
from hive.settings import Settings
from hive.store.cells import CellStore
from hive.store.database import Database, open_database
from hive.store.leases import LeaseStore
from hive.store.processes import ProcessStore
from hive.store.services import ServiceStore
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
    supervisor: Supervisor
    allocator: PortAllocator
    services: ServiceControl

    @classmethod
    async def start(cls, settings: Settings) -> HiveRuntime:
        db = await open_database(settings.database_path)
        stores = Stores(
            workspaces=WorkspaceStore(db),
            cells=CellStore(db),
            timings=TimingStore(db),
            processes=ProcessStore(db),
            leases=LeaseStore(db),
            services=ServiceStore(db),
        )
        configs = ConfigCache()
        supervisor = Supervisor(
            stores.services,
            settings.logs_root,
            grace_s=settings.kill_grace_s,
            setup_timeout_s=settings.setup_timeout_s,
        )
        allocator = PortAllocator(stores.leases, settings.port_range)
        runner = Runner(settings, stores, configs, supervisor, allocator)
        runtime = cls(
            settings=settings,
            db=db,
            stores=stores,
            configs=configs,
            runner=runner,
            cells=CellLifecycle(settings, stores, configs, runner),
            supervisor=supervisor,
            allocator=allocator,
            services=ServiceControl(stores, runner, supervisor),
        )
        # Services kept running while no server was up: adopt them before anything else.
        cells = await stores.cells.list(include_hidden=True)
        await supervisor.adopt({cell.id: cell.worktree_path for cell in cells})
        await runner.recover()
        await runtime.services.attach_plans()
        return runtime

    async def close(self) -> None:
        await self.runner.close()
        await self.supervisor.close()  # stops watching; the services keep running
        await self.db.close()
