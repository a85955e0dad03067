"""The web app: `create_app()` builds the Flask server with the Dash pages on it.

`python app.py` builds the demo warehouse when none is configured and serves;
`gunicorn app:server` serves the same app in production.
"""
from __future__ import annotations

import gc
import logging
from datetime import datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

import dash
from flask import Flask, abort, send_from_directory

from appdb.store import AppDB, AppDBUnavailable, SessionLimits
from data_layer.demo.build import is_demo_warehouse
from data_layer.errors import UserError
from data_layer.periods import add_months
from data_layer.queries.structure import department_campuses, departments
from data_layer.scope import Scope
from data_layer.warehouse import Warehouse, make_cache, one_freshness
from shell.auth import init_auth
from shell.cache_values import dash_values
from shell.headers import init_headers
from shell.inputs import init_callback_guard, init_path_guard
from shell.layout import adopt_page_callbacks, callback_error, init_shell
from shell.outage import init_outages
from shell.settings import Settings, load_settings
from shell.warmup import init_warmup

ROOT = Path(__file__).resolve().parent
log = logging.getLogger("hospdash")


class AppState:
    """What the pages need from the app: settings, the application database and the
    warehouse (opened on first use, so the app serves and says so while it is away)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.cache = make_cache(settings.cache_url, dash_values(), settings.cache_mb)
        self.appdb = AppDB(settings.app_db_url, session_limits=SessionLimits(
            idle=timedelta(minutes=settings.session_idle_minutes), absolute=timedelta(hours=settings.session_max_hours)))
        self._warehouse: Warehouse | None = None
        self.warmer: Any = None  # shell/warmup.Warmer, when WARMUP is on
        self._demo: bool | None = None
        self.health_answer: tuple[float, dict[str, Any]] | None = None  # /healthz's last answer (shell/outage.py)

    @property
    def warehouse(self) -> Warehouse:
        if self._warehouse is None:
            self._warehouse = Warehouse(self.settings.warehouse_url, self.cache,
                                        concurrency=self.settings.warehouse_concurrency or None,
                                        key_salt=self.settings.shown_stamp())
            if self.warmer is not None:  # each new load (and the first read of this process) is warmed
                self._warehouse.on_new_data.append(self.warmer.on_new_data)
        return self._warehouse

    @property
    def demo_warehouse(self) -> bool:
        """Whether the warehouse was built by the demo generator (demo accounts work only there)."""
        if self._demo is None:
            try:
                self._demo = bool(is_demo_warehouse(self.warehouse.engine))
            except UserError:
                return False  # unknown while the warehouse is away; asked again next time
        return self._demo

    def campus_of(self, dept_id: str) -> str | None:
        """The campus of a department (for campus scopes); None for an unknown department."""
        return department_campuses(self.warehouse, Scope.hospital()).get(dept_id)


def _bootstrap_dir() -> Path:
    return Path(str(files("flask_bootstrap"))) / "static" / "bootstrap5" / "css"


def create_app(config: Settings | dict[str, Any] | None = None) -> Flask:
    """The Flask server with Dash on it. `config`: Settings, or overrides of the environment."""
    if isinstance(config, Settings):
        settings = config
    else:
        env = None
        if config:
            import os

            env = {**os.environ, **{k: str(v) for k, v in config.items()}}
        settings = load_settings(env)
    server = Flask(__name__, template_folder=str(ROOT / "shell" / "templates"))
    server.config.update(SECRET_KEY=settings.secret_key, HOSPDASH=settings)
    state = AppState(settings)
    state.appdb.migrate()
    server.extensions["hospdash"] = state
    if settings.behind_proxy:
        from werkzeug.middleware.proxy_fix import ProxyFix

        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    wsgi = server.wsgi_app

    def one_stamp_a_request(environ: dict, start_response: Any) -> Any:
        with one_freshness():  # each request keys its answers by one freshness stamp, read once
            return wsgi(environ, start_response)

    server.wsgi_app = one_stamp_a_request  # type: ignore[method-assign]
    init_path_guard(server)  # first: an odd path is 404 for everyone
    init_auth(server)
    init_outages(server)  # /healthz, and the application database's outage as a plain answer

    @server.route("/vendor/bootstrap.min.css")
    def bootstrap_css():  # served from the pinned Bootstrap-Flask package: no CDN needed on site
        directory = _bootstrap_dir()
        if not (directory / "bootstrap.min.css").exists():  # pragma: no cover - broken install
            abort(404)
        return send_from_directory(directory, "bootstrap.min.css", max_age=86400)

    app = dash.Dash(
        __name__,
        server=server,
        use_pages=True,
        pages_folder=str(ROOT / "pages"),
        assets_folder=str(ROOT / "assets"),
        external_stylesheets=["/vendor/bootstrap.min.css"],
        title="医院运营决策驾驶舱 · Hospital Operations Dashboard",
        update_title=None,
        suppress_callback_exceptions=True,
        serve_locally=True,
        on_error=callback_error,
    )
    init_shell(app)
    init_headers(server, app)
    init_callback_guard(server, app)
    server.extensions["dash"] = app
    adopt_page_callbacks(server)
    init_warmup(server)  # after the set-up request above: its threads start with the first real request
    return server


def ensure_demo_warehouse(settings: Settings) -> None:
    """Build the embedded demo warehouse on first start (with a progress bar)."""
    path = settings.warehouse_path
    if not settings.embedded or path is None:
        return
    if path.exists():
        _refresh_demo_summaries(settings.warehouse_url)
        return
    from data_layer.config import DEMO_SCALE, DEMO_SEED, DEMO_YEARS
    from data_layer.demo.build import build_demo

    print(f"First start: building the demo hospital warehouse in {path} "
          f"(scale {DEMO_SCALE}, {DEMO_YEARS} years; about a minute) …", flush=True)
    result = build_demo(settings.warehouse_url, scale=DEMO_SCALE, years=DEMO_YEARS, seed=DEMO_SEED)
    print(f"Demo warehouse ready: {sum(result.counts.values()):,} rows in "
          f"{result.generate_seconds + result.load_seconds:.0f} s.", flush=True)


def _refresh_demo_summaries(url: str) -> None:
    """The embedded demo warehouse is the app's own file: when its summary tables were built by
    an older release (or never), build them again before serving, as a loading job would."""
    from data_layer.engine import make_engine
    from data_layer.summaries import summarize

    engine = make_engine(url, read_only=False)
    try:
        if summarize(engine, if_stale=True) is not None:
            print("Built the demo warehouse's summary tables.", flush=True)
    except Exception as exc:  # noqa: BLE001 - without summaries the facts answer, more slowly
        log.warning("demo summary tables not built: %s", exc)
    finally:
        engine.dispose()


def ensure_demo_accounts(server: Flask) -> None:
    """On a demo warehouse with no users yet: create the demo accounts and print them once."""
    from appdb.demo_users import FILE, ensure_demo_users

    state: AppState = server.extensions["hospdash"]
    if not state.demo_warehouse:
        return
    created = ensure_demo_users(state.appdb, departments(state.warehouse, Scope.hospital()), state.settings.data_dir)
    if created:
        print("Demo accounts (printed once; also in "
              f"{state.settings.data_dir / FILE}):", flush=True)
        for username, password, role in created[:3] + [c for c in created if c[2] == "assistant"][:2] + \
                [c for c in created if c[2] == "director"][:2]:
            print(f"  {role:10} {username:28} {password}", flush=True)
        print(f"  … and {len(created) - 7} more in the file, with a kiosk address for a wall display.", flush=True)


DEMO_HISTORY_MONTHS = 24  # the alert history a fresh demo starts with


def ensure_demo_alerts(server: Flask) -> int | None:
    """On a demo warehouse whose alerts were never scanned (a fresh install): scan its last
    DEMO_HISTORY_MONTHS months as the nightly job would have, so the wall's ticker and the alert pages
    open with the demo's findings and their history. Returns the number of alerts stored, or None
    when nothing was to be done."""
    from appdb.alerts import list_alerts, save_scan
    from data_layer.alerts.detect import scan

    state: AppState = server.extensions["hospdash"]
    if not state.demo_warehouse or not list_alerts(state.appdb, Scope.hospital(), limit=1).empty:
        return None
    through = state.warehouse.freshness().data_through
    since = add_months(through.replace(day=1), -DEMO_HISTORY_MONTHS) if through else None
    result = scan(state.warehouse, Scope.hospital(), since=since)
    added, _grown = save_scan(state.appdb, result.alerts, department_campuses(state.warehouse, Scope.hospital()), history=True)
    state.appdb.audit("alerts_scan", None, "hospital", f"demo start-up, since {since}, through {result.through}: "
                      f"{len(result.alerts)} findings, {added} new")
    print(f"Scanned the demo hospital for alerts: {added} stored.", flush=True)
    return added


def ensure_demo_quality(server: Flask) -> str | None:
    """On a demo warehouse never checked for data quality (a fresh install): run the checks once,
    as the nightly job would after the load, so the data-quality page opens with a run instead of
    "no run yet". Returns the run's status, or None when nothing was to be done."""
    from appdb.quality import latest_run, previous_fingerprints, record_run
    from data_layer.quality import run_quality

    state: AppState = server.extensions["hospdash"]
    if not state.demo_warehouse or latest_run(state.appdb) is not None:
        return None
    started = datetime.now().replace(microsecond=0)
    result = run_quality(state.warehouse.engine, previous_fingerprints(state.appdb))
    saved = record_run(state.appdb, result, department_campuses(state.warehouse, Scope.hospital()), started)
    state.appdb.audit("quality_run", None, str(saved["run_id"]), f"demo start-up: {saved['status']}")
    print(f"Checked the demo hospital's data quality: {saved['status']}.", flush=True)
    return str(saved["status"])


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
        ensure_demo_warehouse(settings)
        server = create_app(settings)
        ensure_demo_accounts(server)
        ensure_demo_alerts(server)
        ensure_demo_quality(server)
    except UserError as exc:
        print(f"error: {exc}")
        return 2
    except AppDBUnavailable as exc:
        print(f"error: {exc.detail}")
        return 2
    print(f"Serving on http://{settings.host}:{settings.port} ({settings.describe()})", flush=True)
    gc.collect()
    gc.freeze()  # the app's long-lived objects stay out of full garbage collections (deploy/gunicorn.conf.py)
    from waitress import serve  # a production-grade single-process server; gunicorn for several workers

    serve(server, host=settings.host, port=settings.port, threads=8, ident="hospdash")
    return 0


def __getattr__(name: str) -> Flask:
    """`gunicorn app:server`: the WSGI entry, created on first access (no work at import)."""
    if name == "server":
        globals()["server"] = create_app()
        return globals()["server"]
    raise AttributeError(name)


if __name__ == "__main__":
    raise SystemExit(main())
