"""No text of the other language and no identifiers on any page: every registered path is opened
as a role that may open it (the workspace sections with a department, the revenue drill-down at
a medical group, the alerts page with an alert open, the admin page), in Chinese and in English,
and its visible text (the layout as the router sends it, plus the answers of the callbacks the
browser fires on load) is scanned."""
from __future__ import annotations

import json
import re
from typing import Any

import dash
import pytest
from flask import Flask

from .conftest import USERS
from .helpers import post_callback, sign_in_browser, signed_in

USER_OF = {"assistant": "asst1", "director": "dir1", "leader": "lead1", "admin": "admin1"}
# Genuine abbreviations and units a Chinese page may show (Latin words beyond these are leaks).
ALLOWED_LATIN = {"DRG", "DIP", "CMI", "RW", "CT", "MRI", "ICU", "DSA", "DR", "X", "PET", "CSV", "Excel", "YYYY", "MM",
                 "DD", "DDDs", "NPV", "IRR", "A4", "PDF", "CSRF", "n", "p", "z", "Pearson", "Newcombe", "Wilson", "Welch"}
C_ARM = re.compile(r"C形臂")  # a C-arm is written so in Chinese
DRG_CODE = re.compile(r"\b[A-Z]{2}\d{2}\b")  # a DRG group's code (BR23) is shown beside its name on purpose
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
HAN = re.compile(r"[\u4e00-\u9fff]")
IDENTIFIER = re.compile(r"\b(?:D\d{3}|DR\d{3,}|G\d{4}|[a-z]+_[a-z_]+|None|nan|NaN|undefined)\b")
TEXT_PROPS = ("children", "placeholder", "label", "title", "start_date_placeholder_text", "end_date_placeholder_text")


def _visible(node: Any, out: list[str]) -> None:
    """The texts a person sees in a component tree or a callback answer (JSON form)."""
    if isinstance(node, str):
        out.append(node)
    elif isinstance(node, (list, tuple)):
        for n in node:
            _visible(n, out)
    elif isinstance(node, dict):
        if "props" in node and "type" in node:
            props = node["props"]
            if {"d-none", "verbatim"} & set(str(props.get("className") or "").split()):
                return  # hidden, or recorded text shown as written (user names, audit details)
            for key in TEXT_PROPS:
                _visible(props.get(key), out)
            for opt in props.get("options") or []:
                _visible(opt.get("label") if isinstance(opt, dict) else opt, out)
            _visible(props.get("columnDefs"), out) if props.get("columnDefs") else None
            for col in props.get("columns") or []:
                _visible(col.get("name") if isinstance(col, dict) else None, out)
            if isinstance(props.get("figure"), dict):
                _figure(props["figure"], out)
        elif "headerName" in node:
            _visible(node["headerName"], out)
            _visible(node.get("children"), out)
        elif "data" in node and "layout" in node:
            _figure(node, out)


def _figure(fig: dict, out: list[str]) -> None:
    layout = fig.get("layout") or {}
    for key, value in layout.items():
        if isinstance(value, dict) and (key.startswith(("xaxis", "yaxis")) or key == "title"):
            title = value.get("title", value) if key != "title" else value
            if isinstance(title, dict) and isinstance(title.get("text"), str):
                out.append(title["text"])
            for tick in value.get("ticktext") or []:
                out.append(str(tick))
    for ann in layout.get("annotations") or []:
        if isinstance(ann.get("text"), str):
            out.append(ann["text"])
    for trace in fig.get("data") or []:
        if isinstance(trace.get("name"), str) and trace.get("showlegend", True) is not False:
            out.append(trace["name"])


def _components(node: Any, found: dict[str, dict]) -> None:
    if isinstance(node, (list, tuple)):
        for n in node:
            _components(n, found)
    elif isinstance(node, dict) and "props" in node:
        props = node["props"]
        if isinstance(props.get("id"), str):
            found[props["id"]] = props
        _components(props.get("children"), found)


def _open(server: Flask, client, path: str, search: str = "") -> tuple[Any, list[Any]]:
    """The layout the router sends for `path`, and the answers of the callbacks the browser
    fires on load (no prevent_initial_call, every input on the page, no pattern ids)."""
    status, out = post_callback(server, client, "_pages_content.children",
                                [{"id": "_pages_location", "property": "pathname", "value": path},
                                 {"id": "_pages_location", "property": "search", "value": search}])
    assert status == 200, path
    layout = out["_pages_content.children"]
    found: dict[str, dict] = {}
    _components(layout, found)
    answers = []
    for dep in client.get("/_dash-dependencies").get_json():
        ids = [i["id"] for i in dep["inputs"]]
        if dep.get("clientside_function") or dep.get("prevent_initial_call") or not ids or \
                any(not isinstance(i, str) or i.startswith("{") or i not in found for i in ids) or \
                dep["output"].startswith("_pages") or "{" in dep["output"]:
            continue
        def value(spec: dict) -> dict:
            return {"id": spec["id"], "property": spec["property"], "value": found.get(spec["id"], {}).get(
                spec["property"])}
        first = dep["output"].strip(".").split("...")[0].split("@")[0]
        status, got = post_callback(server, client, first, [value(i) for i in dep["inputs"]],
                                    [value(s) for s in dep["state"]])
        assert status in (200, 204), f"{path}: {dep['output']} answered {status}"
        answers.append(got)
    return layout, answers


