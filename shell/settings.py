"""The web app's settings: one typed object, read once from the environment (and an optional .env
file) by `create_app` and handed around as `state.settings`. Every setting and its default is in
docs/configuration.md. Where the data folder and warehouse are is the data layer's to read
(data_layer/config.py), where the application database is appdb's (appdb/config.py); this object
carries them too, so the app has one place to look."""
from __future__ import annotations

import math
import secrets
import zlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from appdb.config import app_db_url
from data_layer.config import WarehouseSettings, env_values, number, warehouse_settings
from data_layer.engine import redact
from data_layer.errors import UserError
from data_layer.warehouse import LOCAL_MB

SECRET_FILE = "secret_key"
ZLIB_OVERHEAD = 8  # bytes zlib adds to input it cannot compress (header, checksum, block framing)
_WEAK = {"dev", "secret", "changeme", "change-me", "password", "secret_key", "your-secret-key", "test"}


@dataclass(frozen=True)
class Settings(WarehouseSettings):
    app_db_url: str
    secret_key: str
    cache_url: str | None
    host: str = "127.0.0.1"
    port: int = 8050
    secure_cookies: bool = False  # behind HTTPS: session cookies are sent over HTTPS only
    behind_proxy: bool = False  # trust X-Forwarded-* from one reverse proxy
    wall_refresh_seconds: int = 60  # how often the leadership screens re-read their figures
    wall_stale_hours: float = 26.0  # a meta_load older than this turns the freshness stamp into a warning
    live_max_age_minutes: int = 30  # live snapshots older than this count as a silent feed
    # DRG detail (DRG病组): a case is a high (low) outlier above HIGH × (below LOW × ) its group's average
    drg_outlier_high: float = 2.0
    drg_outlier_low: float = 0.5
    equipment_saturation: float = 0.85  # a device at or above this utilization is saturated (饱和)
    session_idle_minutes: int = 30  # a signed-in session ends after this long without a request
    session_max_hours: float = 12.0  # and this long after sign-in, however busy
    max_request_mb: float = 4  # a request body larger than this is refused with 413 (MAX_REQUEST_MB)
    # statements one answer may run at once (0: the backend's default, data_layer/warehouse.CONCURRENCY)
    warehouse_concurrency: int = 0
    warmup: bool = True  # precompute the first screens after each load (shell/warmup.py)
    warmup_months: bool = True  # and then the workspace in every month its period picker offers
    cache_mb: float = LOCAL_MB  # the in-process cache's size per process (CACHE_MB), megabytes of encoded results

    def shown_stamp(self) -> str:
        """The values of the SHOWN settings: part of every cache key (app.py), so a change of one,
        at the restart that reads it, is never answered from what the old value kept."""
        return repr(tuple(getattr(self, name) for name in SHOWN))

    def describe(self) -> str:
        return (f"warehouse {redact(self.warehouse_url)}, app database {redact(self.app_db_url)}, "
                f"cache {self.cache_url or 'in-process'}")


# The settings a page shows, or computes what it shows with (the walls' refresh in their kept
# layouts, the equipment page's saturation rule, the DRG outlier limits, the live feed's age, the
# freshness warning): kept answers and layouts last until the next load, so these are part of
# every cache key. The rest shape how the app runs, not what it shows (several servers sharing one
# Redis on different hosts and ports still share their cache); tests/test_kept_answers.py checks that
# every setting is in one list or the other.
SHOWN = ("wall_refresh_seconds", "wall_stale_hours", "live_max_age_minutes", "drg_outlier_high", "drg_outlier_low",
         "equipment_saturation")
NOT_SHOWN = ("data_dir", "warehouse_url", "embedded", "app_db_url", "secret_key", "cache_url", "host", "port",
             "secure_cookies", "behind_proxy", "session_idle_minutes", "session_max_hours", "max_request_mb",
             "warehouse_concurrency", "warmup", "warmup_months", "cache_mb")


def secret_key_problem(key: str) -> str | None:
    """Why a secret key is too weak, or None."""
    if len(key) < 32:
        return "it is shorter than 32 characters"
    if key.lower() in _WEAK:
        return "it is a well-known placeholder"
    if _period(key) <= len(key) // 2:
        return "it is a short pattern repeated"
    counts = Counter(key)
    entropy = -sum(c / len(key) * math.log2(c / len(key)) for c in counts.values()) * len(key)
    compressed = (len(zlib.compress(key.encode(), 9)) - ZLIB_OVERHEAD) * 8  # what zlib finds it holds, in bits
    if min(entropy, compressed) < 128:
        return "it is too repetitive (less than 128 bits of entropy)"
    return None


