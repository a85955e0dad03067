"""Alert delivery (docs/alerts.md#delivery) with real parts: a WeCom-style robot receiver on
127.0.0.1 (http.server in a thread) that can answer 500 or hang, a real SMTP server (aiosmtpd) whose
mail is parsed as MIME, and the application database on SQLite, PostgreSQL and MariaDB. The clock is
passed in (`now`), never patched."""
from __future__ import annotations

import email
import email.policy
import http.server
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from appdb.alerts import save_scan
from appdb.channels import ChannelError, Smtp, robot_url
from appdb.notify import NotifySettings, Outbox, deliveries_of
from appdb.schema import alerts, deliveries, escalations
from appdb.store import AppDB
from appdb.subscriptions import get_subscription, save_subscription
from components.notify import render_message
from data_layer.alerts.detect import Alert
from data_layer.inputs import FormProblems

from .conftest import MARIA_ADMIN, PASSWORD, PG_ADMIN, server_database

CAMPUS_OF = {"D001": "C1", "D002": "C1", "D010": "C2"}
NAMES = {"D001": ("骨科", "Orthopedics"), "D002": ("心内科", "Cardiology"), "D010": ("儿科", "Paediatrics")}
MONDAY = datetime(2026, 11, 30, 3, 30)  # a Monday, at the nightly scan's hour
PW = PASSWORD + "x"


