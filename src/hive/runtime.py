"""Everything one running server holds, built at start-up and closed at shutdown."""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hive.agents.opencode_host import OpenCodeHost
from hive.agents.tmux import Tmux, socket_path
from hive.config.cache import ConfigCache
from hive.core.status import CellStatus
from hive.events.bus import EventBus
from hive.maintenance.disk_meter import DiskMeter
from hive.maintenance.gc import GarbageCollector
from hive.ports.allocator import PortAllocator
from hive.prompts.remote import PromptFetcher
from hive.provisioning.agent_sessions import AgentSessions
from hive.provisioning.engine.active import ActiveRuns
from hive.provisioning.engine.runner import Runner
from hive.provisioning.environment import CellEnvironments
from hive.provisioning.requests.archive import CellArchive
from hive.provisioning.requests.cells import CellLifecycle
from hive.provisioning.requests.disk_space import SpaceCheck
from hive.provisioning.requests.estimates import TemplateEstimates
from hive.provisioning.requests.progress import CellProgress
from hive.provisioning.requests.services import ServiceControl
from hive.provisioning.requests.templates import TemplateRequests
from hive.provisioning.steps.archive import archive_workflow
from hive.provisioning.steps.create import create_workflow
from hive.provisioning.steps.delete import delete_workflow
from hive.provisioning.template_checks import TemplateChecks
from hive.provisioning.templates import TemplateResolver
from hive.resources.reports import ResourceReports
from hive.resources.sampler import ResourceSampler
from hive.services.backend import OsProcessBackend, ProcessBackend
from hive.services.process_records import ProcessRecords
from hive.services.supervisor import Supervisor
from hive.settings import Settings
from hive.store.agent_servers import AgentServerStore
from hive.store.cell_disk import CellDiskStore
from hive.store.cells import CellStore
from hive.store.database import Database, open_database
from hive.store.events import EventLog
from hive.store.leases import LeaseStore
from hive.store.processes import ProcessStore
from hive.store.resources import ResourceStore
from hive.store.services import ServiceStore
from hive.store.step_history import StepHistoryStore
from hive.store.template_history import TemplateHistoryStore
from hive.store.timings import TimingStore
from hive.store.workspaces import WorkspaceStore
from hive.workspace.clone_support import CloneSupport
from hive.workspace.copy_process import CopyWorkerPool
from hive.workspace.disk_usage import read_free_space

log = logging.getLogger(__name__)

#: Starting OpenCode (seconds) and its first calls; a slow start fails the step clearly.
AGENT_STEP_TIMEOUT_S = 180.0


@dataclass(frozen=True)
class Stores:
    workspaces: WorkspaceStore
    cells: CellStore
    timings: TimingStore
    processes: ProcessStore
    leases: LeaseStore
    services: ServiceStore
    disk: CellDiskStore

    events: EventLog

    @classmethod
    def of(cls, db: Database, bus: EventBus) -> Stores:
        events = EventLog(db, bus.publish)
        return cls(
            workspaces=WorkspaceStore(db),
            cells=CellStore(db, events),
            timings=TimingStore(db, events),
            processes=ProcessStore(db),
            leases=LeaseStore(db),
            services=ServiceStore(db, events),
            disk=CellDiskStore(db),
            events=events,
        )


