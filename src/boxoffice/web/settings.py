"""The shop's own settings (``BOXOFFICE_WEB_*``), read once when the app is built."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BOXOFFICE_WEB_", env_file=".env", extra="ignore")

    # Toss Payments' browser SDK: the one script a page loads from elsewhere, and only the
    # checkout page, only when Toss is configured (a provider's payment window cannot be
    # served by us; tests point it at the local stand-in).
    toss_sdk_url: str = "https://js.tosspayments.com/v2/standard"
    # Events per page on the home page.
    page_size: int = Field(default=12, ge=1, le=100)
    # A show with more seats than this is drawn section by section (then seat by seat).
    overview_above_seats: int = Field(default=3000, ge=1)
