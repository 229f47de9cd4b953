"""Typed results of the OpenCode server's answers, parsed from its JSON (only the fields
Hive reads; the server adds fields freely, so unknown ones are ignored)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hive.core.errors import InvalidInputError


@dataclass(frozen=True)
class ModelRef:
    provider_id: str
    model_id: str
    variant: str | None = None
    """A variant of the model (e.g. a reasoning effort), when the provider has them."""

    def __str__(self) -> str:
        return f"{self.provider_id}/{self.model_id}"


class UnknownModelError(InvalidInputError):
    """The agent does not offer this model: named, with what it does offer."""

    def __init__(self, model: ModelRef, available: Mapping[str, tuple[str, ...]]) -> None:
        offered = "; ".join(f"{p}: {', '.join(ms) or '(none)'}" for p, ms in available.items())
        if model.provider_id not in available:
            what = f"provider {model.provider_id!r} is not connected"
        else:
            what = f"provider {model.provider_id!r} has no model {model.model_id!r}"
        super().__init__(
            f"unknown model {model}: {what}; available: {offered or 'no providers'}",
            hint="choose a listed provider and model: `hive models` lists them",
        )
        self.model = model
        self.available = dict(available)


@dataclass(frozen=True)
class Health:
    healthy: bool
    version: str

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Health:
        return cls(healthy=bool(data.get("healthy")), version=str(data.get("version", "")))


@dataclass(frozen=True)
class Provider:
    id: str
    name: str
    models: tuple[str, ...]


@dataclass(frozen=True)
class Providers:
    """Connected providers, their models, and each provider's default model."""

    providers: tuple[Provider, ...]
    defaults: Mapping[str, str]

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Providers:
        providers = tuple(
            Provider(id=p["id"], name=p.get("name", p["id"]), models=tuple(sorted(p["models"])))
            for p in data.get("providers", [])
        )
        return cls(providers=providers, defaults=dict(data.get("default", {})))

    def available(self) -> dict[str, tuple[str, ...]]:
        return {p.id: p.models for p in self.providers}

    def check(self, model: ModelRef) -> None:
        """Raise UnknownModelError unless `model` is offered."""
        available = self.available()
        if model.model_id not in available.get(model.provider_id, ()):
            raise UnknownModelError(model, available)


@dataclass(frozen=True)
class Session:
    id: str
    directory: str
    title: str

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Session:
        return cls(id=data["id"], directory=data.get("directory", ""), title=data.get("title", ""))


@dataclass(frozen=True)
class MessageResult:
    """A synchronous message's answer: the assistant message id, why it finished, its
    text parts joined, and the error the server recorded on it, if any."""

    message_id: str
    finish: str | None
    text: str
    error: str | None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> MessageResult:
        info = data.get("info", {})
        texts = [p.get("text", "") for p in data.get("parts", []) if p.get("type") == "text"]
        error = info.get("error")
        message = None
        if error:
            message = str(error.get("data", {}).get("message") or error.get("name") or error)
        return cls(
            message_id=info.get("id", ""),
            finish=info.get("finish"),
            text="".join(texts),
            error=message,
        )


@dataclass(frozen=True)
class Event:
    """One event of `GET /event`: its type (`session.status`, `session.idle`,
    `permission.asked`, ...) and properties."""

    type: str
    properties: Mapping[str, Any]

    @property
    def session_id(self) -> str | None:
        value = self.properties.get("sessionID")
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class GlobalEvent(Event):
    """One event of `GET /global/event`, the stream of every directory the server serves:
    an Event plus the worktree it happened in (`global` for server-wide events, None for
    the stream's own `server.connected` and heartbeats)."""

    directory: str | None = None

    @classmethod
    def parse(cls, data: object) -> GlobalEvent | None:
        """The event in one `data:` message, or None for anything else: the `sync`
        envelopes the server also sends (the same events again, for its own clients)
        and shapes Hive does not know."""
        if not isinstance(data, Mapping):
            return None
        payload = data.get("payload")
        if not isinstance(payload, Mapping):
            return None
        kind = payload.get("type")
        if not isinstance(kind, str) or kind == "sync":
            return None
        properties = payload.get("properties")
        directory = data.get("directory")
        return cls(
            type=kind,
            properties=properties if isinstance(properties, Mapping) else {},
            directory=directory if isinstance(directory, str) else None,
        )
