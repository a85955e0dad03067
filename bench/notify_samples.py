"""Regenerate the alert-message samples in docs/ (docs/alerts.md#delivery): one red alert sent through
the real delivery path (appdb.notify.Outbox over Apprise) to a WeCom-style robot receiver on 127.0.0.1
and to an aiosmtpd SMTP server; what arrived is written as docs/notify-webhook-sample.json and
docs/notify-email-sample.html, and the email is drawn by headless Chromium into
docs/screenshots/notify-email-<lang>.png.

    .venv/bin/python -m bench.notify_samples [--lang zh]
"""
from __future__ import annotations

import argparse
import email
import email.policy
import http.server
import json
import shutil
import socket
import subprocess
import tempfile
import threading
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAMES = {"D003": ("骨科", "Orthopedics")}


def main(argv: list[str] | None = None) -> int:
    from aiosmtpd.controller import Controller

    from appdb.alerts import save_scan
    from appdb.channels import Smtp
    from appdb.notify import NotifySettings, Outbox
    from appdb.store import AppDB
    from appdb.subscriptions import save_subscription
    from components.notify import render_message
    from data_layer.alerts.detect import Alert

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", choices=("zh", "en"), default="zh", help="the recipient's language")
    args = parser.parse_args(argv)
    bodies: list[bytes] = []

    class Robot(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            bodies.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"errcode":0,"errmsg":"ok"}')

        def log_message(self, *_a: object) -> None:
            pass

    robot = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Robot)
    threading.Thread(target=robot.serve_forever, daemon=True).start()
    mails: list[email.message.EmailMessage] = []

    class Mailbox:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
            mails.append(email.message_from_bytes(envelope.content, policy=email.policy.default))  # type: ignore[attr-defined]
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    smtp = Controller(Mailbox(), hostname="127.0.0.1", port=port)
    smtp.start()
    with tempfile.TemporaryDirectory() as tmp:
        db = AppDB(f"sqlite:///{tmp}/app.sqlite")
        db.migrate()
        user = db.create_user("director.d003", "王主任", "Passw0rd-long-2026-sample", "director", "departments", ["D003"])
        save_subscription(db, user, {"all_depts": True, "levels": ["orange", "red"], "mode": "immediate", "lang": args.lang,
                                     "wecom": f"http://127.0.0.1:{robot.server_address[1]}/cgi-bin/webhook/send?key=sample",
                                     "email": "wang.zhuren@hospital.example"}, {"D003": "C1"}, by="sample")
        alert = Alert("robust_z", "red", "D003", "material_share", date(2026, 10, 1), date(2026, 10, 31), 0.4127, 0.3012,
                      0.2806, 0.3218, 0.3702, "robust z = +9.4 against the trailing 12 months",
                      drivers=[{"type": "group", "id": "G0031", "name_zh": "关节外科二组", "name_en": "Joint surgery group 2",
                                "contribution": 0.58},
                               {"type": "doctor", "id": "DR0412", "name_zh": "李明", "name_en": "Li Ming",
                                "contribution": 0.21}],
                      consequences=[{"kind": "robust_z", "level": "orange", "indicator": "charge_per_discharge",
                                     "entity_type": None, "entity_id": None, "period_start": "2026-10-01",
                                     "period_end": "2026-10-31", "observed": 38650.0, "expected": 32100.0,
                                     "deviation": 0.204, "method": "robust z = +7.4 against the trailing 12 months",
                                     "via": "material_share",
                                     "adjusted": {"indicator": "cost_index", "observed": 1.142, "expected": 1.0,
                                                  "deviation": 0.142, "z": 5.1, "kept": 0.7}}])
        ids: list[int] = []
        save_scan(db, [alert], {"D003": "C1"}, ids)
        settings = NotifySettings(base_url="https://dashboard.hospital.example",
                                  smtp=Smtp("127.0.0.1", port, "alerts@hospital.example", security="none"))
        print(Outbox(db, settings, render_message, NAMES).alerts_raised(ids, datetime.now().replace(microsecond=0)))
        db.engine.dispose()
    smtp.stop()
    robot.shutdown()
    docs = ROOT / "docs"
    (docs / "notify-webhook-sample.json").write_text(
        json.dumps(json.loads(bodies[0]), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    mail = mails[0]
    page = mail.get_body(("html",)).get_content()
    (docs / "notify-email-sample.html").write_text(page, encoding="utf-8")
    (docs / "notify-email-sample.txt").write_text(
        f"Subject: {mail['Subject']}\nFrom: {mail['From']}\nTo: {mail['To']}\n\n"
        + mail.get_body(("plain",)).get_content(), encoding="utf-8")
    shot = docs / "screenshots" / f"notify-email-{args.lang}.png"
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("no chromium: screenshot skipped")
        return 0
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={profile}", f"--screenshot={shot}", "--window-size=800,400",
                        "--hide-scrollbars", (docs / "notify-email-sample.html").as_uri()],
                       check=True, capture_output=True, timeout=120)
    print(f"wrote {shot.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
