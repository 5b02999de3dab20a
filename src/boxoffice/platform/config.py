"""Settings: one tree, read from ``BOXOFFICE_*`` variables and ``.env``.

The root holds what the kernel needs (database, Redis, broker, keys, limits, logs); each
context that has settings of its own has a section (``settings.identity``,
``settings.waitroom``, ``settings.notifications``, ...), a plain model read with the root.
A section's variables are ``BOXOFFICE_<SECTION>_<FIELD>``
(``BOXOFFICE_WAITROOM_TICK_SECONDS``), or ``BOXOFFICE_<FIELD>`` for the sections whose
fields lived at the root before (identity, notifications, batch: their variables kept
their names, ``BOXOFFICE_SMTP_HOST``); the nested form ``BOXOFFICE_WAITROOM__TICK_SECONDS``
works for every section. No two settings share a variable. Tests configure by constructing
settings (``Settings(waitroom=WaitroomSettings(tick_seconds=0.2))``), never by
environment variables. With no settings at all the app runs embedded (SQLite in
``./var``, in-memory adapters); in production mode it refuses to start with a
development key or secret.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from boxoffice.platform.config_sections import (
    BatchSettings,
    CacheSettings,
    CatalogSettings,
    IdentitySettings,
    NotificationsSettings,
    OAuthProvider,
    PaymentSettings,
    StorageSettings,
    WaitroomSettings,
    WebSettings,
)

__all__ = [
    "SECTIONS",
    "BatchSettings",
    "CacheSettings",
    "CatalogSettings",
    "Environment",
    "IdentitySettings",
    "NotificationsSettings",
    "OAuthProvider",
    "PaymentSettings",
    "Settings",
    "StorageSettings",
    "UnsafeSettings",
    "WaitroomSettings",
    "WebSettings",
    "variable_prefix",
]

DEV_SECRET = "dev-only-secret-change-me"  # noqa: S105 - the marker production mode refuses


class Environment(StrEnum):
    DEV = "dev"
    TEST = "test"
    PRODUCTION = "production"


SECTIONS: dict[str, type[BaseModel]] = {
    "identity": IdentitySettings,
    "catalog": CatalogSettings,
    "waitroom": WaitroomSettings,
    "payment": PaymentSettings,
    "storage": StorageSettings,
    "cache": CacheSettings,
    "web": WebSettings,
    "notifications": NotificationsSettings,
    "batch": BatchSettings,
}


def variable_prefix(section: str) -> str:
    """What a section's variables are called after ``BOXOFFICE_``: ``<SECTION>_<FIELD>``, or
    ``<FIELD>`` for a section whose fields kept the names they had at the root."""
    prefix: str = getattr(SECTIONS[section], "variable_prefix", f"{section}_")
    return prefix


class _SectionVariables(PydanticBaseSettingsSource):
    """Each section's variables from the environment (and, below it, ``.env``): the names
    they have always had (:func:`variable_prefix`); a dict or list as JSON, or spelled out
    with ``__`` (``BOXOFFICE_OAUTH__GOOGLE__CLIENT_ID``)."""

    def __init__(
        self, settings_cls: type[BaseSettings], *sources: EnvSettingsSource | None
    ) -> None:
        super().__init__(settings_cls)
        self._variables: dict[str, str | None] = {}
        for source in reversed([s for s in sources if s is not None]):  # first one wins
            self._variables.update({k.lower(): v for k, v in source.env_vars.items()})

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # everything is read in __call__

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for section, model in SECTIONS.items():
            prefix = f"boxoffice_{variable_prefix(section)}"
            values = {}
            for name, field in model.model_fields.items():
                value = self._variables.get(prefix + name)
                if value is not None:
                    complex_ = self.field_is_complex(field)
                    values[name] = (
                        self.decode_complex_value(name, field, value) if complex_ else value
                    )
                nested = self._nested(prefix + name + "__")
                if nested:
                    values[name] = nested
            if values:
                found[section] = values
        return found

    def _nested(self, start: str) -> dict[str, Any]:
        tree: dict[str, Any] = {}
        for key, value in self._variables.items():
            if key.startswith(start) and value is not None:
                *path, leaf = key[len(start) :].split("__")
                branch = tree
                for part in path:
                    branch = branch.setdefault(part, {})
                branch[leaf] = value
        return tree


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BOXOFFICE_",
        env_file=".env",
        env_nested_delimiter="__",
        extra="ignore",
    )

    environment: Environment = Environment.DEV
    data_dir: Path = Path("var")
    public_url: str = "http://127.0.0.1:8000"

    # Database: SQLite by default; postgresql+asyncpg:// or mysql+asyncmy:// in production.
    database_url: str = ""
    database_pool_size: int = 10
    # Seconds a request waits for a pooled connection before its 503 "try again"; under
    # the gateway's 60-s read timeout (why 45, not SQLAlchemy's 30: docs/decisions.md).
    database_pool_timeout_seconds: float = Field(default=45.0, gt=0, le=55)
    database_echo: bool = False

    # Redis: absent means in-process memory adapters.
    redis_url: str | None = None
    redis_prefix: str = "bo"

    # Messaging (docs/messaging.md): no broker URL means events are consumed in-process
    # from the outbox. redis:// (Streams), nats:// (JetStream), amqp:// (RabbitMQ), kafka://.
    broker_url: str | None = None
    broker_prefix: str = ""  # prepended to topics, streams and queues (tests, shared brokers)
    relay_batch_size: int = Field(default=500, ge=1, le=10_000)
    relay_poll_seconds: float = Field(default=0.2, gt=0)
    consumer_concurrency: int = Field(default=16, ge=1, le=256)
    # A delivery left unacknowledged this long (worker died) goes to another worker.
    redelivery_after_seconds: float = Field(default=60.0, gt=0)
    # A consumer's claim on an event, renewed every third of it while its handler runs
    # (messaging/claim_keeper.py): a dead worker's claim lapses within this.
    consumer_claim_seconds: float = Field(default=30.0, gt=0)
    processed_event_retention_days: int = Field(default=30, ge=1)
    # Failed consumers (an e-mail the SMTP server refused, ...) are retried after these
    # delays through the retry topic, then dead-lettered.
    retry_delays_seconds: list[float] = Field(default_factory=lambda: [60.0, 300.0, 1800.0, 7200.0])

    # Secrets and keys.
    secret_key: SecretStr = SecretStr(DEV_SECRET)
    jwt_private_key_file: Path | None = None
    jwt_extra_public_key_files: list[Path] = Field(default_factory=list)
    access_token_ttl_minutes: int = Field(default=100, ge=1, le=24 * 60)
    refresh_token_ttl_days: int = Field(default=7, ge=1, le=90)
    jwt_issuer: str = "boxoffice"

    # Request limits.
    max_json_body_bytes: int = 4 * 1024 * 1024
    max_upload_bytes: int = 10 * 1024 * 1024
    # Images decoded at once per process (each up to ~80 MB of pixels; platform/media.py).
    image_decode_concurrency: int = Field(default=2, ge=1)
    # The hottest routes (queue join and poll, ...) skip FastAPI's routing and dependency
    # machinery (platform/fastlane.py); false sends them through FastAPI like the rest.
    fast_lane: bool = True
    # Peers whose X-Forwarded-For/-Proto the app believes (the gateway): addresses or CIDRs,
    # comma-separated. Anyone else's forwarded headers are ignored (docs/security.md, 5.).
    trusted_proxies: str = "127.0.0.1,::1"

    # Demo data on `boxoffice run`.
    seed_demo: bool = True

    log_level: str = "INFO"
    log_json: bool = True

    # The contexts' sections.
    identity: IdentitySettings = Field(default_factory=IdentitySettings)
    catalog: CatalogSettings = Field(default_factory=CatalogSettings)
    waitroom: WaitroomSettings = Field(default_factory=WaitroomSettings)
    payment: PaymentSettings = Field(default_factory=PaymentSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    notifications: NotificationsSettings = Field(default_factory=NotificationsSettings)
    batch: BatchSettings = Field(default_factory=BatchSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sections = _SectionVariables(
            settings_cls,
            env_settings if isinstance(env_settings, EnvSettingsSource) else None,
            dotenv_settings if isinstance(dotenv_settings, DotEnvSettingsSource) else None,
        )
        return init_settings, env_settings, sections, dotenv_settings, file_secret_settings

    @model_validator(mode="after")
    def _fill_defaults(self) -> Self:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'boxoffice.db'}"
        return self

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    @property
    def dev_key_path(self) -> Path:
        return self.data_dir / "keys" / "jwt-dev.pem"

    def refuse_unsafe_production(self) -> None:
        """Fail fast when production would run with a development secret or key."""
        problems: list[str] = []
        if self.is_production:
            if self.secret_key.get_secret_value() in (DEV_SECRET, ""):
                problems.append("BOXOFFICE_SECRET_KEY is the development secret")
            if len(self.secret_key.get_secret_value()) < 32:
                problems.append("BOXOFFICE_SECRET_KEY must be at least 32 characters")
            if self.jwt_private_key_file is None:
                problems.append("BOXOFFICE_JWT_PRIVATE_KEY_FILE is not set (dev key generation)")
            elif self.jwt_private_key_file.resolve() == self.dev_key_path.resolve():
                problems.append("BOXOFFICE_JWT_PRIVATE_KEY_FILE points at the generated dev key")
            if self.database_url.startswith("sqlite"):
                problems.append("BOXOFFICE_DATABASE_URL is SQLite; production needs a server")
            if "*" in self.trusted_proxies:
                problems.append("BOXOFFICE_TRUSTED_PROXIES trusts everyone (X-Forwarded-For)")
        if problems:
            raise UnsafeSettings("; ".join(problems))

    def redacted(self) -> dict[str, Any]:
        """Settings as a dict with secrets masked, for logs."""
        return self.model_dump(mode="json")  # SecretStr already dumps as '**********'


class UnsafeSettings(RuntimeError):
    """Production settings that would run with a development secret."""
