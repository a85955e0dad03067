"""What the data layer reads from the environment (and an optional .env file): where the data
folder and the warehouse are. The web app's settings (secret key, sessions, cookies, cache, limits)
live with the web app, in shell/settings.py, which reads these through `warehouse_settings`."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from .engine import parse_url
from .errors import UserError

DEFAULT_DATA_DIR = "data"
WAREHOUSE_FILE = "warehouse.duckdb"
# The demo warehouse built on first start.
DEMO_SCALE = 1.0
DEMO_YEARS = 5
DEMO_SEED = 42


@dataclass(frozen=True)
class WarehouseSettings:
    data_dir: Path
    warehouse_url: str
    embedded: bool  # the warehouse is the default DuckDB file in the data folder

    @property
    def warehouse_path(self) -> Path | None:
        """The file of a DuckDB/SQLite warehouse, else None."""
        url = parse_url(self.warehouse_url)
        if url.get_backend_name() in ("duckdb", "sqlite") and url.database and url.database != ":memory:":
            return Path(url.database)
        return None


def env_values(env: Mapping[str, str] | None = None, env_file: str | Path | None = ".env") -> dict[str, str]:
    """The settings' raw text: the environment (or `env`) wins over the .env file."""
    values: dict[str, str] = {}
    if env_file and Path(env_file).exists():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(dict(os.environ if env is None else env))
    return values


def data_dir(values: Mapping[str, str]) -> Path:
    return Path(values.get("DATA_DIR") or DEFAULT_DATA_DIR).expanduser().resolve()


def warehouse_settings(values: Mapping[str, str]) -> WarehouseSettings:
    """DATA_DIR and WAREHOUSE_URL (default: the DuckDB file in the data folder). Raises UserError."""
    folder = data_dir(values)
    wh = values.get("WAREHOUSE_URL") or ""
    embedded = not wh
    if embedded:
        wh = f"duckdb:///{folder / WAREHOUSE_FILE}"
    parse_url(wh)  # refuses an unparsable URL with a clear message
    return WarehouseSettings(data_dir=folder, warehouse_url=wh, embedded=embedded)


def load_warehouse_settings(env: Mapping[str, str] | None = None,
                            env_file: str | Path | None = ".env") -> WarehouseSettings:
    return warehouse_settings(env_values(env, env_file))


def number(values: Mapping[str, str], name: str, default: float, low: float, high: float) -> Any:
    """The setting `name` as a number between `low` and `high` (an int when `default` is one)."""
    raw = (values.get(name) or "").strip()
    if not raw:
        return default
    try:
        v = float(raw)
    except ValueError:
        raise UserError(f"{name} must be a number, got {raw!r}") from None
    if not low <= v <= high:
        raise UserError(f"{name} must be between {low:g} and {high:g}, got {raw!r}")
    return int(v) if isinstance(default, int) and v.is_integer() else v