@dataclass(frozen=True)
class HiveRuntime:
    settings: Settings
    db: Database
    stores: Stores
    configs: ConfigCache
    runner: Runner
    cells: CellLifecycle
    archive: CellArchive
    gc: GarbageCollector
    supervisor: Supervisor
    services: ServiceControl
    copy_workers: CopyWorkerPool
    bus: EventBus
    progress: CellProgress
    opencode: OpenCodeHost
    agents: AgentSessions
    # Disk per cell, room for new cells, and templates' estimates.
    disk_meter: DiskMeter
    space: SpaceCheck
    estimates: TemplateEstimates
    # Resources: CPU and memory sampled per cell while the server runs.
    sampler: ResourceSampler
    resources: ResourceReports
    # Templates: their checks (requirements, ports, agent) and listing.
    templates: TemplateRequests

    @classmethod
    async def start(cls, settings: Settings, backend: ProcessBackend | None = None) -> HiveRuntime:
        db = await open_database(settings.database_path)
        bus = EventBus()
        stores = Stores.of(db, bus)
        backend = backend or OsProcessBackend()
        configs = ConfigCache()
        templates = TemplateResolver(configs)
        supervisor = Supervisor(
            stores.services,
            settings.logs_root,
            grace_s=settings.kill_grace_s,
            setup_timeout_s=settings.setup_timeout_s,
            start_grace_s=settings.service_start_grace_s,
            backend=backend,
        )
        allocator = PortAllocator(stores.leases, settings.port_range)
        environments = CellEnvironments(
            stores.leases,
            stores.services,
            allocator,
            os.environ,
            start_grace_s=settings.service_start_grace_s,
        )
        records = ProcessRecords(stores.processes, backend)
        opencode = OpenCodeHost.from_settings(
            settings, servers=AgentServerStore(db), allocator=allocator, environ=os.environ
        )
        agents = AgentSessions(
            cells=stores.cells,
            host=opencode,
            tmux=Tmux(socket_path(settings.hive_home, Path(tempfile.gettempdir()))),
            grace_s=settings.kill_grace_s,
        )
        checks = TemplateChecks(
            leases=stores.leases,
            opencode=opencode,
            environ=os.environ,
            worktrees_root=settings.worktrees_root,
        )
        copy_workers = CopyWorkerPool()
        # Resources: sampled from the end of start-up until close.
        resource_store = ResourceStore(db)
        sampler = ResourceSampler(resource_store, interval_s=settings.sample_interval_s)
        runs = ActiveRuns(settings.cleanup_step_timeout_s)
        runner = Runner(
            cells=stores.cells,
            workspaces=stores.workspaces,
            timings=stores.timings,
            templates=templates,
            runs=runs,
            create=create_workflow(
                cells=stores.cells,
                environments=environments,
                supervisor=supervisor,
                allocator=allocator,
                records=records,
                copy_workers=copy_workers,
                copy_threads=settings.copy_workers,
                clone_support=CloneSupport() if settings.cow_checkout else None,
                logs_root=settings.logs_root,
                setup_timeout_s=settings.setup_timeout_s,
                grace_s=settings.kill_grace_s,
                services_store=stores.services,
                configs=configs,
                prompt_fetcher=PromptFetcher(settings.hive_home / "cache" / "prompts"),
                agents=agents,
                agent_timeout_s=AGENT_STEP_TIMEOUT_S,
            ),
            delete=delete_workflow(
                cancel=runs.cancel,
                supervisor=supervisor,
                cells=stores.cells,
                services=stores.services,
                backend=backend,
                allocator=allocator,
                cleanup_timeout_s=settings.cleanup_step_timeout_s,
                grace_s=settings.kill_grace_s,
                agents=agents,
            ),
            max_parallel_worktrees=settings.max_parallel_worktrees,
            faults=settings.faults,
        )
        services = ServiceControl(
            cells=stores.cells,
            workspaces=stores.workspaces,
            services=stores.services,
            templates=templates,
            environments=environments,
            supervisor=supervisor,
            records=records,
        )
        space = SpaceCheck(
            settings.worktrees_root, stores.disk, settings.free_space or read_free_space
        )
        runtime = cls(
            settings=settings,
            db=db,
            stores=stores,
            configs=configs,
            runner=runner,
            cells=CellLifecycle(
                cells=stores.cells,
                workspaces=stores.workspaces,
                configs=configs,
                runner=runner,
                worktrees_root=settings.worktrees_root,
                agents=agents,
                checks=checks,
                space=space,
            ),
            archive=CellArchive(
                cells=stores.cells,
                runner=runner,
                archive=archive_workflow(
                    supervisor=supervisor,
                    services=stores.services,
                    backend=backend,
                    allocator=allocator,
                    step_timeout_s=settings.cleanup_step_timeout_s,
                    grace_s=settings.kill_grace_s,
                    agents=agents,
                ),
            ),
            gc=GarbageCollector(
                cells=stores.cells,
                workspaces=stores.workspaces,
                leases=stores.leases,
                services=stores.services,
                processes=stores.processes,
                running=runner.is_running,
                backend=backend,
                worktrees_root=settings.worktrees_root,
                grace_s=settings.kill_grace_s,
            ),
            supervisor=supervisor,
            services=services,
            copy_workers=copy_workers,
            bus=bus,
            progress=CellProgress(StepHistoryStore(db), runner.create_steps, runner.create_reruns),
            opencode=opencode,
            agents=agents,
            disk_meter=DiskMeter(
                cells=stores.cells,
                disks=stores.disk,
                bus=bus,
                logs_root=settings.logs_root,
                interval_s=settings.disk_interval_s,
                budget_s=settings.disk_budget_s,
            ),
            space=space,
            estimates=TemplateEstimates(TemplateHistoryStore(db)),
            sampler=sampler,
            resources=ResourceReports(
                cells=stores.cells,
                workspaces=stores.workspaces,
                store=resource_store,
                sampler=sampler,
            ),
            templates=TemplateRequests(
                workspaces=stores.workspaces, configs=configs, checks=checks
            ),
        )
        # Services kept running while no server was up: adopt them (with their plans)
        # before anything else, then finish what the stopped server left.
        cells = await stores.cells.list(include_hidden=True)
        await supervisor.adopt(
            {cell.id: cell.worktree_path for cell in cells},
            await services.adoption_plans(cells),
        )
        await records.stop_orphans(grace_s=settings.kill_grace_s)
        released = await stores.leases.release_orphans()
        if released:
            log.warning("released %d port lease(s) of cells that no longer exist", released)
        # An OpenCode server left running is adopted, never started beside: cells'
        # sessions live in it. Their statuses are watched again.
        await opencode.adopt()
        agents.resume(cell for cell in cells if cell.status == CellStatus.READY)
        await runner.recover()
        await runtime.gc.report()
        runtime.disk_meter.start()  # after recovery: the cells it measures are at rest
        sampler.start()  # resources
        return runtime

    async def close(self) -> None:
        await self.sampler.close()  # resources: before the database closes
        await self.disk_meter.aclose()
        await self.runner.close()
        await self.agents.aclose()
        # Kept running while sessions live in it (the next server adopts it).
        await self.opencode.close(stop=not self.agents.has_opencode_sessions())
        await self.copy_workers.close()
        await self.supervisor.close()  # stops watching; the services keep running
        await self.db.close()
