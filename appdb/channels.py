"""Sending one message over one channel, through Apprise (https://github.com/caronc/apprise).

A robot's webhook address, as the chat service shows it to whoever adds the robot to a group, maps
to Apprise's own plugin for that service:

| channel | address | Apprise URL |
|---|---|---|
| WeCom (企业微信) | https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY | wecombot://KEY |
| DingTalk (钉钉) | https://oapi.dingtalk.com/robot/send?access_token=TOKEN[&secret=SEC…] | dingtalk://[SEC…@]TOKEN/ |
| Feishu (飞书) | https://open.feishu.cn/open-apis/bot/v2/hook/TOKEN | feishu://TOKEN |
| Lark | https://open.larksuite.com/open-apis/bot/v2/hook/TOKEN | lark://TOKEN |

Any other https address is a relay inside the hospital's network that forwards to the chat service
(hospital servers often reach the internet only through one): it gets the JSON body the service
itself takes (WeCom: {"msgtype": "markdown", "markdown": {"content": …}}), posted by the Apprise
plugin `hdrobot://` / `hdrobots://` registered here. Plain http is accepted only on this machine
(tests' receivers). Email goes through Apprise's mailto:// / mailtos:// with the SMTP server of the
configuration (NotifySettings).
"""
from __future__ import annotations

import functools
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

log = logging.getLogger("hospdash.notify")

OFFICIAL = {  # host -> the channel whose robots live there
    "qyapi.weixin.qq.com": "wecom", "oapi.dingtalk.com": "dingtalk", "open.feishu.cn": "feishu",
    "open.larksuite.com": "feishu",
}
RELAY_SCHEMAS = ("hdrobot", "hdrobots")  # http (loopback only) and https relays


class ChannelError(ValueError):
    """An address that cannot be turned into an Apprise URL for its channel."""


@dataclass(frozen=True)
class Smtp:
    """The SMTP server email goes through (docs/configuration.md, SMTP_*)."""

    host: str
    port: int
    sender: str
    user: str = ""
    password: str = field(default="", repr=False)
    security: str = "starttls"  # starttls | ssl | none


def _token(parts: Any, name: str) -> str:
    value = dict(parse_qsl(parts.query)).get(name, "")
    if not value or not all(c.isalnum() or c in "-_" for c in value):
        raise ChannelError(f"the address carries no {name}")
    return value


def robot_url(channel: str, address: str, timeout: float = 10.0) -> str:
    """The Apprise URL for a robot's webhook `address` on `channel` (wecom, dingtalk, feishu);
    ChannelError when the address belongs to another service or lacks its key."""
    parts = urlsplit(address)
    host = (parts.hostname or "").lower()
    times = f"cto={min(timeout, 5):g}&rto={timeout:g}"
    owner = OFFICIAL.get(host)
    if owner is not None and owner != channel:
        raise ChannelError(f"{host} is not a {channel} robot's address")
    if owner is None:
        schema = "hdrobots" if parts.scheme == "https" else "hdrobot"
        query = parse_qsl(parts.query, keep_blank_values=True) + [("hd_shape", channel), ("hd_timeout", f"{timeout:g}")]
        return f"{schema}://{parts.netloc}{parts.path or '/'}?{urlencode(query)}"
    if channel == "wecom":
        if parts.path.rstrip("/") != "/cgi-bin/webhook/send":
            raise ChannelError("not a WeCom robot's address")
        return f"wecombot://{_token(parts, 'key')}/?{times}"
    if channel == "dingtalk":
        if parts.path.rstrip("/") != "/robot/send":
            raise ChannelError("not a DingTalk robot's address")
        token = _token(parts, "access_token")
        secret = dict(parse_qsl(parts.query)).get("secret")
        if secret is not None and not secret.isalnum():
            raise ChannelError("the signing secret is not letters and digits")
        return f"dingtalk://{secret + '@' if secret else ''}{token}/?{times}"
    prefix = "/open-apis/bot/v2/hook/"
    token = parts.path[len(prefix):].strip("/") if parts.path.startswith(prefix) else ""
    if not token or not all(c.isalnum() or c in "-_" for c in token):
        raise ChannelError("not a Feishu or Lark robot's address")
    return f"{'lark' if host == 'open.larksuite.com' else 'feishu'}://{token}/?{times}"


def email_url(smtp: Smtp, to: str, timeout: float = 10.0) -> str:
    """The Apprise URL sending to `to` through the configured SMTP server."""
    mode = {"starttls": "starttls", "ssl": "ssl", "none": "insecure"}[smtp.security]
    auth = f"{quote(smtp.user, safe='')}:{quote(smtp.password, safe='')}@" if smtp.user else ""
    query = urlencode({"smtp": smtp.host, "from": smtp.sender, "to": to, "mode": mode, "cto": f"{min(timeout, 5):g}",
                       "rto": f"{timeout:g}"})
    return f"{'mailto' if mode == 'insecure' else 'mailtos'}://{auth}{smtp.host}:{smtp.port}/?{query}"


