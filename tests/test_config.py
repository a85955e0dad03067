"""Settings come from the environment; weak secrets are refused off the embedded default."""
from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from data_layer.errors import UserError
from shell.settings import load_settings, secret_key_problem

STRONG = "kT3v9Qx1Lm7Zp2Wc8Rb5Yn4Hd6Fs0Ja-u_EoGiXqVtNwMyKlPzRsC"


def test_embedded_default_uses_the_data_folder_and_keeps_a_generated_secret(tmp_path: Path) -> None:
    env = {"DATA_DIR": str(tmp_path / "d")}
    s = load_settings(env, env_file=None)
    assert s.embedded
    assert s.warehouse_url == f"duckdb:///{tmp_path / 'd' / 'warehouse.duckdb'}"
    assert s.app_db_url == f"sqlite:///{tmp_path / 'd' / 'app.sqlite'}"
    assert s.cache_url is None
    assert secret_key_problem(s.secret_key) is None
    key_file = tmp_path / "d" / "secret_key"
    assert key_file.stat().st_mode & 0o077 == 0
    assert load_settings(env, env_file=None).secret_key == s.secret_key  # kept, not regenerated


def test_a_configured_warehouse_requires_a_secret_key(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="SECRET_KEY is required"):
        load_settings({"DATA_DIR": str(tmp_path), "WAREHOUSE_URL": "postgresql://u@h/db"}, env_file=None)


@pytest.mark.parametrize("key", ["secret", "changeme" * 5, "a" * 64, "short-but-random-9Xq"])
def test_weak_secret_keys_are_refused_off_the_embedded_default(tmp_path: Path, key: str) -> None:
    with pytest.raises(UserError, match="SECRET_KEY is too weak"):
        load_settings({"DATA_DIR": str(tmp_path), "WAREHOUSE_URL": "postgresql://u@h/db", "SECRET_KEY": key},
                      env_file=None)


@pytest.mark.parametrize("key", ["abc" * 48, "0123456789" * 5, "password" * 6, "correcthorse" * 4,
                                 "Xq7#pL9!vR2@" * 4, "k3Jd8sLq0Zx1Vb7NmQ2w" * 3, "0123456789" * 5 + "x"])
def test_low_entropy_keys_such_as_a_repeated_pattern_are_refused(key: str) -> None:
    assert secret_key_problem(key) is not None


@pytest.mark.parametrize("make", [lambda: secrets.token_urlsafe(48), lambda: secrets.token_hex(32),
                                  lambda: secrets.token_urlsafe(32)])
def test_generated_keys_pass_the_entropy_check(make) -> None:
    for _ in range(200):
        key = make()
        assert secret_key_problem(key) is None, key


def test_a_strong_key_and_redis_cache_are_accepted(tmp_path: Path) -> None:
    s = load_settings({"DATA_DIR": str(tmp_path), "WAREHOUSE_URL": "postgresql://u:pw@h/db", "SECRET_KEY": STRONG,
                       "CACHE_URL": "redis://127.0.0.1:6379/3", "APP_DB_URL": "postgresql://u@h/app"}, env_file=None)
    assert not s.embedded and s.cache_url == "redis://127.0.0.1:6379/3"
    assert "pw" not in s.describe()


@pytest.mark.parametrize(("var", "value", "message"), [
    ("WAREHOUSE_URL", "not a url", "cannot parse database URL"),
    ("APP_DB_URL", "::::", "cannot parse database URL"),
    ("CACHE_URL", "memcached://x", "unsupported CACHE_URL"),
    ("PORT", "eighty", "PORT must be a number"),
])
def test_bad_settings_get_a_clear_message(tmp_path: Path, var: str, value: str, message: str) -> None:
    env = {"DATA_DIR": str(tmp_path), "SECRET_KEY": STRONG, var: value}
    with pytest.raises(UserError, match=message):
        load_settings(env, env_file=None)


def test_env_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"PORT=9001\nHOST=0.0.0.0\nDATA_DIR={tmp_path}\n")
    s = load_settings({"PORT": "9002"}, env_file=env_file)
    assert (s.host, s.port) == ("0.0.0.0", 9002)


@pytest.mark.parametrize(("url", "secret"), [
    ("postgresql://reader:S3cret-pw@db.local:5432/wh", "S3cret-pw"),
    ("postgresql://reader:S3cr@t@db.local:5432/wh", "S3cr@t"),  # an unencoded @ in the password
    ("mysql+pymysql://u:pw-1@h/db?password=zzz-secret&charset=utf8mb4", "zzz-secret"),
    ("postgresql://h/db?sslkey=/etc/key.pem&sslpassword=abc-secret", "abc-secret"),
])
def test_addresses_in_messages_and_the_admin_page_hide_every_secret(url: str, secret: str) -> None:
    from data_layer.engine import redact

    shown = redact(url)
    assert secret not in shown and "***" in shown
    assert "charset=utf8mb4" in shown or "charset" not in url  # what is not a secret stays readable


def test_the_data_layer_and_the_command_line_read_only_what_they_need(tmp_path: Path, monkeypatch) -> None:
    """Web settings (secret key, cookies, limits) live with the web app: the data layer's and the
    application database's command lines run without them; the web app still refuses to start."""
    from appdb.config import app_db_url
    from data_layer.config import load_warehouse_settings

    env = {"DATA_DIR": str(tmp_path), "WAREHOUSE_URL": "postgresql://u@h/db", "MAX_REQUEST_MB": "nonsense"}
    where = load_warehouse_settings(env, env_file=None)
    assert (where.warehouse_url, where.embedded, where.data_dir) == ("postgresql://u@h/db", False, tmp_path)
    assert app_db_url(env) == f"sqlite:///{tmp_path / 'app.sqlite'}"
    with pytest.raises(UserError, match="SECRET_KEY is required"):
        load_settings(env, env_file=None)
