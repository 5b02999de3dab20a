"""The waiting room's own settings (``BOXOFFICE_WAITROOM_*``), read once at start-up."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WaitroomSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BOXOFFICE_WAITROOM_", env_file=".env", extra="ignore"
    )

    # How long an admitted person may hold seats before the place counts as expired.
    admission_ttl_seconds: int = Field(default=600, ge=10)
    # SSE: a comment line this often keeps proxies and browsers from dropping the stream.
    heartbeat_seconds: float = Field(default=15.0, gt=0)
    # SSE: people further back than this position get a `position` event at most every
    # `stream_distant_every_seconds` (0: everyone at every change, the default). Twenty
    # thousand people far back gain nothing from an update per tick, and each costs the
    # process a write; a flash sale's deployment turns this on (docs/waitroom.md).
    stream_distant_position: int = Field(default=0, ge=0)
    stream_distant_every_seconds: float = Field(default=5.0, gt=0)
    # SSE: the reconnect delay suggested to browsers (the `retry:` field), in milliseconds.
    stream_retry_ms: int = Field(default=3000, ge=100)
    # Dispatcher: how often it admits (the issue requires <= 1 s).
    tick_seconds: float = Field(default=0.5, gt=0, le=1.0)
    # Dispatcher: also run one (under the same lease) inside API processes that run
    # background loops; off when `boxoffice dispatcher` processes do all the admitting.
    dispatch_in_process: bool = True
    # Dispatcher: leader lease; a standby takes over at most this long after a crash.
    lease_seconds: float = Field(default=3.0, gt=0)
    # Measured admit rate: averaged over this window (for eta_seconds).
    rate_window_seconds: float = Field(default=10.0, gt=0)
    # A process re-reads a show's serving number when pub/sub said nothing for this long.
    stale_after_seconds: float = Field(default=3.0, gt=0)
    # Catalog sale info is cached this long per process (joins are the hot path).
    sale_info_cache_seconds: float = Field(default=2.0, ge=0)
    # Queue state is kept this long after the last change to the show's queue.
    retention_hours: int = Field(default=72, ge=1)
    # Joins allowed per user and per client address (a NAT'd venue shares one address).
    joins_per_user_per_minute: int = Field(default=20, ge=1)
    joins_per_address_per_minute: int = Field(default=600, ge=1)
    # Connections to Redis per process (requests beyond wait for one to be free).
    redis_max_connections: int = Field(default=64, ge=2)
