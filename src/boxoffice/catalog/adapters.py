"""What catalog attaches to the runtime at start-up: cache, view counter, storage, settings,
and the gzip kept of its public reads."""

from __future__ import annotations

from dataclasses import dataclass, field

from boxoffice.catalog.views import MemoryViewCounter, RedisViewCounter, ViewCounter
from boxoffice.platform.cache import Cache, attach_cache
from boxoffice.platform.compression import GzipMemo
from boxoffice.platform.config import CatalogSettings
from boxoffice.platform.kv import RedisStore
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.storage import Storage

LIST_TAG = "catalog:list"


@dataclass
class CatalogAdapters:
    settings: CatalogSettings
    cache: Cache
    views: ViewCounter
    storage: Storage
    gzip: GzipMemo = field(default_factory=GzipMemo)


def event_tag(event_id: str) -> str:
    return f"catalog:ev:{event_id}"


def show_tag(show_id: str) -> str:
    return f"catalog:show:{show_id}"


def attach(runtime: Runtime) -> CatalogAdapters:
    """Catalog's adapters, made once per runtime (the app's start-up, or the CLI's flush)."""
    return runtime.adapters.ensure(CatalogAdapters, lambda: _build(runtime))


def _build(runtime: Runtime) -> CatalogAdapters:
    views: ViewCounter = (
        RedisViewCounter(runtime.kv.client, runtime.kv.prefix)
        if isinstance(runtime.kv, RedisStore)
        else MemoryViewCounter()
    )
    return CatalogAdapters(
        settings=runtime.settings.catalog,
        cache=attach_cache(runtime),
        views=views,
        storage=_NoStorage(),
    )


def adapters(runtime: Runtime) -> CatalogAdapters:
    return attach(runtime)


class _NoStorage:
    """Placeholder until start-up attaches the real storage (jobs and CLI need none)."""

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        raise RuntimeError("catalog storage not attached")

    async def get(self, key: str) -> bytes | None:
        raise RuntimeError("catalog storage not attached")

    async def delete(self, key: str) -> None:
        raise RuntimeError("catalog storage not attached")

    def url(self, key: str) -> str:
        raise RuntimeError("catalog storage not attached")

    async def close(self) -> None:
        return None
