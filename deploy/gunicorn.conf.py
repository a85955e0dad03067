"""gunicorn settings for the hospital operations dashboard (医院运营决策驾驶舱).

    gunicorn -c deploy/gunicorn.conf.py app:server

Every setting can be changed without editing this file, through the environment (the
systemd unit reads /etc/hospdash/hospdash.env):

    GUNICORN_BIND       127.0.0.1:8000   where nginx reaches the app (never a public address:
                                         with BEHIND_PROXY=true the app trusts X-Forwarded-For)
    GUNICORN_WORKERS    2 x CPUs + 1, at most 12
    GUNICORN_THREADS    4                threads per worker (gthread)
    GUNICORN_TIMEOUT    120              seconds a worker may stay silent before it is restarted
    GUNICORN_PRELOAD    true             import the app once in the master, then fork (see below)
    GUNICORN_ACCESSLOG  -                access log file ("-" = standard output, i.e. the journal)
    GUNICORN_LOGLEVEL   info
    GUNICORN_CONTROL_SOCKET  (off)       path of gunicorn's control socket (gunicornc)

Workers and threads. A callback spends most of its time waiting for the warehouse (SQL
aggregates) and the rest building figures in Python, which holds the GIL. Processes give
real parallelism for the Python part; a few threads per process keep a worker useful while
one of its requests waits for the database. 2 x CPUs + 1 processes with 4 threads each is a
good start; each process holds its own copy of pandas, Plotly and the page modules (about
200-300 MB), so on a small machine lower GUNICORN_WORKERS before raising threads.

Timeouts. PostgreSQL warehouse queries are cancelled after 60 s (statement_timeout, set by
the data layer), so a request can take a little longer than that; `timeout` (120 s) only
restarts a worker that stopped answering altogether. `graceful_timeout` lets running
requests finish on a reload or stop. nginx's proxy_read_timeout (deploy/nginx.conf) is set
just above `timeout`.

Preloading. With `preload_app` the master imports the app (Dash, the pages, the migration
check) once and forks the workers from it: workers start in well under a second, share the
imported code's memory, and the application database is migrated by one process only, never
by several workers racing each other. This is safe here because:

  * the warehouse is opened lazily (`AppState.warehouse`): nothing in `create_app()` touches
    it, so no DuckDB file handle and no warehouse connection exists before the fork. A DuckDB
    database must never be opened in the master and inherited by forked children (its
    memory-mapped state and file locks are per process); each worker opens the file itself,
    read-only, on its first request, which DuckDB allows for any number of processes;
  * `create_app()` does open the *application* database (to migrate it), so the master's
    connection pool holds a live connection. `when_ready` closes it in the master before the
    first fork, and `post_fork` drops any pooled connection a worker may still have inherited
    (without closing the parent's socket), as SQLAlchemy recommends for forked processes.
    A worker then opens its own connections on its first request;
  * the Redis client connects on first use and redis-py starts a fresh connection pool when
    it notices it runs in a new process.

The price of preloading: `systemctl reload` (SIGHUP) re-forks workers from the already
imported code, so a new release needs `systemctl restart hospdash`. Set GUNICORN_PRELOAD=false
to import the app in every worker instead (each worker then checks the migration itself: run
`python -m appdb migrate` before the start, as the systemd unit does).
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent  # the checkout: app.py lives here


def _env_int(name: str, default: int, low: int = 1, high: int = 1024) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise SystemExit(f"{name} must be between {low} and {high}, got {value}")
    return value


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in ("1", "0", "true", "false", "yes", "no"):
        raise SystemExit(f"{name} must be true or false, got {raw!r}")
    return raw in ("1", "true", "yes")


# ------------------------------------------------------------------ where and how many
chdir = str(_ROOT)  # app:server is imported from the checkout; .env (if any) is read from here
bind = [b.strip() for b in os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",") if b.strip()]
workers = _env_int("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 12), 1, 64)
worker_class = "gthread"
threads = _env_int("GUNICORN_THREADS", 4, 1, 64)
backlog = 256

# ------------------------------------------------------------------ timeouts
timeout = _env_int("GUNICORN_TIMEOUT", 120, 10, 3600)
graceful_timeout = 30
keepalive = 5  # idle upstream connections nginx keeps (deploy/nginx.conf: keepalive 16) close on its side first (4 s)

# A worker is replaced after this many requests (spread so they never restart together):
# a guard against slow memory growth in long-lived processes.
max_requests = 2000
max_requests_jitter = 200

# ------------------------------------------------------------------ the app
preload_app = _env_bool("GUNICORN_PRELOAD", True)
wsgi_app = "app:server"
proc_name = "hospdash"

# gunicorn's runtime control socket (`gunicornc`): off unless a path is given, so that two
# instances on one machine (a second site, a load test) never fight over the default path.
# The systemd unit gives it /run/hospdash/gunicorn.ctl.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "").strip() or None
control_socket_disable = control_socket is None
if control_socket is None:
    del control_socket

# nginx on the same machine is the only client; it sets X-Forwarded-Proto, so gunicorn knows
# the request came over HTTPS (the app's own ProxyFix, BEHIND_PROXY=true, does the same for
# the client address and host).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# ------------------------------------------------------------------ logs (to the journal)
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# client, time, request, status, bytes, duration in ms and the worker's pid (which worker served it)
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(B)s %(M)sms pid=%(p)s "%(a)s"'


# ------------------------------------------------------------------ hooks
def _state():
    """The preloaded app's state (None when the app is imported per worker)."""
    module = sys.modules.get("app")
    server = getattr(module, "__dict__", {}).get("server") if module else None
    return server.extensions.get("hospdash") if server is not None else None


def _drop_pools(close: bool) -> None:
    state = _state()
    if state is None:
        return
    state.appdb.engine.dispose(close=close)
    opened = getattr(state, "_warehouse", None)  # None unless something opened it in the master
    if opened is not None:
        opened.engine.dispose(close=close)


def when_ready(server) -> None:  # in the master, after preloading, before the first fork
    _drop_pools(close=True)
    if _state() is not None:
        # Everything imported so far lives as long as the worker: keep it out of the garbage
        # collector's full passes, which otherwise walk it all and pause a request for up to
        # ~0.1 s (docs/performance.md). Forked workers also keep sharing these pages.
        gc.collect()
        gc.freeze()
    if _state() is not None and getattr(_state(), "_warehouse", None) is not None:
        server.log.warning("the warehouse was opened before the workers were forked; "
                           "set GUNICORN_PRELOAD=false if the warehouse is a DuckDB file")


def post_worker_init(worker) -> None:  # in each worker, once it has imported the app
    if not preload_app:  # preloaded: frozen once in the master (when_ready)
        gc.collect()
        gc.freeze()


def post_fork(server, worker) -> None:  # in each new worker
    _drop_pools(close=False)  # never close the parent's sockets from a child
