"""A published monthly report sent to its department's subscribers (docs/alerts.md#monthly-reports),
with real parts: the reports page's button queues it, `python -m appdb notify retry|report` sends it
(the PDF printed by the PDF job, `python -m shell.report_pdf`, in a process of its own) through a real
SMTP server (aiosmtpd) and a robot receiver on 127.0.0.1 (tests/test_notify.py's), and the PDF that
arrives is read back with pypdf.

The tests that print a PDF need Debian's `chromium` (and fonts-noto-cjk): skipped with a message
without it, failed in CI."""
from __future__ import annotations

import email.message
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from appdb.channels import Smtp
from appdb.cli import main
from appdb.notify import NotifySettings, Outbox, queue_report
from appdb.reports import create_draft
from appdb.schema import deliveries
from appdb.store import AppDB, CodedError
from appdb.subscriptions import save_subscription
from components.i18n import t
from components.notify import render_message, render_report_message
from data_layer.queries.report import generate
from data_layer.queries.structure import departments
from data_layer.scope import Scope

from . import test_notify
from .conftest import texts
from .helpers import find, post_callback, signed_in
from .test_notify import Receiver
from .test_report_pdf import FINDINGS, MINE, OCTOBER, _names, _pdf_text, _published, _squeeze, need_chromium

robot = test_notify.robot  # the receivers' fixtures: a robot webhook and an SMTP server on 127.0.0.1
mailbox = test_notify.mailbox
BASE = "https://dash.hospital.test"
SEND = [{"id": "report-send", "property": "n_clicks", "value": 1}]


def _db(server: Flask) -> AppDB:
    return server.extensions["hospdash"].appdb


def _campus_of(server: Flask) -> dict[str, str]:
    deps = departments(server.extensions["hospdash"].warehouse, Scope.hospital())
    return dict(zip(deps["dept_id"], deps["campus_id"], strict=True))


def subscribe(server: Flask, username: str, **values: Any) -> None:
    """A subscription as the Notifications page saves it: levels and mode do not matter to a report."""
    db = _db(server)
    form = {"all_depts": True, "dept_ids": [], "levels": ["red"], "mode": "digest", "lang": "zh", **values}
    save_subscription(db, db.get_by_username(username), form, _campus_of(server), by="test")


def _settings(monkeypatch: pytest.MonkeyPatch, app_env: dict[str, str], smtp: Smtp | None = None) -> None:
    """The delivery settings the command line reads (and the PDF job inherits)."""
    monkeypatch.setenv("APP_BASE_URL", BASE)
    monkeypatch.setenv("DATA_DIR", app_env["DATA_DIR"])
    monkeypatch.setenv("SMTP_HOST", smtp.host if smtp else "")
    if smtp:
        monkeypatch.setenv("SMTP_PORT", str(smtp.port))
        monkeypatch.setenv("SMTP_FROM", smtp.sender)
        monkeypatch.setenv("SMTP_SECURITY", "none")


def _cli(app_env: dict[str, str], *args: str) -> int:
    return main(["--url", app_env["APP_DB_URL"], "notify", *args, "--warehouse", app_env["WAREHOUSE_URL"]])


def _rows(db: AppDB) -> list[dict[str, Any]]:
    with db.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(deliveries).order_by(deliveries.c.id))]


def _meta(r: dict) -> list[dict]:
    return [{"id": "report-meta", "property": "data", "value": {"id": r["id"], "version": r["version"]}}]


def _pdf_of(msg: email.message.EmailMessage) -> tuple[str, bytes]:
    [part] = [p for p in msg.iter_attachments() if p.get_content_type() == "application/pdf"]
    return part.get_filename(), part.get_content()


