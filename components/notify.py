"""Alert messages (chat robots and email) and the parts of the subscription form and the delivery
list the pages show.

Pure: alert records, names and the language in; a message {subject, text, markdown, html} or Dash
components out. Numbers are formatted as the pages format them (components/format.py: 万/亿 in
Chinese, percentage points for rates)."""
from __future__ import annotations

import html as H
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from dash import dcc, html

from data_layer.alerts.actions import suggested_action
from data_layer.registry import INDICATORS

from .alerts import QualityCheck, alert_value, case_mix_lines, knock_on_facts, period_text
from .format import format_deviation
from .i18n import t
from .palette import LEVEL_COLOURS

TOP_DRIVERS = 3
_Z = re.compile(r"robust z = ([+-]?\d+(?:\.\d+)?)")


def _dept(names: Mapping[str, tuple[str, str]], dept_id: str, lang: str) -> str:
    pair = names.get(dept_id)
    return (pair[0] if lang == "zh" else pair[1]) if pair else dept_id


def _colon(lang: str) -> str:
    return "：" if lang == "zh" else ": "


def alert_facts(alert: Mapping[str, Any], lang: str, names: Mapping[str, tuple[str, str]],
                link: Callable[[int], str]) -> dict[str, Any]:
    """What a message says about one alert, each part in the reader's language."""
    ind = INDICATORS.get(alert["indicator"]) or (QualityCheck(alert["indicator"]) if alert.get("kind") == "data_quality"
                                                 else None)
    unit = ind.unit if ind else ""
    cause = t(f"method.{alert['kind']}", lang)
    if m := _Z.search(alert.get("method") or ""):
        cause += f"{'；' if lang == 'zh' else '; '}{t('notify.z', lang, z=m[1])}"
    left, right = ("（", "）") if lang == "zh" else (" (", ")")
    drivers = [f"{d.get('name_zh' if lang == 'zh' else 'name_en') or d.get('id', '')}"
               + (f"{left}{t('driver.' + str(d['type']), lang)}{right}" if d.get("type") else "")
               + f" · {float(d.get('contribution') or 0) * 100:.0f}%"
               for d in list(alert.get("drivers") or [])[:TOP_DRIVERS]]
    consequences = [_consequence(c, alert, lang) for c in alert.get("consequences") or []]
    adjusted = case_mix_lines(alert, lang)
    return {
        "level": t(f"level.{alert['level']}", lang), "level_code": alert["level"],
        "dept": _dept(names, alert["dept_id"], lang), "indicator": ind.name(lang) if ind else alert["indicator"],
        "period": period_text(alert["period_start"], alert["period_end"]),
        "observed": alert_value(alert["observed"], alert["kind"], unit, lang),
        "expected": alert_value(alert["expected"], alert["kind"], unit, lang),
        "deviation": format_deviation(alert["observed"], alert["expected"], alert["deviation"], unit, lang, 1,
                                      kind=alert["kind"]),
        "cause": cause, "drivers": drivers, "consequences": [c for c in consequences if c],
        "case_mix": ("；" if lang == "zh" else "; ").join((adjusted["raw"], adjusted["adjusted"], adjusted["kept"]))
        if adjusted else "",
        "action": suggested_action(alert["action_key"], lang), "link": link(int(alert["id"])),
    }


def _consequence(c: Any, alert: Mapping[str, Any], lang: str) -> str:
    """One knock-on finding in a line: its indicator (and group, DRG group or budget line, by code),
    period, observed against expected as the page writes them, and why it belongs to the cause."""
    if not isinstance(c, Mapping):
        return str(c)
    f = knock_on_facts(c, alert, {}, lang)
    sep = "，" if lang == "zh" else ", "
    low = (lambda x: x) if lang == "zh" else str.lower  # noqa: E731 - mid-sentence in English
    what = " · ".join(p for p in (f["indicator"], f["entity"]) if p)
    when = f"（{f['period']}）" if lang == "zh" and f["period"] else f" ({f['period']})" if f["period"] else ""
    level = f"{f['level']} · " if f["level"] else ""
    return (f"{level}{what}{when}{_colon(lang)}{f['observed']}{sep}{low(t('alerts.expected', lang))} {f['expected']}"
            f"{sep}{low(t('alerts.deviation', lang))} {f['deviation']}"
            + (f"{sep}{f['case_mix']}" if f["case_mix"] else "") + f"{sep}{f['why']}")


