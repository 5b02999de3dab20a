"""The providers this process can use, built once from :class:`PaymentSettings`."""

from __future__ import annotations

from boxoffice.orders.errors import ProviderNotAvailable
from boxoffice.orders.payments.base import PaymentProvider
from boxoffice.orders.payments.internal import InternalProvider
from boxoffice.orders.payments.kakaopay import KakaoPayProvider, redirect_key
from boxoffice.orders.payments.toss import TossProvider
from boxoffice.platform.config import PaymentSettings
from boxoffice.platform.runtime import Runtime


class Providers:
    def __init__(self, settings: PaymentSettings, providers: dict[str, PaymentProvider]) -> None:
        self.settings = settings
        self._providers = providers

    @property
    def names(self) -> list[str]:
        return sorted(self._providers)

    def get(self, name: str) -> PaymentProvider:
        provider = self._providers.get(name)
        if provider is None:
            raise ProviderNotAvailable(
                f"Payment provider '{name}' is not configured here.",
                errors=[
                    {"loc": ["body", "payment_provider"], "msg": f"choose one of {self.names}"}
                ],
            )
        return provider

    async def aclose(self) -> None:
        for provider in self._providers.values():
            await provider.aclose()


def build_providers(runtime: Runtime, settings: PaymentSettings | None = None) -> Providers:
    settings = settings or runtime.settings.payment
    api = runtime.settings.public_url.rstrip("/") + "/api/v1"
    providers: dict[str, PaymentProvider] = {}
    internal = settings.internal_enabled
    if internal is None:
        internal = not runtime.settings.is_production
    if internal:
        providers["internal"] = InternalProvider(runtime.clock, runtime.kv)
    timeouts = {
        "timeout": settings.timeout_seconds,
        "connect_timeout": settings.connect_timeout_seconds,
    }
    if settings.toss_secret_key is not None:
        providers["toss"] = TossProvider(
            secret_key=settings.toss_secret_key.get_secret_value(),
            client_key=settings.toss_client_key,
            base_url=settings.toss_base_url,
            success_url=f"{api}/payments/toss/success",
            fail_url=f"{api}/payments/toss/fail",
            **timeouts,
        )
    if settings.kakaopay_secret_key is not None:
        providers["kakaopay"] = KakaoPayProvider(
            secret_key=settings.kakaopay_secret_key.get_secret_value(),
            cid=settings.kakaopay_cid,
            base_url=settings.kakaopay_base_url,
            approval_url=f"{api}/payments/kakaopay/approve",
            cancel_url=f"{api}/payments/kakaopay/cancel",
            fail_url=f"{api}/payments/kakaopay/fail",
            redirect_key=redirect_key(runtime.settings.secret_key.get_secret_value()),
            **timeouts,
        )
    return Providers(settings, providers)


def providers_of(runtime: Runtime) -> Providers:
    """The process's providers (built on first use when the app's start-up did not)."""
    return runtime.adapters.ensure(Providers, lambda: build_providers(runtime))
