"""Where the application database is: APP_DB_URL, by default a SQLite file in the data folder."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from data_layer.config import data_dir, env_values
from data_layer.engine import parse_url

APP_DB_FILE = "app.sqlite"


def app_db_url(values: Mapping[str, str]) -> str:
    """APP_DB_URL from settings' raw text (`data_layer.config.env_values`). Raises UserError."""
    url = values.get("APP_DB_URL") or f"sqlite:///{data_dir(values) / APP_DB_FILE}"
    parse_url(url)
    return url


def configured_app_db_url(env_file: str | Path | None = ".env") -> str:
    """APP_DB_URL from the environment and the .env file (for the command line)."""
    return app_db_url(env_values(env_file=env_file))


SMTP_SECURITY = {"starttls": 587, "ssl": 465, "none": 25}  # SMTP_SECURITY -> its usual port


def notify_settings(values: Mapping[str, str]):  # noqa: ANN201 - appdb.notify.NotifySettings (imported late)
    """Alert delivery's settings from settings' raw text (docs/configuration.md). Raises UserError."""
    from urllib.parse import urlsplit

    from data_layer.config import number
    from data_layer.errors import UserError

    from .channels import Smtp
    from .notify import NotifySettings
    from .subscriptions import check_email

    base = (values.get("APP_BASE_URL") or "http://127.0.0.1:8050").strip().rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(f"APP_BASE_URL must be the dashboard's address as people open it, e.g. "
                        f"https://dashboard.hospital.local, got {base!r}")
    smtp = None
    if host := (values.get("SMTP_HOST") or "").strip():
        security = (values.get("SMTP_SECURITY") or "starttls").strip().lower()
        if security not in SMTP_SECURITY:
            raise UserError(f"SMTP_SECURITY must be one of {', '.join(SMTP_SECURITY)}, got {security!r}")
        sender = (values.get("SMTP_FROM") or "").strip()
        try:
            check_email(sender)
        except ValueError:
            sender = ""
        if not sender:
            raise UserError("SMTP_FROM must be the address alert emails come from, e.g. alerts@hospital.local")
        smtp = Smtp(host=host, port=int(number(values, "SMTP_PORT", SMTP_SECURITY[security], 1, 65535)), sender=sender,
                    user=(values.get("SMTP_USER") or "").strip(), password=values.get("SMTP_PASSWORD") or "",
                    security=security)
    return NotifySettings(base_url=base, smtp=smtp,
                          escalate_days=int(number(values, "NOTIFY_ESCALATE_DAYS", 2, 1, 60)),
                          max_attempts=int(number(values, "NOTIFY_MAX_ATTEMPTS", 5, 1, 20)),
                          retry_minutes=float(number(values, "NOTIFY_RETRY_MINUTES", 5.0, 0.1, 1440)),
                          timeout_seconds=float(number(values, "NOTIFY_TIMEOUT_SECONDS", 10.0, 1, 120)))
