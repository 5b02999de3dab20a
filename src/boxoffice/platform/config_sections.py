"""The contexts' sections of the settings tree (``boxoffice.platform.config``): one plain
model per context that has settings of its own, read with the root."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, Field, SecretStr


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


class CatalogSettings(BaseModel):
    """``BOXOFFICE_CATALOG_*``: how long catalog's reads are cached, image limits."""

    detail_cache_seconds: float = Field(default=300.0, gt=0)
    listing_cache_seconds: float = Field(default=60.0, gt=0)
    sale_info_cache_seconds: float = Field(default=300.0, gt=0)
    max_image_pixels: int = Field(default=20_000_000, ge=1)  # checked before decoding


class WaitroomSettings(BaseModel):
    """``BOXOFFICE_WAITROOM_*``: the waiting room and its dispatcher."""

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
    # Flow control (docs/waitroom.md): the dispatcher admits at a share of a show's rate,
    # cut by `flow_cut` each second in which more than `flow_strained_share` of the
    # checkout's requests were strained (slower than `checkout_slow_seconds`, or refused
    # busy), grown back by `flow_step` each calm second; never under `flow_floor`.
    flow_control: bool = True
    checkout_slow_seconds: float = Field(default=5.0, gt=0)
    flow_strained_share: float = Field(default=0.2, gt=0, lt=1)
    flow_cut: float = Field(default=0.75, gt=0, lt=1)
    flow_step: float = Field(default=0.05, gt=0, le=1)
    flow_floor: float = Field(default=0.1, gt=0, le=1)


class PaymentSettings(BaseModel):
    """``BOXOFFICE_PAYMENT_*``: the payment providers orders may use."""

    # The simulated provider: on in dev and test, off in production unless asked for.
    internal_enabled: bool | None = None

    toss_secret_key: SecretStr | None = None
    toss_client_key: str = ""
    toss_base_url: str = "https://api.tosspayments.com"

    kakaopay_secret_key: SecretStr | None = None
    kakaopay_cid: str = "TC0ONETIME"
    kakaopay_base_url: str = "https://open-api.kakaopay.com/online/v1/payment"

    # Seconds to wait for a provider; past it the outcome is unknown and reconciled later.
    timeout_seconds: float = 10.0
    connect_timeout_seconds: float = 3.0

    # Where the browser lands after a redirect flow (``?order_id=&status=[&code=]``).
    frontend_result_url: str | None = None
    # A payment confirming for longer than this is looked up by reconciliation.
    stale_confirm_seconds: int = 60


class StorageSettings(BaseModel):
    """``BOXOFFICE_STORAGE_*``: ``backend`` is ``local`` (default) or ``s3``."""

    backend: str = "local"
    local_dir: Path | None = None  # default: <data_dir>/media
    s3_bucket: str = "boxoffice"
    s3_endpoint_url: str | None = None  # None: AWS itself
    s3_region: str = "ap-northeast-2"
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    # Where browsers fetch objects (a CDN or the bucket's public address); default: endpoint/bucket.
    s3_public_url: str | None = None
    s3_create_bucket: bool = False
    # Canned ACL for uploads ("public-read" where browsers fetch the bucket directly);
    # None when a CDN with its own access serves the objects (the usual production set-up).
    s3_acl: str | None = None


class CacheSettings(BaseModel):
    """``BOXOFFICE_CACHE_*``: the cache backend follows ``BOXOFFICE_REDIS_URL`` unless disabled."""

    enabled: bool = True
    max_entries: int = Field(default=10_000, ge=1)  # memory adapter's LRU bound
    default_ttl_seconds: float = Field(default=300.0, gt=0)


class WebSettings(BaseModel):
    """``BOXOFFICE_WEB_*``: the fans' shop (``boxoffice.web``, docs/web.md)."""

    # Toss Payments' browser SDK: the one script a page loads from elsewhere, and only the
    # checkout page, only when Toss is configured (a provider's payment window cannot be
    # served by us; tests point it at the local stand-in).
    toss_sdk_url: str = "https://js.tosspayments.com/v2/standard"
    page_size: int = Field(default=12, ge=1, le=100)  # events per page on the home page
    # A show with more seats than this is drawn section by section (then seat by seat).
    overview_above_seats: int = Field(default=3000, ge=1)
    # How often the console's live dashboard reads a show's figures (per open dashboard).
    console_refresh_seconds: float = Field(default=1.0, gt=0, le=60)


class IdentitySettings(BaseModel):
    """Identity's: passwords, login throttling, sign-up, sellers, social login. Its
    variables keep the names they had before the tree: ``BOXOFFICE_<FIELD>``
    (``BOXOFFICE_LOGIN_FREE_FAILURES``, ``BOXOFFICE_OAUTH__GOOGLE__CLIENT_ID``)."""

    variable_prefix: ClassVar[str] = ""

    # Passwords (argon2id, OWASP's minimum profile by default: see docs/decisions.md).
    password_min_length: int = Field(default=8, ge=8)
    argon2_time_cost: int = Field(default=2, ge=1)
    argon2_memory_kib: int = Field(default=19 * 1024, ge=8 * 1024)
    argon2_parallelism: int = Field(default=1, ge=1)

    # Login throttling (docs/security.md, section 6): per account *and* client address,
    # ``login_free_failures`` failures, then a delay that doubles per further failure from
    # ``login_delay_base_seconds`` up to ``login_delay_max_seconds``; failures are forgotten
    # ``login_failure_memory_seconds`` after the last one, or at a successful sign-in from
    # that address. Per address alone (across accounts): a looser moving window.
    login_free_failures: int = Field(default=5, ge=1)
    login_delay_base_seconds: int = Field(default=10, ge=1)
    login_delay_max_seconds: int = Field(default=900, ge=1)
    login_failure_memory_seconds: int = Field(default=86_400, ge=60)
    login_failures_per_address: int = 30
    login_failure_window_seconds: int = 300
    signup_per_address_per_hour: int = 50

    seller_auto_approve: bool = False

    # Social login providers, e.g. BOXOFFICE_OAUTH__GOOGLE__CLIENT_ID.
    oauth: dict[str, OAuthProvider] = Field(default_factory=dict)
    oauth_frontend_redirect: str | None = None


class NotificationsSettings(BaseModel):
    """Notifications': e-mail and sellers' webhooks. Variables ``BOXOFFICE_<FIELD>``
    (``BOXOFFICE_SMTP_HOST``), the names they had before the tree."""

    variable_prefix: ClassVar[str] = ""

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

    # Sellers' webhooks (notifications/webhooks.py): a delivery's timeout, the failed
    # attempts in a row after which an endpoint is disabled, and whether private or
    # loopback targets are allowed (tests and a local topology only: SSRF guard).
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=30)
    webhook_disable_after_failures: int = Field(default=20, ge=1, le=1000)
    webhook_allow_private_targets: bool = False


class BatchSettings(BaseModel):
    """Batch's: the scheduler role and its jobs (docs/batch.md). Variables
    ``BOXOFFICE_<FIELD>`` (``BOXOFFICE_BATCH_SCHEDULES``), the names they had before the
    tree."""

    variable_prefix: ClassVar[str] = ""

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
