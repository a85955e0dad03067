"""Address parameters checked once for every page: a bad value never changes the page silently.

Each check returns the value the page uses and, when the address held something else, the note
that says which parameter, what was wrong with it and what is shown instead; pages pass the
notes to the shell (`components.notes.address_notes` draws them above the content). A
department the user may not see, or one that does not exist, is refused with its own reason.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from dash import dcc, html

from components.i18n import t
from components.notes import month_label

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
SHOWN_LIMIT = 40  # characters of a bad value quoted back


def quoted(value: Any) -> str:
    """A bad value as the note quotes it: text only, shortened."""
    text = str(value).replace("\n", " ").strip()
    return text if len(text) <= SHOWN_LIMIT else text[:SHOWN_LIMIT - 1] + "…"


def note(param: str, value: Any, problem: str, shown: str, lang: str, *, unused: bool = False) -> str:
    """One note: the address's `param` held `value`, which `problem`; `shown` is what the page shows."""
    return t("addr.note_unused" if unused else "addr.note", lang, label=t(f"addr.label.{param}", lang), param=param,
             value=quoted(value), problem=problem, shown=shown)


def _offered(keys: Sequence[str], lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(t(f"period.{k}", lang) for k in keys)


def check_period(raw: Any, named: Sequence[str], lang: str, *, default: str = "ytd", months: bool = False,
                 first: date | None = None, through: date | None = None) -> tuple[str, str | None]:
    """The period key a page uses for the address's `period`, and the note when it is not the one
    asked for. `named`: the named periods offered (ytd, mtd …); `months`: a month YYYY-MM is
    offered too, when it lies between `first` and `through` (the data's range)."""
    if raw is None or raw == "":
        return default, None
    shown = t(f"period.{default}", lang)
    if isinstance(raw, str) and raw in named:
        return raw, None
    m = MONTH.match(raw) if isinstance(raw, str) and months else None
    if m is None or not 1 <= int(m[2]) <= 12:
        problem = t("addr.bad.period_month" if months else "addr.bad.period", lang, offered=_offered(named, lang))
        return default, note("period", raw, problem, shown, lang)
    if first is not None and through is not None:
        asked = (int(m[1]), int(m[2]))
        if not (first.year, first.month) <= asked <= (through.year, through.month):
            problem = t("addr.bad.period_range", lang, first=month_label(first.year, first.month, lang),
                        last=month_label(through.year, through.month, lang))
            return default, note("period", raw, problem, shown, lang)
    return raw, None


def check_choice(param: str, raw: Any, choices: Mapping[str, str], lang: str, *, default: str | None,
                 shown: str) -> tuple[str | None, str | None]:
    """A value the address picks among `choices` (value -> label in the reader's language);
    `default` and a note saying `shown` for anything else."""
    if raw is None or raw == "":
        return default, None
    if isinstance(raw, str) and raw in choices:
        return raw, None
    offered = ("、" if lang == "zh" else ", ").join(choices.values())
    return default, note(param, raw, t("addr.bad.choice", lang, offered=offered), shown, lang)


def check_record(param: str, raw: Any, found: Callable[[int], bool], lang: str, *,
                 shown: str) -> tuple[int | None, str | None]:
    """A record the address opens by its id (`?alert=12`): the id when it is a whole number from 1 to
    2**31 - 1 and `found(id)` (the record exists in the reader's scope), else None and the note
    saying `shown` (the caller audits a refusal)."""
    if raw is None or raw == "":
        return None, None
    text = raw if isinstance(raw, str) else ""
    if not (text.isascii() and text.isdigit() and 0 < int(text) < 2**31):
        return None, note(param, raw, t(f"addr.bad.{param}_id", lang), shown, lang)
    if not found(int(text)):
        return None, note(param, raw, t(f"addr.bad.{param}_scope", lang), shown, lang)
    return int(text), None


def unused(query: Mapping[str, Any], params: Mapping[str, str], lang: str) -> list[str]:
    """Notes for parameters of the dashboard's addresses that this page does not read (`params`:
    parameter -> what the page shows instead)."""
    return [note(p, query[p], t("addr.bad.unused", lang), shown, lang, unused=True)
            for p, shown in params.items() if query.get(p) not in (None, "")]


def refusal(kind: str, lang: str, *, link: str | None = None, link_label: str = "refuse.my_departments",
            **params: Any) -> html.Main:
    """The panel that replaces a page refused for a reason other than the role: `kind` is
    dept_scope, dept_unknown, dept_not_here, campus_scope or project_scope; `link` leads back. A scope refusal is a "not allowed"
    page like the role's, with its own reason."""
    scope = kind.endswith("_scope")
    title = t("forbidden.title" if scope else f"refuse.{kind}.title", lang)
    parts: list[Any] = [html.H1(title), html.P(t(f"refuse.{kind}.body", lang, **params))]
    if link:
        parts.append(dcc.Link(t(link_label, lang), href=link))
    parts.append(html.Br())
    parts.append(dcc.Link(t("nav.home", lang), href="/"))
    return html.Main(parts, className="container page", id="forbidden" if scope else "refused",
                     **{"data-reason": kind})


def department_refusal(dept: str, allowed: bool, offered: set[str], names: Mapping[str, str], lang: str,
                       link: str) -> html.Main | None:
    """None when `dept` may be shown here; otherwise the panel with the real reason: the department
    does not exist (not in `names`), lies outside the scope (`allowed` is False), or is not one the
    page offers (not in `offered`, e.g. not a clinical department). The caller audits a scope refusal."""
    if dept not in names:
        return refusal("dept_unknown", lang, link=link, dept=quoted(dept))
    if not allowed:
        return refusal("dept_scope", lang, link=link, name=names[dept])
    if dept not in offered:
        return refusal("dept_not_here", lang, link=link, name=names[dept])
    return None


def department_names(lang: str) -> dict[str, str]:
    """Every department of the hospital (id -> name in the reader's language), to name a refused one."""
    from data_layer.queries.structure import departments
    from data_layer.scope import Scope

    from ._common import warehouse

    deps = departments(warehouse(), Scope.hospital())
    return dict(zip(deps["dept_id"], deps["name_zh" if lang == "zh" else "name_en"], strict=True))