def _leaks(texts: list[str], lang: str, people: set[str] = frozenset()) -> list[str]:
    bad = []
    for text in texts:
        text = str(text)
        for username in USERS:  # login names are recorded data, Latin by nature (the admin's user picker)
            text = re.sub(rf"\b{username}\b", " ", text)
        for person in people:  # a doctor's name is a proper name: the warehouse has one form of it
            text = text.replace(person, " ")
        if IDENTIFIER.search(text):
            bad.append(f"identifier: {text!r}")
        if lang == "en" and HAN.search(text):
            bad.append(f"Chinese: {text!r}")
        if lang == "zh":
            words = [w for w in LATIN_WORD.findall(DRG_CODE.sub(" ", C_ARM.sub(" ", text))) if w not in ALLOWED_LATIN]
            if words:
                bad.append(f"Latin {words}: {text!r}")
    return bad


def _addresses(group: str) -> list[tuple[str, str, str]]:
    """(user, path, query) for every registered page, plus the revenue drill-down at `group`."""
    pages = [("asst1", "/workspace/revenue", f"?dept=D001&by=group&group={group}")]
    for page in dash.page_registry.values():
        roles = page.get("allowed_roles", tuple(USER_OF))
        user = next(USER_OF[r] for r in USER_OF if r in roles)
        query = "?dept=D001" if page["path"].startswith("/workspace") or page["path"] == "/department" else ""
        pages.append((user, page["path"], query))
    return pages


@pytest.fixture
def scanned(server: Flask):
    """The app with the assistant's alerts scanned (so the alerts page has an alert to open)."""
    client = signed_in(server, "asst1")
    status, _ = post_callback(server, client, "al-scan-msg.children", [{"id": "al-scan", "property": "n_clicks",
                                                                        "value": 1}],
                              [{"id": "al-refresh", "property": "data", "value": 0}])
    assert status == 200
    return server


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_page_shows_the_other_language_or_an_identifier(scanned: Flask, demo_data, lang: str) -> None:
    server = scanned
    groups = demo_data.tables["dim_medical_group"]
    group = str(groups.loc[groups["dept_id"] == "D001", "group_id"].iloc[0])
    people = set(demo_data.tables["dim_doctor"]["name"])
    leaks: dict[str, list[str]] = {}
    clients: dict[str, Any] = {}
    client = signed_in(server, "asst1", lang)
    alert = server.extensions["hospdash"].appdb  # the alerts page with an alert open, as a click opens it
    from appdb.alerts import list_alerts
    from data_layer.scope import Scope

    first = int(list_alerts(alert, Scope.departments(["D001", "D002", "D003"]))["id"].iloc[0])
    status, out = post_callback(server, client, "al-detail.children",
                                [{"id": "al-selected", "property": "data", "value": first}])
    assert status == 200
    texts: list[str] = []
    _visible(out["al-detail.children"], texts)
    if found := _leaks(texts, lang):
        leaks["/alerts (an alert open)"] = sorted(set(found))
    for user, path, query in _addresses(group):
        client = clients.setdefault(user, signed_in(server, user, lang))
        layout, answers = _open(server, client, path, query)
        texts: list[str] = []
        _visible(layout, texts)
        for answer in answers:
            for key, value in answer.items():
                if key.rsplit(".", 1)[-1] in (*TEXT_PROPS, "options", "figure", "columns", "columnDefs"):
                    _visible(value, texts)
        if found := _leaks(texts, lang, people):
            leaks[f"{path}{query}"] = sorted(set(found))
    assert not leaks, json.dumps(leaks, ensure_ascii=False, indent=1)


SI_TICK = re.compile(r"^[\u2212-]?[\d.,]+[kMBGT]$")
BIG_PLAIN = re.compile(r"^[\u2212-]?(\d{2,3}(,\d{3})+|\d{1,3}(,\d{3}){2,}|\d{5,})$")  # 10,000 and more


def _ticks(duo) -> list[str]:
    return duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('.xaxislayer-above text, .yaxislayer-above text'))"
        ".map(e => e.textContent.trim())")


@pytest.mark.browser
def test_chinese_axes_count_in_wan_and_english_ones_keep_k(dash_duo, server: Flask) -> None:
    """On a Chinese page no axis says 10k or 25,000 (it says 1万, 2.5万); an English page keeps
    Plotly's k/M. The labels are read from the drawn figures in headless Chromium."""
    from .helpers import serve

    serve(dash_duo, server)
    duo = dash_duo
    duo.driver.get(duo.server.url + "/login")
    duo.driver.add_cookie({"name": "lang", "value": "zh"})
    sign_in_browser(duo, "lead1")
    duo.wait_for_element("#app-navbar", timeout=20)
    convert = "return window.hospdashNumberLocale.toZh(arguments[0])"
    assert duo.driver.execute_script(convert, ["0", "5k", "10k", "15k"]) == ["0", "0.5万", "1万", "1.5万"]
    assert duo.driver.execute_script(convert, ["0", "100M", "200M"]) == ["0", "1亿", "2亿"]
    assert duo.driver.execute_script(convert, ["\u221220,000", "0", "20,000"]) == ["\u22122万", "0", "2万"]
    assert duo.driver.execute_script(convert, ["26/01", "12%", "0.5"]) == [None, None, "0.5"]
    for path in ("/wall/campus", "/profit"):
        duo.driver.get(duo.server.url + path)
        duo.wait_for_element(".yaxislayer-above text", timeout=30)
        duo.wait_for_no_elements("[data-dash-is-loading]", timeout=30)
        duo.driver.execute_async_script("requestAnimationFrame(() => requestAnimationFrame(arguments[0]))")
        ticks = _ticks(duo)
        assert ticks and not [x for x in ticks if SI_TICK.match(x) or BIG_PLAIN.match(x)], (path, ticks)
    duo.driver.add_cookie({"name": "lang", "value": "en"})
    duo.driver.get(duo.server.url + "/wall/campus")
    duo.wait_for_element(".yaxislayer-above text", timeout=30)
    assert not [x for x in _ticks(duo) if HAN.search(x)]