def _period(key: str) -> int:
    """The length of the shortest pattern that `key` repeats (its own length when none)."""
    return next((p for p in range(1, len(key)) if key[p:] == key[:-p]), len(key))


def _embedded_secret(data_dir: Path) -> str:
    path = data_dir / SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def load_settings(env: Mapping[str, str] | None = None, env_file: str | Path | None = ".env") -> Settings:
    """Read settings; the environment wins over .env. Raises UserError on a bad setting."""
    values = env_values(env, env_file)
    where = warehouse_settings(values)
    app_db = app_db_url(values)
    key = values.get("SECRET_KEY") or ""
    if not key:
        if not where.embedded:
            raise UserError("SECRET_KEY is required when WAREHOUSE_URL is set: generate one with "
                            "`python -c \"import secrets; print(secrets.token_urlsafe(48))\"`")
        key = _embedded_secret(where.data_dir)
    elif (problem := secret_key_problem(key)) and not where.embedded:
        raise UserError(f"SECRET_KEY is too weak: {problem}. Generate one with "
                        "`python -c \"import secrets; print(secrets.token_urlsafe(48))\"`")
    cache = values.get("CACHE_URL") or None
    if cache and not cache.startswith(("redis://", "rediss://", "unix://")) and cache not in ("simple", "null"):
        raise UserError(f"unsupported CACHE_URL {cache!r}: leave it empty (in-process) or use redis://host:port/db")
    try:
        port = int(values.get("PORT") or 8050)
    except ValueError:
        raise UserError(f"PORT must be a number, got {values.get('PORT')!r}") from None
    flags = {}
    for name, default in (("SECURE_COOKIES", False), ("BEHIND_PROXY", False), ("WARMUP", True),
                          ("WARMUP_MONTHS", True)):
        raw = (values.get(name) or "").strip().lower()
        if raw not in ("", "0", "1", "true", "false", "yes", "no"):
            raise UserError(f"{name} must be true or false, got {values.get(name)!r}")
        flags[name.lower()] = raw in ("1", "true", "yes") if raw else default
    numbers = {name.lower(): number(values, name, default, low, high)
               for name, default, low, high in (("WALL_REFRESH_SECONDS", 60, 5, 3600), ("WALL_STALE_HOURS", 26, 1, 24 * 14),
                                                ("LIVE_MAX_AGE_MINUTES", 30, 1, 24 * 60),
                                                ("SESSION_IDLE_MINUTES", 30, 1, 24 * 60), ("SESSION_MAX_HOURS", 12.0, 1, 24 * 7),
                                                ("MAX_REQUEST_MB", 4, 0.1, 1024), ("WAREHOUSE_CONCURRENCY", 0, 0, 16),
                                                ("CACHE_MB", LOCAL_MB, 16, 1024 * 1024))}
    numbers.update(_workspace_numbers(values))
    return Settings(data_dir=where.data_dir, warehouse_url=where.warehouse_url, embedded=where.embedded,
                    app_db_url=app_db, secret_key=key, cache_url=cache, host=values.get("HOST") or "127.0.0.1",
                    port=port, **flags, **numbers)


def _workspace_numbers(values: Mapping[str, str]) -> dict[str, float]:
    """DRG_OUTLIER_HIGH/LOW (LOW < 1 < HIGH) and EQUIPMENT_SATURATION (0 < x ≤ 2)."""
    high = float(number(values, "DRG_OUTLIER_HIGH", 2.0, 0, 100))
    low = float(number(values, "DRG_OUTLIER_LOW", 0.5, 0, 100))
    if not high > 1:
        raise UserError(f"DRG_OUTLIER_HIGH must be greater than 1 (a multiple of the group's average), got {high:g}")
    if not low < 1:
        raise UserError(f"DRG_OUTLIER_LOW must be below 1 (a fraction of the group's average), got {low:g}")
    saturation = float(number(values, "EQUIPMENT_SATURATION", 0.85, 0, 2))
    if saturation <= 0:
        raise UserError(f"EQUIPMENT_SATURATION must be above 0 (a share of capacity, e.g. 0.85), got {saturation:g}")
    return {"drg_outlier_high": high, "drg_outlier_low": low, "equipment_saturation": saturation}
