"""Payment settings, read from ``BOXOFFICE_PAYMENT_*`` (and ``.env``) when the app starts.

Orders keeps its own settings model so the platform's stays free of provider details.
"""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class PaymentSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BOXOFFICE_PAYMENT_", env_file=".env", extra="ignore"
    )

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
