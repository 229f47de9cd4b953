"""Real git repositories with a hive.config.json, made in a temporary directory."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

GIT_IDENTITY = ["-c", "user.name=Hive Test", "-c", "user.email=test@hive.local"]


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repo), *GIT_IDENTITY, *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip()


def basic_template(**overrides: Any) -> dict[str, Any]:
    template: dict[str, Any] = {
        "id": "basic",
        "label": "Basic",
        "type": "manual",
        "env": {"APP_MODE": "test", "API_TOKEN": "s3cret-value"},
        "setup": ['echo "setup for $HIVE_CELL_NAME" > setup-ran.txt'],
        "includePatterns": ["./.env*"],
    }
    template.update(overrides)
    return template


def write_config(repo: Path, templates: dict[str, Any], **extra: Any) -> Path:
    config = {"promptSources": [], "templates": templates, **extra}
    path = repo / "hive.config.json"
    path.write_text(json.dumps(config, indent=2))
    return path


def make_repo(root: Path, templates: dict[str, Any] | None = None) -> Path:
    """A committed repository with an ignored .env (top level and nested) and a config."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    (root / "README.md").write_text("# repo\n")
    (root / ".gitignore").write_text(".env*\nnode_modules/\n")
    (root / ".env").write_text("TOP=1\n")
    (root / "apps" / "web").mkdir(parents=True)
    (root / "apps" / "web" / ".env").write_text("NESTED=1\n")
    (root / "apps" / "web" / "index.js").write_text("console.log(1)\n")
    write_config(root, templates if templates is not None else {"basic": basic_template()})
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root
