import dataclasses
import stat
from decimal import Decimal
from pathlib import Path

import pytest

from gatewayz.secrets import key_secret
from gatewayz.settings import DEFAULT_DATABASE_URL, Settings, SettingsError

PG = "postgresql+asyncpg://gw@db:5432/gatewayz"


def test_an_empty_environment_gives_the_embedded_defaults() -> None:
    s = Settings.from_env({})
    assert s.database_url == DEFAULT_DATABASE_URL == "sqlite+aiosqlite:///./gatewayz.db"
    assert s.is_embedded
    assert s.redis_url is None
    assert s.admin_api_key is None
    assert s.admin_max_credit_grant == Decimal(1000)
    assert s.admin_daily_grant_limit == Decimal(5000)
    assert (s.log_level, s.log_format) == ("INFO", "json")
    assert s.key_secret is None


def test_the_seed_variable_names_are_read() -> None:
    s = Settings.from_env({
        "DATABASE_URL": PG, "REDIS_URL": "redis://cache:6379/0", "ADMIN_API_KEY": "admin-env-key",
        "ADMIN_MAX_CREDIT_GRANT": "250.5", "ADMIN_DAILY_GRANT_LIMIT": "0.0000000001",
        "GATEWAYZ_KEY_SECRET": "s3cret", "LOG_LEVEL": "debug", "LOG_FORMAT": "CONSOLE",
        "KEY_CACHE_TTL_SECONDS": "2.5", "DB_POOL_SIZE": "3",
    })
    assert (s.database_url, s.redis_url, s.admin_api_key, s.key_secret) == (
        PG, "redis://cache:6379/0", "admin-env-key", "s3cret")
    assert not s.is_embedded
    assert s.admin_max_credit_grant == Decimal("250.5")
    assert s.admin_daily_grant_limit == Decimal("0.0000000001")
    assert (s.log_level, s.log_format, s.key_cache_ttl_s, s.db_pool_size) == ("DEBUG", "console", 2.5, 3)


def test_empty_optional_variables_count_as_unset() -> None:
    s = Settings.from_env({"DATABASE_URL": "", "REDIS_URL": "", "ADMIN_API_KEY": "", "DB_POOL_SIZE": ""})
    assert (s.database_url, s.redis_url, s.admin_api_key, s.db_pool_size) == (DEFAULT_DATABASE_URL, None, None, 10)


def test_settings_read_only_the_mapping_they_are_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", PG)
    monkeypatch.delenv("GATEWAYZ_KEY_SECRET", raising=False)
    assert Settings.from_env({}).database_url == DEFAULT_DATABASE_URL
    with pytest.raises(SettingsError):
        Settings.from_env()  # the process environment, which names PostgreSQL without a key secret


def test_settings_are_frozen() -> None:
    s = Settings.from_env({})
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.database_url = PG  # type: ignore[misc]


@pytest.mark.parametrize(("name", "value"), [
    ("DB_POOL_SIZE", "many"),
    ("DB_POOL_SIZE", "0"),
    ("KEY_CACHE_TTL_SECONDS", "soon"),
    ("KEY_CACHE_TTL_SECONDS", "-1"),
    ("KEY_CACHE_TTL_SECONDS", "nan"),
    ("KEY_CACHE_TTL_SECONDS", "inf"),
    ("ADMIN_MAX_CREDIT_GRANT", "lots"),
    ("ADMIN_MAX_CREDIT_GRANT", "-1"),
    ("ADMIN_DAILY_GRANT_LIMIT", "NaN"),
    ("ADMIN_DAILY_GRANT_LIMIT", "Infinity"),
    ("LOG_FORMAT", "xml"),
    ("LOG_LEVEL", "LOUD"),
])
def test_an_unusable_value_is_a_settings_error_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


@pytest.mark.parametrize("secret", [None, ""])
def test_the_key_secret_is_required_outside_the_embedded_sqlite(secret: str | None) -> None:
    env = {"DATABASE_URL": PG} | ({"GATEWAYZ_KEY_SECRET": secret} if secret is not None else {})
    with pytest.raises(SettingsError, match="GATEWAYZ_KEY_SECRET"):
        Settings.from_env(env)
    assert Settings.from_env({"DATABASE_URL": PG, "GATEWAYZ_KEY_SECRET": "x"}).key_secret == "x"


def test_the_embedded_default_generates_its_key_secret_once_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "state" / "key_secret"
    s = Settings.from_env({"GATEWAYZ_KEY_SECRET_FILE": str(path)})
    first = key_secret(s)
    assert len(first) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert key_secret(s) == first
    assert key_secret(Settings.from_env({"GATEWAYZ_KEY_SECRET_FILE": str(tmp_path / "other")})) != first


def test_a_given_key_secret_wins_over_the_file(tmp_path: Path) -> None:
    s = Settings.from_env({"GATEWAYZ_KEY_SECRET": "given", "GATEWAYZ_KEY_SECRET_FILE": str(tmp_path / "f")})
    assert key_secret(s) == b"given"
    assert not (tmp_path / "f").exists()


def test_concurrent_first_starts_all_get_the_one_generated_secret(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    for round_ in range(10):
        s = Settings.from_env({"GATEWAYZ_KEY_SECRET_FILE": str(tmp_path / f"r{round_}" / "key_secret")})
        with ThreadPoolExecutor(8) as pool:
            values = set(pool.map(key_secret, [s] * 8))
        assert len(values) == 1 and len(values.pop()) >= 32
        assert [p.name for p in (tmp_path / f"r{round_}").iterdir()] == ["key_secret"]  # no temporary files left


def test_an_empty_key_secret_file_is_refused_rather_than_used_as_an_empty_secret(tmp_path: Path) -> None:
    path = tmp_path / "key_secret"
    path.write_text("")
    with pytest.raises(SettingsError, match="empty"):
        key_secret(Settings.from_env({"GATEWAYZ_KEY_SECRET_FILE": str(path)}))