def _block_lines(f: Mapping[str, Any], lang: str) -> list[tuple[str, str]]:
    """(label, text) lines of one alert, in reading order."""
    low = (lambda x: x) if lang == "zh" else str.lower  # noqa: E731 - "41.2%, expected 30.0%" mid-sentence
    sep = "，" if lang == "zh" else ", "
    lines = [(t("alerts.observed", lang), f"{f['observed']}{sep}{low(t('alerts.expected', lang))} {f['expected']}{sep}"
              f"{low(t('alerts.deviation', lang))} {f['deviation']}"),
             (t("notify.cause", lang), f["cause"])]
    if f["drivers"]:
        lines.append((t("alerts.drivers", lang), ("；" if lang == "zh" else "; ").join(f["drivers"])))
    if f.get("case_mix"):
        lines.append((t("alerts.case_mix", lang), f["case_mix"]))
    lines += [(t("alerts.knock_ons", lang), c) for c in f["consequences"]]
    lines.append((t("alerts.action", lang), f["action"]))
    return lines


def _heading(f: Mapping[str, Any], lang: str) -> str:
    level = f["level"] if lang == "zh" else f["level"].capitalize()
    return t("notify.alert_heading", lang, level=level, dept=f["dept"], indicator=f["indicator"], period=f["period"])


def render_message(kind: str, alerts: Sequence[Mapping[str, Any]], lang: str, *,
                   names: Mapping[str, tuple[str, str]], link: Callable[[int], str], step: int | None = None,
                   days: int | None = None, now: datetime | None = None) -> dict[str, str]:
    """A message about `alerts` for one recipient: kind "alert" (one alert), "escalation" (one alert,
    step 1 to directors, 2 to leaders, after `days` working days) or "digest" (several)."""
    facts = [alert_facts(a, lang, names, link) for a in alerts]
    c = _colon(lang)
    if kind == "digest":
        day = f"{now:%Y-%m-%d}" if now else ""
        subject = t("notify.digest_subject", lang, date=day, n=len(facts))
        intro = t("notify.digest_intro", lang, n=len(facts))
    elif kind == "escalation":
        f = facts[0]
        subject = t(f"notify.escalation_subject_{step}", lang, heading=_heading(f, lang))
        intro = t(f"notify.escalation_intro_{step}", lang, days=days)
    else:
        subject = t("notify.alert_subject", lang, heading=_heading(facts[0], lang))
        intro = ""
    md: list[str] = [f"**{subject}**"] + ([intro] if intro else [])
    text: list[str] = [subject] + ([intro] if intro else [])
    body_html: list[str] = []
    for f in facts:
        head = _heading(f, lang)
        lines = _block_lines(f, lang)
        open_text = t("notify.open", lang)
        titled = kind != "alert"  # one alert's subject is its heading already
        md += ["", f"**{head}**" if kind == "digest" else f"> {head}"] if titled else [""]
        md += [f"- **{label}**{c}{value}" for label, value in lines] + [f"[{open_text}]({f['link']})"]
        text += ["", head] if titled else [""]
        text += [f"{label}{c}{value}" for label, value in lines] + [f"{open_text}{c}{f['link']}"]
        rows = "".join(f'<tr><th style="text-align:left;vertical-align:top;padding:4px 12px 4px 0;color:#555;'
                       f'white-space:nowrap">{H.escape(label)}</th><td style="padding:4px 0">{H.escape(value)}</td></tr>'
                       for label, value in lines)
        body_html.append(
            f'<div style="border-left:6px solid {LEVEL_COLOURS.get(f["level_code"], "#888")};padding:8px 16px;'
            f'margin:16px 0;background:#fafafa">'
            + (f'<h2 style="font-size:17px;margin:4px 0 8px">{H.escape(head)}</h2>' if titled else "")
            + f'<table style="border-collapse:collapse;font-size:14px">{rows}</table>'
            f'<p style="margin:12px 0 4px"><a href="{H.escape(f["link"])}" style="background:#1565c0;color:#fff;'
            f'padding:6px 14px;border-radius:4px;text-decoration:none">{H.escape(open_text)}</a></p>'
            f'<p style="margin:8px 0 0;font-size:12px;color:#666">{H.escape(f["link"])}</p></div>')
    footer = t("notify.footer", lang)
    md += ["", f"_{footer}_"]
    text += ["", footer]
    page = (f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
            f'<title>{H.escape(subject)}</title></head>'
            f'<body style="font-family:\'Noto Sans CJK SC\',\'Microsoft YaHei\',Arial,sans-serif;color:#222;'
            f'max-width:720px;margin:0 auto;padding:16px">'
            f'<h1 style="font-size:20px;margin:0 0 8px">{H.escape(subject)}</h1>'
            + (f'<p style="margin:0 0 8px">{H.escape(intro)}</p>' if intro else "")
            + "".join(body_html)
            + f'<p style="color:#777;font-size:12px;margin-top:24px">{H.escape(footer)}</p></body></html>')
    return {"subject": subject, "text": "\n".join(text), "markdown": "\n".join(md), "html": page}


# ------------------------------------------------------------------------------ the subscription form
FIELDS = ("dept_ids", "levels", "mode", "lang", "wecom", "dingtalk", "feishu", "email")