# ------------------------------------------------------------------------------ the receivers
class Receiver:
    """A robot webhook on 127.0.0.1: records each JSON body; `mode` is ok, fail (HTTP 500) or hang."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.mode = "ok"
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if outer.mode == "hang":
                    time.sleep(3)
                    return
                outer.paths.append(self.path)
                outer.bodies.append(json.loads(raw))
                status = 500 if outer.mode == "fail" else 200
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"errcode":0,"errmsg":"ok"}' if status == 200 else b'{"errcode":-1}')

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name: str = "robot") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/cgi-bin/webhook/send?key={name}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def robot() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def mailbox() -> Iterator[tuple[Smtp, list[email.message.EmailMessage]]]:
    """A real SMTP server on 127.0.0.1 (aiosmtpd); the messages it received, parsed."""
    from aiosmtpd.controller import Controller

    received: list[email.message.EmailMessage] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
            msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
            msg["X-Envelope-To"] = ",".join(envelope.rcpt_tos)
            received.append(msg)
            return "250 OK"

    port = _free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    yield Smtp(host="127.0.0.1", port=port, sender="alerts@hospital.test", security="none"), received
    controller.stop()


# ------------------------------------------------------------------------------ the database
def _app_db(kind: str, tmp_path: Path) -> Iterator[AppDB]:
    if kind == "sqlite":
        db = AppDB(f"sqlite:///{tmp_path / 'app.sqlite'}")
        db.migrate()
        yield db
        db.engine.dispose()
        return
    admin, what = {"postgresql": (PG_ADMIN, "PostgreSQL at 127.0.0.1:5432"),
                   "mariadb": (MARIA_ADMIN, "MariaDB at 127.0.0.1:3306")}[kind]
    with server_database(admin, what) as url:
        db = AppDB(url)
        db.migrate()
        yield db
        db.engine.dispose()


def _people(db: AppDB) -> None:
    db.create_user("dir1", "Director One", PW, "director", "departments", ["D001"], lang="zh")
    db.create_user("dir2", "Director Two", PW, "director", "departments", ["D002"])
    db.create_user("asst1", "Assistant One", PW, "assistant", "departments", ["D001", "D002"], lang="en")
    db.create_user("lead_c1", "Leader C1", PW, "leader", "campus", ["C1"])
    db.create_user("lead_c2", "Leader C2", PW, "leader", "campus", ["C2"])
    db.create_user("lead_h", "Leader H", PW, "leader", "hospital", [])


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AppDB]:
    for db in _app_db(request.param, tmp_path):
        _people(db)
        yield db


@pytest.fixture
def db(tmp_path: Path) -> Iterator[AppDB]:
    for d in _app_db("sqlite", tmp_path):
        _people(d)
        yield d


def subscribe(db: AppDB, username: str, **values: Any) -> None:
    user = db.get_by_username(username)
    form = {"all_depts": True, "dept_ids": [], "levels": ["yellow", "orange", "red"], "mode": "immediate",
            "lang": user.lang or "zh", **values}
    save_subscription(db, user, form, CAMPUS_OF, by="test")


def raise_alert(db: AppDB, dept: str = "D001", level: str = "red", indicator: str = "material_share",
                first_seen: datetime | None = None) -> int:
    a = Alert("robust_z", level, dept, indicator, date(2026, 10, 1), date(2026, 10, 31), 0.412, 0.30, 0.28, 0.32,
              0.3733, "robust z = +9.4 against the trailing 12 months",
              drivers=[{"type": "group", "id": "G0001", "name_zh": "关节外科组", "name_en": "Joint surgery group",
                        "contribution": 0.62}],
              consequences=[{"kind": "robust_z", "level": "orange", "indicator": "charge_per_discharge",
                             "entity_type": None, "entity_id": None, "period_start": "2026-10-01",
                             "period_end": "2026-10-31", "observed": 31000.0, "expected": 25800.0,
                             "deviation": 0.2016, "method": "robust z = +7.0", "via": indicator}])
    ids: list[int] = []
    save_scan(db, [a], CAMPUS_OF, ids)
    if first_seen is not None:
        with db.engine.begin() as conn:
            conn.execute(update(alerts).where(alerts.c.id == ids[0]).values(first_seen=first_seen))
    return ids[0]


def outbox(db: AppDB, smtp: Smtp | None = None, **settings: Any) -> Outbox:
    return Outbox(db, NotifySettings(base_url="https://dash.hospital.test", smtp=smtp, **settings), render_message,
                  NAMES)


def rows(db: AppDB) -> list[dict[str, Any]]:
    with db.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(deliveries).order_by(deliveries.c.id))]


# ------------------------------------------------------------------------------ channels
def test_official_robot_addresses_map_to_apprise_own_plugins() -> None:
    import apprise

    cases = {
        ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx"): ("NotifyWeComBot", "api_url",
                                                                                         "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx"),
        ("feishu", "https://open.larksuite.com/open-apis/bot/v2/hook/abc123"): ("NotifyLark", "webhook_url",
                                                                               "https://open.larksuite.com/open-apis/bot/v2/hook/abc123"),
    }
    for (channel, address), (plugin, attr, endpoint) in cases.items():
        obj = apprise.Apprise.instantiate(robot_url(channel, address))
        assert type(obj).__name__ == plugin and getattr(obj, attr) == endpoint
    ding = apprise.Apprise.instantiate(robot_url("dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=tok9"
                                                             "&secret=SEC1a2b"))
    assert type(ding).__name__ == "NotifyDingTalk" and ding.token == "tok9" and ding.secret == "SEC1a2b"
    feishu = apprise.Apprise.instantiate(robot_url("feishu", "https://open.feishu.cn/open-apis/bot/v2/hook/f-00a"))
    assert type(feishu).__name__ == "NotifyFeishu" and feishu.token == "f-00a"
    # a relay inside the hospital (https) and a test receiver (http on this machine) take the relay plugin
    assert robot_url("wecom", "https://relay.hospital.local/wecom?key=k").startswith("hdrobots://relay.hospital.local/wecom?key=k")
    assert robot_url("dingtalk", "http://127.0.0.1:9/x").startswith("hdrobot://127.0.0.1:9/x?hd_shape=dingtalk")
    for channel, address in (("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"),  # no key
                             ("wecom", "https://oapi.dingtalk.com/robot/send?access_token=t"),  # another service's
                             ("feishu", "https://open.feishu.cn/open-apis/bot/v2/hook/")):
        with pytest.raises(ChannelError):
            robot_url(channel, address)


@pytest.mark.parametrize(("field", "value", "code"), [
    ("wecom", "qyapi.weixin.qq.com/cgi-bin/webhook/send?key=a", "not_url"),
    ("wecom", "ftp://example.org/x", "not_url"),
    ("dingtalk", "https://exa mple.org/x", "not_url"),
    ("wecom", "http://relay.hospital.local/wecom?key=a", "not_https"),
    ("feishu", "http://10.0.0.5/hook", "not_https"),
    ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send", "bad_robot"),
    ("email", "someone@", "bad_email"),
    ("email", "a@b", "bad_email"),
    ("email", "two@@hospital.cn", "bad_email"),
    ("email", "space in@hospital.cn", "bad_email"),
    ("dept_ids", ["D002"], "dept_scope"),
    ("dept_ids", ["D999"], "dept_scope"),
    ("levels", [], "levels_required"),
    ("levels", ["purple"], "not_choice"),
    ("mode", "hourly", "not_choice"),
])
def test_a_bad_field_is_named_and_nothing_is_saved(db: AppDB, field: str, value: Any, code: str) -> None:
    user = db.get_by_username("dir1")
    form = {"all_depts": field != "dept_ids", "dept_ids": [], "levels": ["red"], "mode": "immediate", "lang": "zh",
            field: value}
    with pytest.raises(FormProblems) as exc:
        save_subscription(db, user, form, CAMPUS_OF, by="test")
    assert {k: p.code for k, p in exc.value.problems.items()} == {field: code}
    assert get_subscription(db, user.id) is None


def test_loopback_http_and_plain_addresses_are_accepted(db: AppDB) -> None:
    subscribe(db, "dir1", all_depts=False, dept_ids=["D001"], wecom="http://127.0.0.1:8123/hook?key=x",
              dingtalk="https://oapi.dingtalk.com/robot/send?access_token=abc", email="zhang.san@hospital.cn")
    sub = get_subscription(db, db.get_by_username("dir1").id)
    assert sub is not None and sub.dept_ids == ("D001",) and set(sub.channels) == {"wecom", "dingtalk", "email"}


# ------------------------------------------------------------------------------ delivery
def test_a_red_alert_reaches_each_subscriber_in_their_language(any_db: AppDB, robot: Receiver, mailbox) -> None:
    smtp, mail = mailbox
    subscribe(any_db, "dir1", lang="zh", levels=["red"], wecom=robot.url("dir1"), email="dir1@hospital.test")
    subscribe(any_db, "asst1", lang="en", levels=["orange", "red"], email="asst1@hospital.test")
    alert_id = raise_alert(any_db)
    tally = outbox(any_db, smtp).alerts_raised([alert_id], datetime.now())
    assert (tally.messages, tally.sent) == (2, 3)

    [body] = robot.bodies  # the WeCom robot's markdown message, in Chinese
    assert body["msgtype"] == "markdown" and robot.paths == ["/cgi-bin/webhook/send?key=dir1"]
    content = body["markdown"]["content"]
    for part in ("【红色预警】骨科 · 耗占比 · 2026-10", "**实际**：41.2%，预期 30.0%，偏离 +11.2个百分点", "z 值 +9.4",
                 "关节外科组（医疗组） · 62%",
                 "**连带影响**：橙色 · 次均住院费用（2026-10）：3.1万元，预期 2.6万元，偏离 +20.2%，由本科室耗占比上升带动",
                 "高值耗材",
                 f"https://dash.hospital.test/alerts?alert={alert_id}"):
        assert part in content, part
    assert "Orthopedics" not in content

    by_to = {m["X-Envelope-To"]: m for m in mail}
    zh, en = by_to["dir1@hospital.test"], by_to["asst1@hospital.test"]
    assert zh["Subject"] == "【红色预警】骨科 · 耗占比 · 2026-10"
    assert en["Subject"] == "[Red alert] Orthopedics · Material share of medical revenue · 2026-10"
    html = en.get_body(("html",)).get_content()
    text = en.get_body(("plain",)).get_content()
    for part in ("Observed", "41.2%, expected 30.0%, deviation +11.2 pp", "Joint surgery group (medical group) · 62%",
                 "Knock-on effects", "orange · Charge per discharge (2026-10): 31.0k yuan, expected 25.8k yuan, "
                 "deviation +20.2%, moved by the rise in the department&#x27;s material share of medical revenue",
                 "Review high-value consumables", f'href="https://dash.hospital.test/alerts?alert={alert_id}"'):
        assert part in html, part
    assert "骨科" not in html and "Suggested action" in text
    assert "骨科" in zh.get_body(("html",)).get_content()
    assert {(r["channel"], r["status"], r["attempts"]) for r in rows(any_db)} == {
        ("wecom", "sent", 1), ("email", "sent", 1)}


def test_no_message_carries_an_alert_outside_the_recipients_scope(db: AppDB, robot: Receiver) -> None:
    subscribe(db, "dir1", wecom=robot.url("dir1"))  # "all in my scope": D001 only
    subscribe(db, "dir2", wecom=robot.url("dir2"))
    subscribe(db, "lead_c2", wecom=robot.url("lead_c2"), mode="digest")
    theirs = raise_alert(db, dept="D002")
    outbox(db).alerts_raised([theirs], datetime.now())
    assert robot.paths == ["/cgi-bin/webhook/send?key=dir2"]
    # a subscription that named D002 while dir1 had it in scope still sends nothing once the scope has shrunk
    db.update_role_scope(db.get_by_username("dir1").id, "director", "departments", ["D001", "D002"])
    subscribe(db, "dir1", all_depts=False, dept_ids=["D002"], wecom=robot.url("dir1"), mode="digest")
    db.update_role_scope(db.get_by_username("dir1").id, "director", "departments", ["D001"])
    raise_alert(db, dept="D002", indicator="drug_share", level="yellow")
    raise_alert(db, dept="D001", indicator="drug_share", level="yellow")
    outbox(db).digest(datetime.now() + timedelta(seconds=1))
    assert robot.paths == ["/cgi-bin/webhook/send?key=dir2"]  # neither dir1 nor the other campus's leader


def test_the_digest_lists_the_new_alerts_since_the_last_one(db: AppDB, robot: Receiver) -> None:
    subscribe(db, "asst1", mode="digest", lang="en", wecom=robot.url("asst1"))
    yellow = raise_alert(db, dept="D001", level="yellow", indicator="drug_share")
    red = raise_alert(db, dept="D002", level="red")
    box = outbox(db)
    box.alerts_raised([yellow, red], datetime.now())
    assert len(robot.bodies) == 1 and "Cardiology" in robot.bodies[0]["markdown"]["content"]  # red does not wait
    morning = datetime.now() + timedelta(hours=1)
    assert box.digest(morning).messages == 1
    digest = robot.bodies[-1]["markdown"]["content"]
    assert digest.startswith(f"**Alerts digest {morning:%Y-%m-%d}: 2 new**")
    assert digest.index("Cardiology") < digest.index("Orthopedics")  # the most severe first
    assert f"alerts?alert={yellow})" in digest and f"alerts?alert={red})" in digest
    assert box.digest(morning + timedelta(days=1)).messages == 0  # nothing new since
    assert {r["kind"] for r in deliveries_of(db, yellow)} == {"digest"}


def test_a_red_alert_left_unacknowledged_escalates_once_per_step_on_working_days(db: AppDB, robot: Receiver) -> None:
    for name in ("dir1", "dir2", "lead_c1", "lead_c2", "lead_h"):
        subscribe(db, name, levels=["yellow"], mode="digest", wecom=robot.url(name))  # escalation ignores the filters
    thursday = MONDAY - timedelta(days=4)
    alert_id = raise_alert(db, dept="D001", first_seen=thursday)
    acknowledged = raise_alert(db, dept="D001", indicator="drug_share", first_seen=thursday)
    with db.engine.begin() as conn:
        conn.execute(update(alerts).where(alerts.c.id == acknowledged).values(status="acknowledged"))
    box = outbox(db, escalate_days=2)
    assert box.escalate(thursday.replace(hour=23) + timedelta(days=1)).messages == 0  # Friday: one working day
    assert box.escalate(MONDAY - timedelta(days=1)).messages == 0  # Sunday: still one
    assert box.escalate(MONDAY.replace(hour=9)).messages == 1  # Monday: two working days -> the director
    assert robot.paths == ["/cgi-bin/webhook/send?key=dir1"]
    assert "升级至科主任" in robot.bodies[0]["markdown"]["content"]
    assert "2 个工作日未确认" in robot.bodies[0]["markdown"]["content"]
    assert box.escalate(MONDAY.replace(hour=10)).messages == 0  # once per step
    assert box.escalate(MONDAY + timedelta(days=1)).messages == 0  # Tuesday: three working days
    assert box.escalate(MONDAY + timedelta(days=2)).messages == 2  # Wednesday: four -> the campus's and the hospital's leaders
    assert sorted(robot.paths[1:]) == ["/cgi-bin/webhook/send?key=lead_c1", "/cgi-bin/webhook/send?key=lead_h"]
    assert box.escalate(MONDAY + timedelta(days=30)).messages == 0
    raise_alert(db, dept="D001", indicator="alos", first_seen=MONDAY - timedelta(days=40))
    assert box.escalate(MONDAY.replace(hour=11)).messages == 0  # history (alerts scan --since) is past escalating
    with db.engine.connect() as conn:
        steps = sorted((r.alert_id, r.step, r.recipients) for r in conn.execute(select(escalations)))
    assert steps == [(alert_id, 1, 1), (alert_id, 2, 2)]


def test_a_failed_send_is_retried_with_back_off_until_the_receiver_recovers(any_db: AppDB, robot: Receiver) -> None:
    subscribe(any_db, "dir1", wecom=robot.url("dir1"))
    robot.mode = "fail"
    now = datetime(2026, 12, 1, 3, 30)
    box = outbox(any_db, retry_minutes=5)
    assert box.alerts_raised([raise_alert(any_db)], now).retrying == 1
    [row] = rows(any_db)
    assert (row["status"], row["attempts"], row["next_attempt_at"]) == ("retrying", 1, now + timedelta(minutes=5))
    assert "500" in row["last_error"]
    assert box.retry(now + timedelta(minutes=4)).messages == 0 and len(robot.bodies) == 1  # not yet due
    box.retry(now + timedelta(minutes=5))
    [row] = rows(any_db)
    assert (row["status"], row["attempts"], row["next_attempt_at"]) == ("retrying", 2, now + timedelta(minutes=15))
    robot.mode = "ok"
    assert box.retry(now + timedelta(minutes=15)).sent == 1
    [row] = rows(any_db)
    assert (row["status"], row["attempts"], row["next_attempt_at"]) == ("sent", 3, None)
    assert robot.bodies[0] == robot.bodies[-1]  # the same message, sent again


def test_a_send_that_keeps_failing_is_given_up_after_the_cap(db: AppDB, robot: Receiver) -> None:
    subscribe(db, "dir1", wecom=robot.url("dir1"))
    robot.mode = "fail"
    now = datetime(2026, 12, 1, 3, 30)
    box = outbox(db, retry_minutes=1, max_attempts=3)
    box.alerts_raised([raise_alert(db)], now)
    for minutes in (1, 3, 7, 60, 600):
        box.retry(now + timedelta(minutes=minutes))
    [row] = rows(db)
    assert (row["status"], row["attempts"], row["next_attempt_at"]) == ("gave_up", 3, None)
    assert len(robot.bodies) == 3


def test_a_receiver_that_hangs_times_out_and_is_retried(db: AppDB, robot: Receiver) -> None:
    subscribe(db, "dir1", wecom=robot.url("dir1"))
    robot.mode = "hang"
    started = time.monotonic()
    outbox(db, timeout_seconds=1).alerts_raised([raise_alert(db)], datetime.now())
    assert time.monotonic() - started < 2.5
    [row] = rows(db)
    assert row["status"] == "retrying" and "Timeout" in row["last_error"]


def test_the_scan_stores_its_alerts_and_succeeds_while_every_channel_is_down(
        duck_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    from appdb.cli import main

    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    db = AppDB(url)
    db.migrate()
    db.create_user("asst9", "Assistant Nine", PW, "assistant", "departments", ["D001", "D002", "D003"], lang="en")
    closed = _free_port()  # nothing listens there
    subscribe(db, "asst9", wecom=f"http://127.0.0.1:{closed}/hook?key=x")
    monkeypatch.setenv("SMTP_HOST", "")
    monkeypatch.setenv("APP_BASE_URL", "https://dash.hospital.test")
    assert main(["--url", url, "alerts", "scan", "--warehouse", duck_url, "--scope", "departments:D001,D002,D003"]) == 0
    out = capsys.readouterr().out
    with db.engine.connect() as conn:
        stored = conn.execute(select(alerts.c.id)).fetchall()
    assert stored and "notified:" in out
    sent = rows(db)
    assert sent and {r["status"] for r in sent} == {"retrying"} and all(r["last_error"] for r in sent)
    assert main(["--url", url, "notify", "retry", "--warehouse", duck_url]) == 0  # not due yet: nothing happens
    assert "retry: 0 messages" in capsys.readouterr().out


# ------------------------------------------------------------------------------ the pages
FORM = ("nt-all-depts", "nt-dept-ids", "nt-levels", "nt-mode", "nt-lang", "nt-wecom", "nt-dingtalk", "nt-feishu",
        "nt-email")


def _form_state(**values: Any) -> list[dict]:
    base = {"nt-all-depts": [], "nt-dept-ids": ["D001"], "nt-levels": ["red"], "nt-mode": "immediate", "nt-lang": "zh",
            "nt-wecom": "", "nt-dingtalk": "", "nt-feishu": "", "nt-email": "", **values}
    return [*({"id": k, "property": "value", "value": base[k]} for k in FORM),
            {"id": "nt-version", "property": "data", "value": None}]


def test_the_notifications_page_puts_each_problem_at_its_field_and_saves_nothing(server) -> None:
    from .conftest import texts
    from .helpers import post_callback, signed_in

    client = signed_in(server, "dir1", "zh")
    status, out = post_callback(server, client, "nt-dept-ids-problem.children",
                                [{"id": "nt-save", "property": "n_clicks", "value": 1}],
                                _form_state(**{"nt-dept-ids": ["D002"], "nt-email": "dir1@", "nt-wecom":
                                               "http://example.org/hook?key=a"}))  # D002: a forged department
    assert status == 200
    assert texts(out["nt-dept-ids-problem.children"]) == "所选科室不在您的数据范围内。"
    assert "邮箱地址格式不正确" in texts(out["nt-email-problem.children"])
    assert "须为加密地址" in texts(out["nt-wecom-problem.children"]) or "https" in texts(out["nt-wecom-problem.children"])
    assert out["nt-levels-problem.children"] is None and "未保存" in texts(out["nt-message.children"])
    db = server.extensions["hospdash"].appdb
    assert get_subscription(db, db.get_by_username("dir1").id) is None
    status, out = post_callback(server, client, "nt-dept-ids-problem.children",
                                [{"id": "nt-save", "property": "n_clicks", "value": 1}],
                                _form_state(**{"nt-email": "dir1@hospital.test"}))
    assert status == 200 and texts(out["nt-message.children"]) == "订阅已保存。" and out["nt-version.data"] == 1
    sub = get_subscription(db, db.get_by_username("dir1").id)
    assert sub is not None and sub.dept_ids == ("D001",) and sub.channels == {"email": "dir1@hospital.test"}
    assert any(e["action"] == "subscription_saved" for e in db.audit_entries(username="dir1"))
    assert post_callback(server, signed_in(server, "admin1"), "nt-dept-ids-problem.children",
                         [{"id": "nt-save", "property": "n_clicks", "value": 1}], _form_state())[0] == 403


def test_the_alert_link_opens_the_alert_with_its_deliveries(server) -> None:
    from .conftest import texts
    from .helpers import find, post_callback, signed_in

    db = server.extensions["hospdash"].appdb
    alert_id = raise_alert(db, dept="D001")
    subscribe(db, "dir1", email="dir1@hospital.test", lang="en")  # no SMTP configured: a failure on record
    outbox(db).alerts_raised([alert_id], datetime.now())
    client = signed_in(server, "dir1", "en")

    def page(search: str) -> Any:
        status, out = post_callback(server, client, "_pages_content.children",
                                    [{"id": "_pages_location", "property": "pathname", "value": "/alerts"},
                                     {"id": "_pages_location", "property": "search", "value": search}])
        assert status == 200
        return out["_pages_content.children"]

    layout = page(f"?alert={alert_id}")
    assert find(layout, "al-selected")["props"]["data"] == alert_id and find(layout, "address-notes") is None
    status, out = post_callback(server, client, "al-detail.children",
                                [{"id": "al-selected", "property": "data", "value": alert_id}])
    delivered = texts(find(out, "al-deliveries"))
    assert status == 200 and "retrying" in delivered and "Email" in delivered and "1 attempt" in delivered
    for bad in ("?alert=abc", "?alert=99999", "?alert=-1"):
        layout = page(bad)
        assert find(layout, "al-selected")["props"].get("data") is None
        assert "alert" in texts(find(layout, "address-notes"))
    other = raise_alert(db, dept="D002")
    assert find(page(f"?alert={other}"), "al-selected")["props"].get("data") is None  # outside dir1's scope


ADMIN_FORM = tuple(k.replace("nt-", "adn-") for k in FORM)


def test_an_administrator_sets_a_users_subscription_within_that_users_scope(server) -> None:
    from .conftest import texts
    from .helpers import post_callback, signed_in

    db = server.extensions["hospdash"].appdb
    dir1 = db.get_by_username("dir1")
    admin = signed_in(server, "admin1", "en")
    status, out = post_callback(server, admin, "adn-pick.children",
                                [{"id": "admin-user", "property": "value", "value": dir1.id},
                                 {"id": "admin-refresh", "property": "data", "value": 0}])
    assert status == 200 and [o["value"] for o in out["adn-dept-ids.options"]] == ["D001"]  # dir1's scope only

    def save(**values: Any) -> dict:
        state = [{"id": s["id"].replace("nt-", "adn-"), "property": s["property"], "value": s["value"]}
                 for s in _form_state(**values)]
        status, got = post_callback(server, admin, "adn-dept-ids-problem.children",
                                    [{"id": "adn-save", "property": "n_clicks", "value": 1}],
                                    [*state, {"id": "admin-user", "property": "value", "value": dir1.id}])
        assert status == 200
        return got

    got = save(**{"nt-dept-ids": ["D002"], "nt-dingtalk": "not a url"})  # D002: outside dir1's scope
    assert texts(got["adn-dept-ids-problem.children"]) == "A department chosen is outside the scope."
    assert texts(got["adn-dingtalk-problem.children"]).startswith("This is not a web address")
    assert get_subscription(db, dir1.id) is None
    got = save(**{"nt-lang": "en", "nt-dingtalk": "https://oapi.dingtalk.com/robot/send?access_token=abc"})
    assert texts(got["adn-message.children"]) == "Saved the subscription of dir1."
    sub = get_subscription(db, dir1.id)
    assert sub is not None and sub.lang == "en" and sub.channels == {
        "dingtalk": "https://oapi.dingtalk.com/robot/send?access_token=abc"}
    assert [e["username"] for e in db.audit_entries(action="subscription_saved")] == ["admin1"]


def test_the_notifications_page_is_in_the_header_but_not_for_a_wall_display(server) -> None:
    from .helpers import post_callback, signed_in

    db = server.extensions["hospdash"].appdb
    for user in ("lead1", "dir1", "asst1"):
        client = signed_in(server, user, "zh")
        assert 'notifications"' in client.get("/_dash-layout").get_data(as_text=True)
    _, token = db.issue_kiosk(db.get_by_username("lead1").id, "lobby", "admin1")
    wall = server.test_client()
    assert wall.get(f"/kiosk/{token}").status_code == 302
    wall.get("/")
    assert 'notifications"' not in wall.get("/_dash-layout").get_data(as_text=True)
    status, out = post_callback(server, wall, "_pages_content.children",
                                [{"id": "_pages_location", "property": "pathname", "value": "/notifications"},
                                 {"id": "_pages_location", "property": "search", "value": ""}])
    assert status == 200 and "forbidden" in json.dumps(out)
    assert post_callback(server, wall, "nt-dept-ids-problem.children",
                         [{"id": "nt-save", "property": "n_clicks", "value": 1}], _form_state())[0] == 403


@pytest.mark.parametrize(("env", "problem"), [
    ({"APP_BASE_URL": "dashboard.hospital"}, "APP_BASE_URL"),
    ({"SMTP_HOST": "smtp.h", "SMTP_FROM": ""}, "SMTP_FROM"),
    ({"SMTP_HOST": "smtp.h", "SMTP_FROM": "a@h.cn", "SMTP_SECURITY": "tls9"}, "SMTP_SECURITY"),
    ({"NOTIFY_MAX_ATTEMPTS": "0"}, "NOTIFY_MAX_ATTEMPTS"),
    ({"NOTIFY_ESCALATE_DAYS": "two"}, "NOTIFY_ESCALATE_DAYS"),
])
def test_a_bad_delivery_setting_is_named(env: dict, problem: str) -> None:
    from appdb.config import notify_settings
    from data_layer.errors import UserError

    with pytest.raises(UserError, match=problem):
        notify_settings(env)
    good = notify_settings({"SMTP_HOST": "smtp.h", "SMTP_FROM": "alerts@h.cn", "SMTP_SECURITY": "ssl",
                            "SMTP_PASSWORD": "s3cret"})
    assert good.smtp is not None and good.smtp.port == 465 and "s3cret" not in repr(good)


def test_a_long_wecom_message_is_cut_to_what_the_robot_takes() -> None:
    from appdb.channels import WECOM_LIMITS, fit

    body = "\n".join(["**晨报**", *(f"- 第 {i} 条预警：骨科 · 耗占比 · 41.3%" for i in range(300)), "_页脚_"])
    cut = fit(body, WECOM_LIMITS["markdown"])
    assert len(cut.encode()) <= 4096 and cut.startswith("**晨报**") and cut.endswith("…\n_页脚_")
    assert fit("short", 4096) == "short"
