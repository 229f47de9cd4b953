"""Prompt fragments at a URL, fetched with a short timeout and cached under
`$HIVE_HOME/cache/prompts/<sha256 of the URL>`. A fragment that cannot be fetched comes
from the cache, or is skipped: a warning either way, never a failed cell.

`https://` anywhere; plain `http://` only from the machine itself (loopback), where
nobody on the way can change what the agent is told.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from hive.prompts.local import MAX_FILE_BYTES


def is_url(source: str) -> bool:
    return source.startswith(("https://", "http://"))


def _refusal(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme == "https":
        return None
    host = parts.hostname or ""
    if host == "localhost":
        return None
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        pass
    return "plain http is accepted only from loopback addresses; use https"


@dataclass(frozen=True)
class Fetched:
    text: str | None
    warning: str | None = None


class PromptFetcher:
    def __init__(
        self,
        cache_dir: Path,
        *,
        timeout_s: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._cache_dir = cache_dir
        self._timeout_s = timeout_s
        self._transport = transport

    def cache_path(self, url: str) -> Path:
        return self._cache_dir / hashlib.sha256(url.encode()).hexdigest()

    async def fetch(self, url: str) -> Fetched:
        refusal = _refusal(url)
        if refusal is not None:
            return Fetched(None, f"{url}: {refusal}: skipped")
        try:
            text = await self._download(url)
        except (httpx.HTTPError, UnicodeDecodeError, ValueError) as exc:
            reason = str(exc) or type(exc).__name__
            cached = await asyncio.to_thread(self._read_cache, url)
            if cached is None:
                return Fetched(None, f"{url} cannot be fetched ({reason}), none cached: skipped")
            return Fetched(cached, f"{url} cannot be fetched ({reason}): the cached copy is used")
        await asyncio.to_thread(self._write_cache, url, text)
        return Fetched(text)

    async def _download(self, url: str) -> str:
        async with httpx.AsyncClient(
            timeout=self._timeout_s, transport=self._transport, follow_redirects=True
        ) as client:
            response = await client.get(url)
            response.raise_for_status()
            if len(response.content) > MAX_FILE_BYTES:
                raise ValueError(f"over {MAX_FILE_BYTES} bytes")
            return response.content.decode("utf-8")

    def _read_cache(self, url: str) -> str | None:
        try:
            return self.cache_path(url).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def _write_cache(self, url: str, text: str) -> None:
        self._cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.cache_path(url)
        temporary = path.with_name(f".{path.name}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        temporary.replace(path)
