"""Find a cell's processes by a tag in their environment, wherever they went.

A process group holds everything a command forks, except what leaves it on purpose
(`setsid`, a daemon's double fork). So every setup command and service Hive starts
carries `HIVE_PROCESS_TAG` in its environment; children inherit it, and a stop ends
whatever still carries it. Tags start with `cell/<cell id>/`, and cell ids are unique,
so two Hive servers on one machine never match each other's processes. A process that
empties its environment escapes even this.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import psutil

TAG_VARIABLE = "HIVE_PROCESS_TAG"
CELL_TAG_START = "cell/"
"""How every tag starts (`cell_tag`)."""


def cell_tag(cell_id: str) -> str:
    """The prefix every tag of the cell starts with."""
    return f"{CELL_TAG_START}{cell_id}/"


def setup_tag(cell_id: str, service: str | None = None) -> str:
    """Tag of the template's setup commands, or of one service's setup commands."""
    owner = f"service/{service}" if service else "template"
    return f"{setup_prefix(cell_id)}{owner}"


def setup_prefix(cell_id: str) -> str:
    """The prefix of every setup tag of the cell (a restarted server ends them all)."""
    return f"{cell_tag(cell_id)}setup/"


def service_tag(cell_id: str, service: str) -> str:
    return f"{cell_tag(cell_id)}service/{service}"


def service_of_tag(tag: str) -> tuple[str, str] | None:
    """(cell id, service name) of a `service_tag`; None for any other tag."""
    parts = tag.split("/", 3)
    if len(parts) != 4 or f"{parts[0]}/" != CELL_TAG_START or parts[2] != "service":
        return None
    _, cell_id, _, name = parts
    return (cell_id, name) if cell_id and name else None


def agent_tag(cell_id: str) -> str:
    """Tag of the cell's agent process (a command agent in tmux)."""
    return f"{cell_tag(cell_id)}agent"


def tagged(env: Mapping[str, str], tag: str | None) -> dict[str, str]:
    """A copy of `env`, with the tag set when there is one."""
    return {**env} if tag is None else {**env, TAG_VARIABLE: tag}


def inherited_environ() -> dict[str, str]:
    """This server's environment for its own helpers (git, copy workers), minus any tag.

    A server started from a shell inside one of its cells carries that cell's tag;
    its helpers must not, or stopping that cell would stop them too.
    """
    return {name: value for name, value in os.environ.items() if name != TAG_VARIABLE}


def find_tagged(tag: str, *, prefix: bool = False) -> list[psutil.Process]:
    """Live processes started with the tag (or a tag starting with it); blocking."""
    return [process for process, _ in find_tagged_with_tags(tag, prefix=prefix)]


def find_tagged_with_tags(tag: str, *, prefix: bool = False) -> list[tuple[psutil.Process, str]]:
    """Live processes started with the tag (or a tag starting with it), each with its
    own tag; blocking (one /proc scan).

    Only processes whose environment this user may read are seen: a user's own,
    which is every process Hive started. This process is never among them.
    """
    found = []
    me = os.getpid()
    for pid in psutil.pids():
        if pid == me:
            continue
        try:
            # A fresh Process each time: psutil.process_iter's cache may hold a Process
            # for an earlier owner of a reused pid, which then refuses every signal.
            process = psutil.Process(pid)
            value = process.environ().get(TAG_VARIABLE)
        except psutil.Error:  # gone, a zombie, or not ours
            continue
        if value is not None and (value.startswith(tag) if prefix else value == tag):
            found.append((process, value))
    return found
