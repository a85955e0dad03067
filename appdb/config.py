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
