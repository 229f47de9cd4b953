"""`hive.config.json`: its model, a tolerant per-template loader, a cache and its JSON Schema."""

from hive.config.cache import ConfigCache
from hive.config.export import config_json_schema
from hive.config.jsonc import parse_jsonc
from hive.config.loader import (
    CONFIG_FILENAMES,
    FieldError,
    TemplateEntry,
    WorkspaceConfig,
    find_config_file,
    load_config,
    load_workspace_config,
)
from hive.config.schema import (
    AgentConfig,
    ComposeService,
    Defaults,
    DockerService,
    HiveConfig,
    ModelRef,
    OpencodeConfig,
    ProcessService,
    Service,
    Template,
)

__all__ = [
    "CONFIG_FILENAMES",
    "AgentConfig",
    "ComposeService",
    "ConfigCache",
    "Defaults",
    "DockerService",
    "FieldError",
    "HiveConfig",
    "ModelRef",
    "OpencodeConfig",
    "ProcessService",
    "Service",
    "Template",
    "TemplateEntry",
    "WorkspaceConfig",
    "config_json_schema",
    "find_config_file",
    "load_config",
    "load_workspace_config",
    "parse_jsonc",
]
