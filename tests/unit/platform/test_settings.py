"""Settings fail fast: production refuses development secrets and keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from boxoffice.platform.config import Environment, Settings, UnsafeSettings
from boxoffice.platform.security import generate_key_file


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, **values)  # type: ignore[arg-type]


def test_no_settings_means_embedded(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.redis_url is None
    settings.refuse_unsafe_production()  # dev mode accepts the dev secret


def test_production_refuses_dev_secret_and_generated_key(tmp_path: Path) -> None:
    generate_key_file(tmp_path / "keys" / "jwt-dev.pem")
    settings = _settings(
        tmp_path,
        environment=Environment.PRODUCTION,
        database_url="postgresql+asyncpg://db/boxoffice",
        jwt_private_key_file=tmp_path / "keys" / "jwt-dev.pem",
    )
    with pytest.raises(UnsafeSettings) as refused:
        settings.refuse_unsafe_production()
    message = str(refused.value)
    assert "SECRET_KEY" in message
    assert "generated dev key" in message


def test_production_refuses_sqlite_and_missing_key(tmp_path: Path) -> None:
    settings = _settings(tmp_path, environment=Environment.PRODUCTION, secret_key="x" * 40)
    with pytest.raises(UnsafeSettings, match="JWT_PRIVATE_KEY_FILE is not set"):
        settings.refuse_unsafe_production()
    with pytest.raises(UnsafeSettings, match="SQLite"):
        settings.refuse_unsafe_production()


def test_production_with_real_secrets_starts(tmp_path: Path) -> None:
    generate_key_file(tmp_path / "prod.pem")
    settings = _settings(
        tmp_path,
        environment=Environment.PRODUCTION,
        secret_key="s" * 48,
        jwt_private_key_file=tmp_path / "prod.pem",
        database_url="postgresql+asyncpg://db/boxoffice",
    )
    settings.refuse_unsafe_production()


def test_secrets_are_masked_when_settings_are_logged(tmp_path: Path) -> None:
    settings = _settings(tmp_path, secret_key="super-secret-value-123")
    assert "super-secret-value-123" not in str(settings.redacted())
    assert "super-secret-value-123" not in repr(settings)


def test_settings_come_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BOXOFFICE_REDIS_URL", "redis://cache:6379/0")
    monkeypatch.setenv("BOXOFFICE_ACCESS_TOKEN_TTL_MINUTES", "30")
    monkeypatch.setenv("BOXOFFICE_OAUTH__GOOGLE__CLIENT_ID", "gid")
    settings = _settings(tmp_path)
    assert settings.redis_url == "redis://cache:6379/0"
    assert settings.access_token_ttl_minutes == 30
    assert settings.identity.oauth["google"].client_id == "gid"


def test_each_section_reads_its_own_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from boxoffice.platform.config import WaitroomSettings

    monkeypatch.setenv("BOXOFFICE_PAYMENT_TOSS_SECRET_KEY", "test_sk_123")
    monkeypatch.setenv("BOXOFFICE_WAITROOM_TICK_SECONDS", "0.25")
    monkeypatch.setenv("BOXOFFICE_CACHE__ENABLED", "false")  # the nested spelling too
    settings = _settings(tmp_path)
    assert settings.payment.toss_secret_key is not None
    assert settings.payment.toss_secret_key.get_secret_value() == "test_sk_123"
    assert settings.waitroom.tick_seconds == 0.25
    assert settings.cache.enabled is False
    assert settings.catalog.detail_cache_seconds == 300.0  # untouched sections keep defaults
    given = _settings(tmp_path, waitroom=WaitroomSettings(tick_seconds=0.5))
    assert given.waitroom.tick_seconds == 0.5  # what a test constructs wins


def test_sections_that_left_the_root_keep_their_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BOXOFFICE_SMTP_HOST", "mail.example")
    monkeypatch.setenv("BOXOFFICE_LOGIN_FREE_FAILURES", "3")
    monkeypatch.setenv("BOXOFFICE_BATCH_SCHEDULES", '{"batch.purge_outbox": "off"}')
    monkeypatch.setenv("BOXOFFICE_OAUTH__KAKAO__CLIENT_ID", "kid")
    monkeypatch.setenv("BOXOFFICE_OAUTH__KAKAO__KIND", "kakao")
    monkeypatch.setenv("BOXOFFICE_NOTIFICATIONS__WEBHOOK_TIMEOUT_SECONDS", "2.5")
    settings = _settings(tmp_path)
    assert settings.notifications.smtp_host == "mail.example"
    assert settings.notifications.webhook_timeout_seconds == 2.5  # the nested spelling
    assert settings.identity.login_free_failures == 3
    assert settings.batch.batch_schedules == {"batch.purge_outbox": "off"}
    assert settings.identity.oauth["kakao"].client_id == "kid"
    assert settings.identity.oauth["kakao"].kind == "kakao"
    assert settings.identity.argon2_time_cost == 2  # the rest of the section keeps defaults


def test_no_two_settings_share_a_variable() -> None:
    from boxoffice.platform.config import SECTIONS, variable_prefix

    names = [name for name in Settings.model_fields if name not in SECTIONS]
    for section, model in SECTIONS.items():
        names += [variable_prefix(section) + name for name in model.model_fields]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    assert not set(names) & set(SECTIONS)  # no variable is a section's own name