WECOM_LIMITS = {"text": 2048, "markdown": 4096}  # bytes a WeCom robot takes (it refuses more with errcode 45002)


def fit(body: str, limit: int) -> str:
    """`body` cut to at most `limit` UTF-8 bytes at a line's end, the last line (the footer) kept and
    "…" where lines were left out (a long digest: its alerts are all on the Alerts page)."""
    if len(body.encode()) <= limit:
        return body
    lines = body.split("\n")
    tail = ["…", lines[-1]]
    kept: list[str] = []
    for line in lines[:-1]:
        if len("\n".join([*kept, line, *tail]).encode()) > limit:
            break
        kept.append(line)
    return "\n".join([*kept, *tail]).encode()[:limit].decode(errors="ignore")


def relay_body(shape: str, title: str, body: str) -> dict[str, Any]:
    """The JSON a chat service's robot takes (what its relay forwards unchanged)."""
    if shape == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": body}}
    if shape == "dingtalk":
        return {"msgtype": "markdown", "markdown": {"title": title, "text": body}}
    return {"msg_type": "text", "content": {"text": f"{title}\n{body}" if title else body}}


def _relay(body: str, title: str, notify_type: Any, meta: Mapping[str, Any], *args: Any, **kwargs: Any) -> bool:
    """Apprise's custom plugin for hdrobot(s)://: post the service's JSON to the relay's address."""
    import requests
    from apprise.logger import logger

    parts = urlsplit(str(meta["url"]))
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not k.startswith("hd_")]
    qsd = meta.get("qsd", {})
    target = f"{'https' if parts.scheme == 'hdrobots' else 'http'}://{parts.netloc}{parts.path}" + (
        f"?{urlencode(query)}" if query else "")
    try:
        timeout = float(qsd.get("hd_timeout", 10))
        r = requests.post(target, data=json.dumps(relay_body(qsd.get("hd_shape", "wecom"), title, body),
                                                  ensure_ascii=False).encode(),
                          headers={"Content-Type": "application/json; charset=utf-8"}, timeout=(min(timeout, 5), timeout),
                          allow_redirects=False)
    except requests.RequestException as exc:
        logger.warning("robot relay: %s", type(exc).__name__)
        return False
    if r.status_code != 200:
        logger.warning("robot relay: HTTP %s", r.status_code)
        return False
    try:
        answer = r.json()
    except ValueError:
        answer = {}
    if isinstance(answer, dict) and answer.get("errcode") not in (None, 0):
        logger.warning("robot relay: errcode %s %s", answer.get("errcode"), str(answer.get("errmsg", ""))[:100])
        return False
    return True


@functools.cache
def _register_relay() -> None:
    """Register the relay plugin with Apprise, once per process (Apprise keeps plugins globally)."""
    from apprise.decorators import notify

    for schema in RELAY_SCHEMAS:
        notify(on=schema, name="Hospital dashboard robot relay")(_relay)


def send(channel: str, address: str, message: Mapping[str, str], smtp: Smtp | None, timeout: float = 10.0, *,
         attach: tuple[str, bytes] | None = None) -> str | None:
    """Send `message` (subject, text, markdown, html) to one address; None when it went, else why not
    (a short line: the service's HTTP status or the connection error, never a traceback). `attach`:
    a file (name, bytes) sent with an email, from memory (a chat robot's webhook takes no file)."""
    import apprise
    from apprise.attachment.memory import AttachMemory

    _register_relay()
    try:
        if channel == "email":
            if smtp is None:
                return "no SMTP server configured (SMTP_HOST)"
            url, body, fmt = email_url(smtp, address, timeout), message["html"], apprise.NotifyFormat.HTML
        else:
            url = robot_url(channel, address, timeout)
            native_text = url.startswith("wecombot://")  # Apprise's WeCom plugin sends text messages
            body = message["text"] if native_text else message["markdown"]
            if channel == "wecom":
                body = fit(body, WECOM_LIMITS["text" if native_text else "markdown"])
            fmt = apprise.NotifyFormat.TEXT if native_text else apprise.NotifyFormat.MARKDOWN
    except ChannelError as exc:
        return str(exc)
    sender = apprise.Apprise()
    if not sender.add(url):
        return f"Apprise does not accept the {channel} address"
    with apprise.LogCapture(level=logging.WARNING) as captured:
        try:
            files = None
            if attach is not None and channel == "email":
                files = apprise.AppriseAttachment()
                files.add(AttachMemory(content=attach[1], name=attach[0],
                                       mimetype="application/pdf" if attach[0].endswith(".pdf") else None))
            ok = bool(sender.notify(body=body, title=message["subject"], body_format=fmt, attach=files))
        except Exception as exc:  # noqa: BLE001 - a plugin's failure is a failed delivery, never a crash
            log.warning("%s delivery raised %s", channel, type(exc).__name__)
            return type(exc).__name__
    if ok:
        return None
    lines = [ln.split(" - ", 2)[-1].strip() for ln in captured.getvalue().splitlines() if ln.strip()]
    return (" · ".join(dict.fromkeys(lines)) or "not delivered")[:500]