def test_the_report_reaches_its_departments_subscribers_as_a_pdf_and_a_link(
        server: Flask, app_env: dict[str, str], robot: Receiver, mailbox, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    need_chromium()
    smtp, mail = mailbox
    db = _db(server)
    r = _published(server, "D002")
    assert _campus_of(server)["D002"] != "C2"  # so lead2 (campus C2) may not see it
    subscribe(server, "asst1", lang="en", email="asst1@hospital.test", wecom=robot.url("asst1"))  # all of D001-D003
    subscribe(server, "lead1", lang="zh", all_depts=False, dept_ids=["D002"], email="lead1@hospital.test")
    subscribe(server, "dir1", lang="zh", email="dir1@hospital.test", wecom=robot.url("dir1"))  # "all": D001 only
    subscribe(server, "lead2", lang="en", email="lead2@hospital.test")  # "all": campus C2 only
    _settings(monkeypatch, app_env, smtp)

    # the page's button queues the sends and answers at once, saying for how many
    client = signed_in(server, "asst1", "en")
    status, out = post_callback(server, client, "report-status.children", SEND, _meta(r))
    assert status == 200 and texts(out["report-status.children"]).startswith("Queued for 2 subscriber(s)")
    assert "queued" in texts(out["report-sent.children"]) and mail == [] and robot.bodies == []
    assert sorted((row["user_id"], row["channel"], row["status"], row["lang"]) for row in _rows(db)) == sorted([
        (db.get_by_username("asst1").id, "email", "queued", "en"), (db.get_by_username("asst1").id, "wecom", "queued", "en"),
        (db.get_by_username("lead1").id, "email", "queued", "zh")])
    assert any(e["action"] == "report_send" for e in db.audit_entries(username="asst1"))

    # the delivery job sends them: the PDF rendered once per language
    assert _cli(app_env, "retry") == 0
    assert "retry: 0 messages: 3 sent" in capsys.readouterr().out
    names = _names(server, "D002")
    by_to = {m["X-Envelope-To"]: m for m in mail}
    assert set(by_to) == {"asst1@hospital.test", "lead1@hospital.test"}  # neither dir1 nor lead2
    for to, lang, month in (("lead1@hospital.test", "zh", "2026年10月"), ("asst1@hospital.test", "en", "October 2026")):
        msg = by_to[to]
        assert msg["Subject"] == t("notify.report.subject", lang, dept=names[lang], month=month)
        filename, data = _pdf_of(msg)
        assert filename == t("ws.rp.pdf_file", lang, dept=names[lang].replace(" ", "_"), month="2026-10")
        got = _squeeze(_pdf_text(data))
        assert _squeeze(t("ws.rp.title", lang, dept=names[lang], month=month)) in got
        assert _squeeze(names[lang]) in got
        assert _squeeze(t("ws.rp.sec.findings", lang)) in got and _squeeze(t("ws.rp.sec.key", lang)) in got
        other = "en" if lang == "zh" else "zh"
        assert _squeeze(t("ws.rp.sec.findings", other)) not in got  # the subscriber's language only
        for finding in FINDINGS:
            for cell in finding.values():
                assert _squeeze(cell) in got, cell
        assert f"{BASE}/workspace/reports?dept=D002&amp;report={r['id']}" in msg.get_body(("html",)).get_content()

    # the chat robot takes no file: it gets a short message naming the report, with its link
    assert robot.paths == ["/cgi-bin/webhook/send?key=asst1"]
    content = robot.bodies[0]["markdown"]["content"]
    for part in (f"[Monthly report] {names['en']} · October 2026", "revision 1", "with 2 finding(s)",
                 f"({BASE}/workspace/reports?dept=D002&report={r['id']})"):
        assert part in content, part
    assert all(row["status"] == "sent" and row["report_id"] == r["id"] and row["attempts"] == 1 for row in _rows(db))

    # the report's page lists who got it; pressing again sends nobody a second copy
    status, out = post_callback(server, client, "report-status.children", SEND, _meta(r))
    assert texts(out["report-status.children"]).startswith("All 2 subscriber(s) of the department have it already")
    listed = texts(out["report-sent.children"])
    assert listed.count("sent") >= 3 and "lead1" in listed and "Email" in listed and "dir1" not in listed
    assert len(_rows(db)) == 3
    # a director of D001 presses the button of D002's report by a forged request: refused, nothing queued
    assert post_callback(server, signed_in(server, "dir1"), "report-status.children", SEND, _meta(r))[0] == 403
    assert len(_rows(db)) == 3


def test_a_draft_is_not_sent(server: Flask, app_env: dict[str, str], robot: Receiver,
                             monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    from pages.workspace.reports import render

    state = server.extensions["hospdash"]
    content = generate(state.warehouse, MINE, "D001", OCTOBER) | {"alerts": []}
    draft = create_draft(state.appdb, MINE, "D001", "C1", OCTOBER, content, FINDINGS, "asst1")
    subscribe(server, "dir1", wecom=robot.url("dir1"))
    button = next(c for c in render(draft, "zh", "骨科").children[0].children if getattr(c, "id", None) == "report-send")
    assert button.disabled is True and button.title == "草稿不能发送：请先发布报告。"
    status, out = post_callback(server, signed_in(server, "asst1", "zh"), "report-status.children", SEND, _meta(draft))
    assert status == 200 and texts(out["report-status.children"]) == "草稿不能发送：请先发布报告。"
    with pytest.raises(CodedError, match="draft"):
        queue_report(state.appdb, draft["id"], datetime.now())
    _settings(monkeypatch, app_env)
    assert _cli(app_env, "report", str(draft["id"])) == 2
    assert "a draft cannot be sent" in capsys.readouterr().err
    assert _rows(state.appdb) == [] and robot.bodies == []


def test_without_chromium_the_email_is_recorded_as_failed_and_the_robot_still_gets_the_link(
        server: Flask, app_env: dict[str, str], robot: Receiver, mailbox, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    smtp, mail = mailbox
    r = _published(server, "D001")
    subscribe(server, "dir1", lang="zh", email="dir1@hospital.test", wecom=robot.url("dir1"))
    _settings(monkeypatch, app_env, smtp)
    bare = tmp_path / "bin"
    bare.mkdir()
    monkeypatch.setenv("PATH", str(bare))  # a server with no browser on its path
    monkeypatch.delenv("CHROMIUM", raising=False)
    assert _cli(app_env, "report", str(r["id"])) == 0
    out = capsys.readouterr().out
    assert "1 recipients queued (2 deliveries)" in out and "1 sent" in out and "1 failed" in out
    rows = {row["channel"]: row for row in _rows(_db(server))}
    assert rows["email"]["status"] == "failed" and rows["email"]["last_error"] == t("ws.rp.pdf_no_chromium", "zh")
    assert rows["wecom"]["status"] == "sent" and mail == []
    assert "【月度运营报告】" in robot.bodies[0]["markdown"]["content"]
    # the report's page says so, without a traceback: as it opens, and after another press of the button
    client = signed_in(server, "dir1", "zh")
    status, out = post_callback(server, client, "_pages_content.children",
                                [{"id": "_pages_location", "property": "pathname", "value": "/workspace/reports"},
                                 {"id": "_pages_location", "property": "search", "value": f"?dept=D001&report={r['id']}"}])
    opened = texts(find(out["_pages_content.children"], "report-deliveries"))
    assert status == 200 and "失败" in opened and "已送达" in opened and "企业微信群机器人" in opened
    status, out = post_callback(server, client, "report-status.children", SEND, _meta(r))
    listed = texts(out["report-sent.children"])
    assert status == 200 and "失败" in listed and "Chromium" in listed and "Traceback" not in json.dumps(out)
    # sending again queues the failed email anew (not the robot's message, which went)
    assert texts(out["report-status.children"]).startswith("已为 1 位订阅人排队发送")
    assert [row["channel"] for row in _rows(_db(server)) if row["status"] == "queued"] == ["email"]


def test_a_robot_answering_500_gets_the_report_later_with_back_off(server: Flask, robot: Receiver) -> None:
    db = _db(server)
    r = _published(server, "D003")
    subscribe(server, "asst1", lang="en", wecom=robot.url("asst1"))
    robot.mode = "fail"
    box = Outbox(db, NotifySettings(base_url=BASE, retry_minutes=5), render_message, {"D003": ("某科", "Some Dept")},
                 render_report=render_report_message)
    now = datetime(2026, 12, 1, 9, 0)
    queued, tally = box.send_report(r["id"], now)
    assert (queued.recipients, queued.deliveries, tally.retrying) == (1, 1, 1)
    [row] = _rows(db)
    assert (row["status"], row["attempts"], row["next_attempt_at"]) == ("retrying", 1, now + timedelta(minutes=5))
    assert "500" in row["last_error"] and "Some Dept" in json.loads(row["message"])["subject"]
    assert box.retry(now + timedelta(minutes=4)).sent == 0 and len(robot.bodies) == 1  # not yet due
    robot.mode = "ok"
    assert box.retry(now + timedelta(minutes=5)).sent == 1
    [row] = _rows(db)
    assert (row["status"], row["attempts"]) == ("sent", 2) and robot.bodies[0] == robot.bodies[-1]
    # forced, the report goes again; not forced, it does not
    assert queue_report(db, r["id"], now).already == 1
    assert queue_report(db, r["id"], now, force=True).deliveries == 1


def test_the_report_message_in_both_languages() -> None:
    report = {"id": 7, "month": "2026-10-01", "revision": 2,
              "findings": [{"problem": f"问题{i}", "cause": "", "suggestion": ""} for i in range(5)]}
    zh = render_report_message(report, "zh", dept_name="骨科", link=f"{BASE}/workspace/reports?dept=D001&report=7")
    en = render_report_message(report, "en", dept_name="Orthopedics", link=f"{BASE}/workspace/reports?dept=D001&report=7")
    assert zh["subject"] == "【月度运营报告】骨科 · 2026年10月" and en["subject"] == "[Monthly report] Orthopedics · October 2026"
    assert "第 2 版" in zh["text"] and "共 5 条问题分析" in zh["text"] and "另有 2 条" in zh["text"]
    assert "attached as a PDF" in en["html"] and "attached" not in en["markdown"]
    assert "问题0" in zh["markdown"] and "问题3" not in zh["markdown"]