def field_id(prefix: str, name: str) -> str:
    return f"{prefix}-{name.replace('_', '-')}"


def feedback_id(prefix: str, name: str) -> str:
    return f"{prefix}-{name.replace('_', '-')}-problem"


def subscription_form(prefix: str, lang: str, dept_options: Sequence[tuple[str, str]],
                      levels: Sequence[str], modes: Sequence[str], values: Mapping[str, Any] | None = None) -> html.Div:
    """The subscription's fields (ids `<prefix>-<field>`), each with a place for its problem right
    below it (`<prefix>-<field>-problem`), the save button and the message line; `values`: what the
    fields hold (all_depts as ["all"] or [], the FIELDS, version), the defaults otherwise."""
    v = {"all_depts": [], "dept_ids": [], "levels": ["red"], "mode": "immediate", "lang": lang, "wecom": "",
         "dingtalk": "", "feishu": "", "email": "", "version": None, **(values or {})}
    def labelled(name: str, label: str, control: Any, help_key: str | None = None) -> html.Div:
        parts = [html.Label(t(label, lang), htmlFor=field_id(prefix, name), className="form-label"), control]
        if help_key:
            parts.append(html.Div(t(help_key, lang), className="form-text"))
        parts.append(html.Div(id=feedback_id(prefix, name), className="invalid-feedback d-block", role="alert"))
        return html.Div(parts, className="mb-3")

    opts = [{"label": label, "value": value} for value, label in dept_options]
    return html.Div([
        html.Div([
            dcc.Checklist(id=field_id(prefix, "all_depts"), options=[{"label": " " + t("notify.all_depts", lang),
                                                                    "value": "all"}], value=v["all_depts"],
                          className="mb-1"),
            labelled("dept_ids", "notify.depts", dcc.Dropdown(id=field_id(prefix, "dept_ids"), multi=True, options=opts,
                                                             value=v["dept_ids"],
                                                             placeholder=t("notify.depts_placeholder", lang))),
        ]),
        labelled("levels", "notify.levels", dcc.Checklist(
            id=field_id(prefix, "levels"), inline=True, inputClassName="me-1", labelClassName="me-3",
            options=[{"label": t(f"level.{lv}", lang), "value": lv} for lv in reversed(levels)], value=v["levels"])),
        labelled("mode", "notify.mode", dcc.RadioItems(
            id=field_id(prefix, "mode"), inline=True, inputClassName="me-1", labelClassName="me-3",
            options=[{"label": t(f"notify.mode.{m}", lang), "value": m} for m in modes], value=v["mode"]),
            "notify.mode_help"),
        labelled("lang", "notify.lang", dcc.RadioItems(
            id=field_id(prefix, "lang"), inline=True, inputClassName="me-1", labelClassName="me-3",
            options=[{"label": t(f"notify.lang.{code}", lang), "value": code} for code in ("zh", "en")], value=v["lang"])),
        html.H3(t("notify.channels", lang), className="h5 mt-3"),
        html.P(t("notify.channels_help", lang), className="note"),
        *[labelled(ch, f"notify.channel.{ch}", dcc.Input(
            id=field_id(prefix, ch), type="text", className="form-control", maxLength=500 if ch != "email" else 254,
            placeholder=t(f"notify.placeholder.{ch}", lang), autoComplete="off", spellCheck=False, value=v[ch]))
          for ch in ("wecom", "dingtalk", "feishu", "email")],
        dcc.Store(id=f"{prefix}-version", data=v["version"]),
        html.Button(t("notify.save", lang), id=f"{prefix}-save", className="btn btn-primary"),
        html.Div(id=f"{prefix}-message", className="mt-2", role="status"),
    ], className="notify-form")


def problem_messages(problems: Mapping[str, Any], lang: str) -> list[str | None]:
    """The text under each field of FIELDS (None: the field is fine), from the form's InputProblems."""
    out: list[str | None] = []
    for name in FIELDS:
        p = problems.get(name)
        out.append(None if p is None else t(f"notify.err.{p.code}", lang, **{"high": "", **p.params}))
    return out


def deliveries_list(rows: Sequence[Mapping[str, Any]], lang: str) -> html.Div:
    """Who was told about an alert, how, and whether it reached them (newest first)."""
    if not rows:
        items: list[Any] = [html.Li(t("notify.delivered_none", lang))]
    else:
        items = []
        for r in rows:
            what = t(f"notify.kind.{r['kind']}", lang) + (f" {r['step']}" if r.get("step") else "")
            when = f"{r['sent_at'] or r['updated_at']:%Y-%m-%d %H:%M}"
            extra = ""
            if r["status"] == "retrying" and r.get("next_attempt_at"):
                extra = " · " + t("notify.next_try", lang, at=f"{r['next_attempt_at']:%Y-%m-%d %H:%M}")
            error = f" · {r['last_error']}" if r.get("last_error") and r["status"] != "sent" else ""
            items.append(html.Li([
                html.Span(t(f"notify.status.{r['status']}", lang), className=f"badge delivery-{r['status']} me-2"),
                f"{r['display_name'] or r['username']} · {t('notify.channel.' + r['channel'], lang)} · {what} · {when}"
                f" · {t('notify.attempts', lang, n=r['attempts'])}{extra}", html.Span(error, className="verbatim")]))
    return html.Div([html.H3(t("notify.delivered", lang)), html.Ul(items, id="al-deliveries")])


