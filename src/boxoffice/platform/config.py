"""Settings: one pydantic-settings model read from ``BOXOFFICE_*`` variables and ``.env``.

With no settings at all the app runs embedded (SQLite in ``./var``, in-memory adapters).
In production mode it refuses to start with a development key or secret.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-only-secret-change-me"  # noqa: S105 - the marker production mode refuses


class Environment(StrEnum):
    DEV = "dev"
    TEST = "test"
    PRODUCTION = "production"


class OAuthProvider(BaseModel):
    """One social-login provider. ``kind`` is ``oidc`` (Google and any OIDC issuer) or ``kakao``."""

    kind: str = "oidc"
    client_id: str
    client_secret: SecretStr = SecretStr("")
    # OIDC: discovery document; Kakao: explicit endpoints below.
    server_metadata_url: str | None = None
    authorize_url: str | None = None
    token_url: str | None = None
    userinfo_url: str | None = None
    scope: str = "openid email profile"


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
    # A consumer's claim on an event; longer than any handler runs (SMTP timeout included).
    consumer_claim_seconds: float = Field(default=120.0, gt=0)
    processed_event_retention_days: int = Field(default=30, ge=1)
    # Failed consumers (an e-mail the SMTP server refused, ...) are retried after these
    # delays through the retry topic, then dead-lettered.
    retry_delays_seconds: list[float] = Field(default_factory=lambda: [60.0, 300.0, 1800.0, 7200.0])

    # E-mail: SMTP when smtp_host is set, else files in mail_dir (default <data_dir>/mail).
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_tls: bool = False
    smtp_timeout_seconds: float = Field(default=15.0, gt=0)
    mail_from: str = "boxoffice <no-reply@boxoffice.local>"
    mail_dir: Path | None = None

    # Secrets and keys.
    secret_key: SecretStr = SecretStr(DEV_SECRET)
    jwt_private_key_file: Path | None = None
    jwt_extra_public_key_files: list[Path] = Field(default_factory=list)
    access_token_ttl_minutes: int = Field(default=100, ge=1, le=24 * 60)
    refresh_token_ttl_days: int = Field(default=7, ge=1, le=90)
    jwt_issuer: str = "boxoffice"

    # Passwords (argon2id, OWASP's minimum profile by default: see docs/decisions.md).
    password_min_length: int = Field(default=8, ge=8)
    argon2_time_cost: int = Field(default=2, ge=1)
    argon2_memory_kib: int = Field(default=19 * 1024, ge=8 * 1024)
    argon2_parallelism: int = Field(default=1, ge=1)

    # Login throttling: failures allowed per window, per account and per client address.
    login_failures_per_account: int = 5
    login_failures_per_address: int = 30
    login_failure_window_seconds: int = 300
    signup_per_address_per_hour: int = 50

    seller_auto_approve: bool = False

    # Request limits.
    max_json_body_bytes: int = 4 * 1024 * 1024
    max_upload_bytes: int = 10 * 1024 * 1024
    # The hottest routes (queue join and poll, ...) skip FastAPI's routing and dependency
    # machinery (platform/fastlane.py); false sends them through FastAPI like the rest.
    fast_lane: bool = True

    # Social login providers, e.g. BOXOFFICE_OAUTH__GOOGLE__CLIENT_ID.
    oauth: dict[str, OAuthProvider] = Field(default_factory=dict)
    oauth_frontend_redirect: str | None = None

    # Demo data on `boxoffice run`.
    seed_demo: bool = True

    # Batch: the scheduler role and its jobs (docs/batch.md).
    # Statistics refresh connects with this URL (a least-privilege user); unset: database_url.
    stats_database_url: SecretStr | None = None
    # Per-job cron overrides, e.g. {"batch.purge_outbox": "30 4 * * *"}; "off" disables.
    batch_schedules: dict[str, str] = Field(default_factory=dict)
    batch_timezone: str = "UTC"  # the zone cron schedules are read in
    batch_outbox_retention_days: int = Field(default=7, ge=1)
    batch_run_retention_days: int = Field(default=90, ge=1)
    scheduler_in_process: bool = True  # `run`/`serve` also schedule (leases keep it single)
    scheduler_lease_ttl_seconds: float = Field(default=15.0, gt=0)
    scheduler_poll_seconds: float = Field(default=1.0, gt=0)
    batch_run_claim_ttl_seconds: float = Field(default=60.0, gt=0)

    log_level: str = "INFO"
    log_json: bool = True

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
        if problems:
            raise UnsafeSettings("; ".join(problems))

    def redacted(self) -> dict[str, Any]:
        """Settings as a dict with secrets masked, for logs."""
        return self.model_dump(mode="json")  # SecretStr already dumps as '**********'


class UnsafeSettings(RuntimeError):
    """Production settings that would run with a development secret."""
