"""Server settings: where state lives and how long steps may take. Built once per app."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from hive.core.disk_space import FreeSpace
from hive.core.faults import FaultAction, check_fault_step, parse_faults

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4483

#: HIVE_OPENCODE_BIN's value that turns OpenCode off.
OPENCODE_OFF = "none"

#: A token travels in an Authorization header and in URLs: visible ASCII, no spaces.
_TOKEN_SHAPE = re.compile(r"[\x21-\x7e]+")


class SettingsError(ValueError):
    """A HIVE_* variable (or option) that cannot be used; names the variable."""


def usable_token(value: str) -> bool:
    return _TOKEN_SHAPE.fullmatch(value) is not None


class Settings(BaseModel):
    """Everything the server needs to know about its surroundings."""

    model_config = ConfigDict(frozen=True, use_attribute_docstrings=True)

    hive_home: Path
    """Directory holding the database, logs and (by default) cell worktrees."""

    host: str = DEFAULT_HOST
    """Interface the server binds; loopback unless the user says otherwise."""

    port: int = DEFAULT_PORT
    """TCP port of the HTTP API."""

    worktrees_root: Path = Field(default_factory=Path)
    """Where cell worktrees are made (HIVE_WORKTREES_ROOT); `$HIVE_HOME/cells` when unset."""

    setup_timeout_s: float = 600.0
    """Longest a single template setup command may run before it is stopped."""

    max_parallel_worktrees: int = Field(default_factory=lambda: max(2, os.cpu_count() or 2), ge=1)
    """How many cells may be making their worktree (git checkout, include-copy) at once."""

    copy_workers: int | None = Field(default=None, ge=1)
    """Threads one include-copy uses. Unset: one while the file system clones (parallel
    clones only queue on its locks), the CPU count (at least two) for byte copies."""

    cow_checkout: bool = True
    """Copy-on-write checkouts (`HIVE_COW_CHECKOUT`): a cell's tracked files cloned from
    the main checkout where the file system clones; `0` makes every checkout `git
    worktree add`."""

    port_range: tuple[int, int] = (20000, 29999)
    """Ports leased to services that name no fixed port or range of their own."""

    cleanup_step_timeout_s: float = Field(default=60.0, gt=0)
    """Longest a best-effort cleanup step (during delete) may take."""

    faults: dict[str, FaultAction] = Field(default_factory=dict)
    """Test seam (`HIVE_FAULTS`): steps made to fail or hang, `run_setup=fail,...`.
    Empty unless set."""

    kill_grace_s: float = 5.0
    """Time between SIGTERM and SIGKILL when stopping a process group."""

    stream_heartbeat_s: float = Field(default=15.0, gt=0)
    """Seconds between heartbeat comments on an idle live stream."""

    service_start_grace_s: float = Field(default=1.0, ge=0)
    """How long a service without a port or ready probe must stay up to count as ready."""

    disk_interval_s: float = Field(default=3600.0, gt=0)
    """Seconds between two measurements of a cell's disk (`HIVE_DISK_INTERVAL`); each
    cell is also measured as soon as its provisioning settles."""

    disk_budget_s: float = Field(default=10.0, gt=0)
    """Longest one walk of a cell's worktree may take (`HIVE_DISK_BUDGET`); a walk that
    runs out is kept as a lower bound, marked incomplete."""

    free_space: FreeSpace | None = Field(default=None, exclude=True, repr=False)
    """Test seam: reads the cells root's free space instead of its file system. Set
    only in code (tests); no variable sets it."""

    sample_interval_s: float = Field(default=5.0, gt=0)
    """Seconds between two samples of every cell's CPU and memory (HIVE_SAMPLE_INTERVAL)."""

    @model_validator(mode="before")
    @classmethod
    def _default_worktrees_root(cls, data: Any) -> Any:
        # Unset (or None): under the home, wherever that is.
        if isinstance(data, dict) and data.get("worktrees_root") is None and data.get("hive_home"):
            return {**data, "worktrees_root": Path(data["hive_home"]) / "cells"}
        return data

    token: SecretStr | None = None
    """The access token every `/api` call and page needs (`HIVE_TOKEN`). Unset: one
    generated once and kept in `$HIVE_HOME/token`."""

    opencode_bin: str | None = None
    """The OpenCode binary Hive starts (`HIVE_OPENCODE_BIN`): a path, or a name looked up
    on PATH; `none` turns OpenCode off. Unset: `opencode` on PATH at start-up."""

    opencode_url: str | None = None
    """A running `opencode serve` to use (`HIVE_OPENCODE_URL`); Hive then starts and
    supervises none of its own."""

    opencode_password: SecretStr | None = None
    """The password of the server at `opencode_url` (`HIVE_OPENCODE_PASSWORD`)."""

    opencode_home: Path | None = None
    """An isolated HOME for the OpenCode server Hive starts (`HIVE_OPENCODE_HOME`). Unset:
    the user's own, so their providers and logins work."""

    @field_validator("opencode_bin")
    @classmethod
    def _opencode_bin(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not value:
            raise ValueError("must be a path to the opencode binary, or `none`")
        return OPENCODE_OFF if value.lower() == OPENCODE_OFF else str(Path(value).expanduser())

    @field_validator("opencode_url")
    @classmethod
    def _opencode_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL such as http://127.0.0.1:4096")
        return value.strip().rstrip("/")

    @field_validator("opencode_home")
    @classmethod
    def _opencode_home(cls, value: Path | None) -> Path | None:
        return None if value is None else value.expanduser().absolute()

    @field_validator("token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        # The message must not echo the value: it is a secret.
        if value is not None and not usable_token(value.get_secret_value()):
            raise ValueError("must be printable ASCII characters without spaces")
        return value

    @field_validator("faults", mode="before")
    @classmethod
    def _parse_faults(cls, value: Any) -> Any:
        if isinstance(value, str):
            return parse_faults(value)
        if isinstance(value, dict):
            for step in value:
                check_fault_step(str(step))
        return value

    @field_validator("port_range")
    @classmethod
    def _ordered(cls, value: tuple[int, int]) -> tuple[int, int]:
        if not 1 <= value[0] <= value[1] <= 65535:
            raise ValueError("must be LOW-HIGH within 1-65535")
        return value

    @field_validator("hive_home", "worktrees_root")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        # Stored worktree paths must not depend on the directory the server started in.
        return value.expanduser().absolute()

    @property
    def database_path(self) -> Path:
        return self.hive_home / "hive.db"

    @property
    def logs_root(self) -> Path:
        return self.hive_home / "logs"

    @property
    def token_path(self) -> Path:
        return self.hive_home / "token"

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read `HIVE_*` variables; explicit keyword overrides win."""
        env = os.environ if environ is None else environ
        if env.get("HIVE_CELLS_ROOT"):
            raise SettingsError(
                "bad Hive setting: HIVE_CELLS_ROOT is now called HIVE_WORKTREES_ROOT; "
                "set that instead"
            )
        values: dict[str, object] = {
            "hive_home": Path(env.get("HIVE_HOME") or platformdirs.user_data_dir("hive")),
        }
        mapping = {
            "HIVE_HOST": "host",
            "HIVE_PORT": "port",
            "HIVE_WORKTREES_ROOT": "worktrees_root",
            "HIVE_SETUP_TIMEOUT": "setup_timeout_s",
            "HIVE_MAX_PARALLEL_WORKTREES": "max_parallel_worktrees",
            "HIVE_COPY_WORKERS": "copy_workers",
            "HIVE_COW_CHECKOUT": "cow_checkout",
            "HIVE_SERVICE_START_GRACE": "service_start_grace_s",
            "HIVE_SAMPLE_INTERVAL": "sample_interval_s",
            "HIVE_STREAM_HEARTBEAT": "stream_heartbeat_s",
            "HIVE_CLEANUP_STEP_TIMEOUT": "cleanup_step_timeout_s",
            "HIVE_DISK_INTERVAL": "disk_interval_s",
            "HIVE_DISK_BUDGET": "disk_budget_s",
            "HIVE_FAULTS": "faults",
            "HIVE_TOKEN": "token",
            "HIVE_OPENCODE_BIN": "opencode_bin",
            "HIVE_OPENCODE_URL": "opencode_url",
            "HIVE_OPENCODE_PASSWORD": "opencode_password",
            "HIVE_OPENCODE_HOME": "opencode_home",
        }
        for var, field in mapping.items():
            if env.get(var):
                values[field] = env[var]
        if env.get("HIVE_PORT_RANGE"):
            low, _, high = env["HIVE_PORT_RANGE"].partition("-")
            values["port_range"] = (low, high)
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            settings = cls.model_validate(values)
        except ValidationError as exc:
            names = {field: var for var, field in mapping.items()} | {
                "hive_home": "HIVE_HOME",
                "port_range": "HIVE_PORT_RANGE",
            }
            problems = "; ".join(
                f"{names.get(str(e['loc'][0]), e['loc'][0])}: {e['msg']}" for e in exc.errors()
            )
            raise SettingsError(f"bad Hive setting: {problems}") from None
        return settings