# ------------------------------------------------------------------------------ monthly reports
def render_report_message(report: Mapping[str, Any], lang: str, *, dept_name: str, link: str) -> dict[str, str]:
    """The message that carries a published monthly report to one subscriber: the department, the
    month, the revision, how many findings, and the report's link. An email sends the report itself
    as an attached PDF (its HTML says so); a chat robot, which takes no file, gets the link."""
    from .reports import month_label

    month = month_label(report["month"], lang)
    n = len(report.get("findings") or [])
    subject = t("notify.report.subject", lang, dept=dept_name, month=month)
    intro = t("notify.report.intro", lang, dept=dept_name, month=month, revision=report["revision"], n=n)
    problems = [str(f.get("problem") or "") for f in (report.get("findings") or [])[:TOP_DRIVERS]]
    open_text, footer, c = t("notify.report.open", lang), t("notify.report.footer", lang), _colon(lang)
    more = t("notify.report.more", lang, n=n - len(problems)) if n > len(problems) else ""
    md = [f"**{subject}**", intro, *(f"- {p}" for p in problems), *([more] if more else []),
          f"[{open_text}]({link})", "", f"_{footer}_"]
    text = [subject, intro, *(f"· {p}" for p in problems), *([more] if more else []), f"{open_text}{c}{link}", "",
            footer]
    items = "".join(f'<li style="margin:4px 0">{H.escape(p)}</li>' for p in problems)
    page = (f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
            f'<title>{H.escape(subject)}</title></head>'
            f'<body style="font-family:\'Noto Sans CJK SC\',\'Microsoft YaHei\',Arial,sans-serif;color:#222;'
            f'max-width:720px;margin:0 auto;padding:16px">'
            f'<h1 style="font-size:20px;margin:0 0 8px">{H.escape(subject)}</h1>'
            f'<p style="margin:0 0 8px">{H.escape(intro)}</p>'
            f'<p style="margin:0 0 8px">{H.escape(t("notify.report.attached", lang))}</p>'
            + (f'<ul style="font-size:14px">{items}</ul>' if items else "")
            + (f'<p style="margin:0 0 8px;font-size:14px">{H.escape(more)}</p>' if more else "")
            + f'<p style="margin:12px 0 4px"><a href="{H.escape(link)}" style="background:#1565c0;color:#fff;'
            f'padding:6px 14px;border-radius:4px;text-decoration:none">{H.escape(open_text)}</a></p>'
            f'<p style="margin:8px 0 0;font-size:12px;color:#666">{H.escape(link)}</p>'
            f'<p style="color:#777;font-size:12px;margin-top:24px">{H.escape(footer)}</p></body></html>')
    return {"subject": subject, "text": "\n".join(text), "markdown": "\n".join(md), "html": page}


def report_deliveries_list(rows: Sequence[Mapping[str, Any]], lang: str) -> html.Div:
    """Who a report was sent to, how, and whether it reached them (newest first)."""
    if not rows:
        items: list[Any] = [html.Li(t("notify.report.sent_none", lang))]
    else:
        items = []
        for r in rows:
            when = f"{r['sent_at'] or r['updated_at']:%Y-%m-%d %H:%M}"
            extra = ""
            if r["status"] in ("retrying", "queued") and r.get("next_attempt_at"):
                extra = " · " + t("notify.next_try", lang, at=f"{r['next_attempt_at']:%Y-%m-%d %H:%M}")
            error = f" · {r['last_error']}" if r.get("last_error") and r["status"] != "sent" else ""
            language = t(f"notify.lang.{r['lang']}", lang) if r.get("lang") in ("zh", "en") else ""
            items.append(html.Li([
                html.Span(t(f"notify.status.{r['status']}", lang), className=f"badge delivery-{r['status']} me-2"),
                f"{r['display_name'] or r['username']} · {t('notify.channel.' + r['channel'], lang)} · {language} · "
                f"{when} · {t('notify.attempts', lang, n=r['attempts'])}{extra}", html.Span(error, className="verbatim")]))
    return html.Div([html.H3(t("notify.report.sent", lang), className="h5"), html.Ul(items, id="report-deliveries")])
