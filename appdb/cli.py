"""Command line for the application database: users (create, set a password, set role and scope,
(de)activate, list), kiosk logins, and the nightly alert scan that stores its findings here."""
from __future__ import annotations

import argparse
import getpass
import sys
import time
from typing import Any

from data_layer.cli import _date, _Parser, parse_scope
from data_layer.errors import UserError

from .schema import ROLES, SCOPE_KINDS
from .store import AppDB


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m appdb", description="Users of the hospital operations dashboard.")
    p.add_argument("--url", help="application database URL (default: the configured APP_DB_URL)")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("migrate", help="bring the application database's schema up to date")
    sub.add_parser("list", help="list users")
    c = sub.add_parser("create", help="create a user (asks for the password)")
    c.add_argument("username")
    c.add_argument("--name", default="", help="display name")
    c.add_argument("--role", required=True, choices=ROLES)
    c.add_argument("--scope", required=True, choices=SCOPE_KINDS)
    c.add_argument("--ids", default="", help="campus or department ids, comma-separated")
    c.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    s = sub.add_parser("set-password", help="set a user's password (asks for it)")
    s.add_argument("username")
    s.add_argument("--password-stdin", action="store_true")
    r = sub.add_parser("set-role", help="set a user's role and scope")
    r.add_argument("username")
    r.add_argument("--role", required=True, choices=ROLES)
    r.add_argument("--scope", required=True, choices=SCOPE_KINDS)
    r.add_argument("--ids", default="")
    for name in ("deactivate", "activate"):
        sub.add_parser(name, help=f"{name} a user").add_argument("username")
    k = sub.add_parser("kiosk", help="long-lived sign-ins for wall displays: issue, list, revoke")
    ksub = k.add_subparsers(dest="kiosk_command", required=True, parser_class=_Parser)
    ki = ksub.add_parser("issue", help="issue a kiosk login for a leader account; prints its URL once")
    ki.add_argument("username")
    ki.add_argument("--label", default="", help="where the wall is, e.g. 'command centre, east wall'")
    ki.add_argument("--base-url", default="", help="the dashboard's address, to print a whole URL")
    ksub.add_parser("list", help="list kiosk logins")
    kr = ksub.add_parser("revoke", help="revoke a kiosk login (its wall is signed out at its next request)")
    kr.add_argument("id", type=int)
    al = sub.add_parser("alerts", help="operations alerts: the nightly scan")
    alsub = al.add_subparsers(dest="alerts_command", required=True, parser_class=_Parser)
    sc = alsub.add_parser("scan", help="scan every department and store the alerts (a nightly job)")
    sc.add_argument("--warehouse", help="warehouse URL (default: the configured WAREHOUSE_URL)")
    sc.add_argument("--app-db", help="application database URL (the same as --url before the command)")
    sc.add_argument("--through", type=_date, help="scan as of this day (default: the last day with data)")
    sc.add_argument("--since", type=_date, help="report everything from this day on, as the nightly scans would "
                                                "have (a first install's history; sends no message)")
    sc.add_argument("--scope", default="hospital", help="hospital, campus:C1 or departments:D001,D002")
    sc.add_argument("--no-notify", action="store_true", help="store the alerts but send no message about them")
    q = sub.add_parser("quality", help="data quality: run the checks on the warehouse and record the run "
                                       "(a nightly job after the load)")
    q.add_argument("--warehouse", help="warehouse URL (default: the configured WAREHOUSE_URL)")
    q.add_argument("--app-db", help="application database URL (the same as --url before the command)")
    q.add_argument("--set-owner", metavar="OWNER", help="only choose who owns the data-quality alerts: role:admin "
                                                         "(the default), role:leader, … or a username")
    q.add_argument("--no-notify", action="store_true", help="record the run and its alerts but send no message")
    no = sub.add_parser("notify", help="alert messages: the morning digest, escalations, retries")
    nosub = no.add_subparsers(dest="notify_command", required=True, parser_class=_Parser)
    for name, text in (("digest", "send each digest subscriber the alerts first seen since their last digest"),
                       ("escalate", "escalate red alerts left unacknowledged for N working days"),
                       ("retry", "send again the failed messages whose time has come"),
                       ("run", "retry, escalate, then digest (the morning job)")):
        n = nosub.add_parser(name, help=text)
        n.add_argument("--warehouse", help="warehouse URL, for department names and the working-day calendar "
                                          "(default: the configured WAREHOUSE_URL)")
    nr = nosub.add_parser("report", help="send a published monthly report to its department's subscribers now "
                                         "(email: the PDF attached; chat robots: its link)")
    nr.add_argument("report_id", type=int)
    nr.add_argument("--warehouse", help="warehouse URL, for the department's name (default: the configured "
                                        "WAREHOUSE_URL)")
    nr.add_argument("--force", action="store_true", help="send it again to people who have it already")
    return p


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise UserError("the two passwords differ")
    return first


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.url or getattr(args, "app_db", None):
            url = args.url or args.app_db
        else:
            from .config import configured_app_db_url

            url = configured_app_db_url()
        db = AppDB(url)
        db.migrate()
        return _run(db, args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        print(f"unexpected error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 3


def _user(db: AppDB, name: str):
    user = db.get_by_username(name)
    if user is None:
        raise UserError(f"no user {name!r}: `python -m appdb list` shows them")
    return user


def _run(db: AppDB, args: argparse.Namespace) -> int:
    ids = [i for i in getattr(args, "ids", "").split(",") if i.strip()]
    if args.command == "migrate":
        print("application database is up to date")
    elif args.command == "list":
        for u in db.list_users():
            state = "active" if u.is_active else "inactive"
            demo = " demo" if u.is_demo else ""
            print(f"{u.username:28} {u.role:10} {u.scope_kind}:{','.join(u.scope_ids):30} {state}{demo}  {u.display_name}")
    elif args.command == "create":
        db.create_user(args.username, args.name, _password(args.password_stdin), args.role, args.scope, ids)
        db.audit("user_created", None, args.username, "command line")
        print(f"created {args.username}")
    elif args.command == "set-password":
        db.set_password(_user(db, args.username).id, _password(args.password_stdin))
        db.audit("password_reset", None, args.username, "command line")
        print(f"password set for {args.username}")
    elif args.command == "set-role":
        db.update_role_scope(_user(db, args.username).id, args.role, args.scope, ids)
        db.audit("user_changed", None, args.username, f"command line: {args.role} {args.scope}:{','.join(ids)}")
        print(f"{args.username} is now {args.role} with scope {args.scope}:{','.join(ids)}")
    elif args.command == "kiosk":
        _kiosk(db, args)
    elif args.command == "alerts":
        _alerts_scan(db, args)
    elif args.command == "notify":
        _notify(db, args)
    elif args.command == "quality":
        return _quality(db, args)
    else:
        db.set_active(_user(db, args.username).id, args.command == "activate")
        db.audit(f"user_{args.command}d", None, args.username, "command line")
        print(f"{args.username} {args.command}d")
    return 0


def _kiosk(db: AppDB, args: argparse.Namespace) -> None:
    if args.kiosk_command == "issue":
        kid, token = db.issue_kiosk(_user(db, args.username).id, args.label, None)
        db.audit("kiosk_issued", None, args.username, f"command line: kiosk {kid} {args.label}")
        print(f"kiosk login {kid} for {args.username}. Open this address once on the wall's browser "
              f"(it is a password: keep it secret; `python -m appdb kiosk revoke {kid}` ends it):")
        print(f"{args.base_url.rstrip('/')}/kiosk/{token}")
    elif args.kiosk_command == "list":
        for k in db.list_kiosks():
            state = f"revoked {k['revoked_at']:%Y-%m-%d %H:%M}" if k["revoked_at"] else "active"
            used = f"{k['last_used_at']:%Y-%m-%d %H:%M} from {k['last_ip']}" if k["last_used_at"] else "never used"
            print(f"{k['id']:4} {k['username']:20} {state:24} {used:36} {k['label']}")
    else:
        if not db.revoke_kiosk(args.id):
            raise UserError(f"no active kiosk login {args.id}: `python -m appdb kiosk list` shows them")
        db.audit("kiosk_revoked", None, str(args.id), "command line")
        print(f"kiosk login {args.id} revoked")


def _alerts_scan(db: AppDB, args: argparse.Namespace) -> None:
    from data_layer.alerts.detect import scan
    from data_layer.queries.structure import department_campuses
    from data_layer.scope import Scope
    from data_layer.warehouse import Warehouse

    from .alerts import save_scan

    if args.warehouse:
        url = args.warehouse
    else:
        from data_layer.config import load_warehouse_settings

        url = load_warehouse_settings().warehouse_url
    wh = Warehouse(url)
    scope = parse_scope(args.scope)
    t0 = time.perf_counter()
    result = scan(wh, scope, args.through, since=args.since)
    added_ids: list[int] = []
    added, grown = save_scan(db, result.alerts, department_campuses(wh, Scope.hospital()), added_ids,
                             history=args.since is not None)
    db.audit("alerts_scan", None, args.scope, (f"since {args.since}, " if args.since else "")
             + f"through {result.through}: {len(result.alerts)} findings, "
             f"{added} new, {grown} grown")
    by_level = {lv: sum(a.level == lv for a in result.alerts) for lv in ("red", "orange", "yellow")}
    print(f"scanned {f'from {args.since} ' if args.since else ''}through {result.through} in "
          f"{time.perf_counter() - t0:.1f} s: {len(result.alerts)} findings "
          f"(red {by_level['red']}, orange {by_level['orange']}, yellow {by_level['yellow']}); "
          f"{added} new alerts, {grown} grown")
    for line in result.skipped[:20]:
        print(f"  skipped: {line}")
    if len(result.skipped) > 20:
        print(f"  … and {len(result.skipped) - 20} more skipped")
    if args.since:
        print("  no messages sent for a scan over past dates (its alerts are history)")
    elif not args.no_notify:
        _notify_new(db, wh, added_ids)


def _quality(db: AppDB, args: argparse.Namespace) -> int:
    """Run the data-quality checks and record the run; 0 when nothing red or orange was found, 1 when
    something was, 4 when the warehouse could not be checked at all (the run is recorded either way)."""
    from datetime import datetime

    from data_layer.engine import make_engine
    from data_layer.quality import format_result, run_quality
    from data_layer.queries.structure import department_campuses
    from data_layer.scope import Scope
    from data_layer.warehouse import Warehouse

    from .quality import previous_fingerprints, record_run, set_alert_owner

    if args.set_owner:
        owner = set_alert_owner(db, args.set_owner, None)
        db.audit("quality_owner", None, owner, "command line")
        print(f"data-quality alerts are now owned by {owner}")
        return 0
    if args.warehouse:
        url = args.warehouse
    else:
        from data_layer.config import load_warehouse_settings

        url = load_warehouse_settings().warehouse_url
    started = datetime.now().replace(microsecond=0)
    engine = make_engine(url, read_only=True)
    wh = Warehouse(url, engine=engine)
    try:
        result = run_quality(engine, previous_fingerprints(db))
        try:
            campus_of = department_campuses(wh, Scope.hospital())
        except UserError:
            campus_of = {}
        saved = record_run(db, result, campus_of, started)
        if saved["alert_ids"] and not args.no_notify:  # the department's subscribers hear of it like any alert
            _notify_new(db, wh, saved["alert_ids"])
    finally:
        engine.dispose()
    db.audit("quality_run", None, str(saved["run_id"]),
             f"{saved['status']}: red {saved['red']}, orange {saved['orange']}, yellow {saved['yellow']}; "
             f"{saved['alerts_added']} alerts new, {saved['alerts_grown']} grown")
    print(format_result(result))
    print(f"recorded run {saved['run_id']} ({saved['status']}); {saved['alerts_added']} new data-quality alerts, "
          f"{saved['alerts_grown']} grown, owned by {saved['owner']}")
    if saved["status"] == "unreachable":
        return 4
    return 1 if saved["red"] or saved["orange"] else 0


def _outbox(db: AppDB, wh: Any, wh_url: str | None = None):  # noqa: ANN202 - appdb.notify.Outbox (imported late)
    """Delivery wired to the message builders (components/notify.py: the one place this room reaches
    up, for the pages' number formats and translations), to the warehouse's names and calendar, and
    (with `wh_url`) to the monthly report's PDF job."""
    from components.notify import render_message, render_report_message
    from data_layer.config import env_values
    from data_layer.queries.pace import working_days
    from data_layer.queries.structure import departments
    from data_layer.scope import Scope

    from .config import notify_settings
    from .notify import Outbox, weekdays

    settings = notify_settings(env_values())
    try:
        deps = departments(wh, Scope.hospital())
        names = {d: (zh, en) for d, zh, en in zip(deps["dept_id"], deps["name_zh"], deps["name_en"], strict=True)}
        workdays = lambda start, end: working_days(wh, start, end) if start <= end else 0  # noqa: E731
    except UserError as exc:  # the warehouse is away: ids for names, Monday to Friday for working days
        print(f"warning: the warehouse cannot be read ({exc}); messages name departments by id", file=sys.stderr)
        names, workdays = {}, weekdays
    return Outbox(db, settings, render_message, names, workdays, render_report=render_report_message,
                  report_pdf=pdf_job(db.url, wh_url) if wh_url else None)


PDF_JOB_TIMEOUT = 150.0  # seconds: the job's own start, plus Chromium's 60 s limit, with room


def pdf_job(app_db_url: str, wh_url: str, timeout: float = PDF_JOB_TIMEOUT):  # noqa: ANN201 - appdb.notify.ReportPdf
    """A published report's PDF made by the PDF job, `python -m shell.report_pdf` (the printed page
    printed by headless Chromium), run as a process of its own: the application database's rooms
    stay below the web shell's (docs/architecture.md). (report id, lang) -> (file name, bytes);
    PdfUnavailable with the job's one-line message (a draft, no Chromium, a PDF that failed)."""
    import os
    import subprocess
    import tempfile
    from pathlib import Path

    from .notify import PdfUnavailable

    root = Path(__file__).resolve().parent.parent

    def render(report_id: int, lang: str) -> tuple[str, bytes]:
        with tempfile.TemporaryDirectory(prefix="hospdash-send-") as tmp:
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(root), os.environ.get("PYTHONPATH"))
                                                               if p)}
            try:
                done = subprocess.run([sys.executable, "-m", "shell.report_pdf", str(int(report_id)), "--lang", lang,
                                       "--out", tmp, "--app-db", app_db_url, "--warehouse", wh_url],
                                      capture_output=True, text=True, timeout=timeout, env=env,
                                      stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired:
                raise PdfUnavailable(f"the PDF job took longer than {timeout:.0f} s") from None
            made = sorted(Path(tmp).glob("*.pdf"))
            if done.returncode != 0 or len(made) != 1:
                lines = [ln.strip() for ln in done.stderr.splitlines() if ln.strip()]
                said = next((ln.removeprefix("error: ") for ln in reversed(lines) if ln.startswith("error: ")), "")
                raise PdfUnavailable(said or f"the PDF job ended with status {done.returncode}")
            return made[0].name, made[0].read_bytes()

    return render


def _notify_new(db: AppDB, wh: Any, added_ids: list[int]) -> None:
    """Send the scan's new alerts to their subscribers; a failure here never fails the scan (a
    channel's error is recorded on its delivery and retried by `notify retry`)."""
    from datetime import datetime

    try:
        tally = _outbox(db, wh).alerts_raised(added_ids, datetime.now().replace(microsecond=0))
        print(f"notified: {tally}")
    except Exception as exc:  # noqa: BLE001 - the scan's alerts are stored; delivery is retried later
        print(f"warning: alert messages not sent ({type(exc).__name__}: {exc}); "
              "`python -m appdb notify retry` sends what was queued", file=sys.stderr)


def _notify(db: AppDB, args: argparse.Namespace) -> None:
    from datetime import datetime

    from data_layer.warehouse import Warehouse

    if args.warehouse:
        url = args.warehouse
    else:
        from data_layer.config import load_warehouse_settings

        url = load_warehouse_settings().warehouse_url
    outbox = _outbox(db, Warehouse(url), url)
    now = datetime.now().replace(microsecond=0)
    if args.notify_command == "report":
        queued, tally = outbox.send_report(args.report_id, now, force=args.force)
        print(f"report {args.report_id}: {queued.recipients} recipients queued ({queued.deliveries} deliveries), "
              f"{queued.already} had it already; sent: {tally}")
        return
    jobs = {"digest": outbox.digest, "escalate": outbox.escalate, "retry": outbox.retry}
    done = outbox.run(now) if args.notify_command == "run" else {args.notify_command: jobs[args.notify_command](now)}
    for name, tally in done.items():
        print(f"{name}: {tally}")
