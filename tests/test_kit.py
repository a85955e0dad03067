"""The page kit (pages/_kit.py): a scoped callback is checked once, before its body, and its
errors take the standard way; exports go through one helper. Driven through the cost page,
the kit's first user, as the renderer drives it."""
from __future__ import annotations

import json

from .conftest import texts
from .helpers import post_callback, signed_in, workspace_export

STATE = [{"id": "ws-dept", "property": "value", "value": "D001"},
         {"id": "ws-period", "property": "value", "value": "ytd"},
         {"id": "wc-tol", "property": "value", "value": 10}]


def _composition(dept, period="ytd") -> list[dict]:
    return [{"id": "ws-dept", "property": "value", "value": dept},
            {"id": "ws-period", "property": "value", "value": period}]


def test_a_department_outside_the_scope_is_refused_before_the_body_and_audited(server) -> None:
    client = signed_in(server, "dir1", "en")
    assert post_callback(server, client, "wc-composition.children", _composition("D001"))[0] == 200
    assert post_callback(server, client, "wc-composition.children", _composition("D002"))[0] == 403
    entries = server.extensions["hospdash"].appdb.audit_entries(action="forbidden_callback", username="dir1")
    assert any("D002" in (e.get("detail") or "") for e in entries)


def test_a_role_the_callback_does_not_serve_is_refused(server) -> None:
    client = signed_in(server, "admin1", "en")
    assert post_callback(server, client, "wc-composition.children", _composition("D001"))[0] == 403


def test_a_bad_period_becomes_the_standard_banner_not_a_traceback(server) -> None:
    client = signed_in(server, "asst1", "zh")
    status, body = post_callback(server, client, "wc-composition.children", _composition("D001", "1999-13"), raw=True)
    answer = json.loads(body)
    assert status == 200 and "wc-composition" not in answer.get("response", {})  # the body never ran
    banner = answer["sideUpdate"]["app-error"]
    assert banner["hidden"] is False and "筛选" in texts(banner["children"])
    assert "Traceback" not in body.decode()


def test_the_answer_is_cached_per_scope_and_language(server) -> None:
    zh, en = signed_in(server, "asst1", "zh"), signed_in(server, "asst1", "en")
    first = post_callback(server, zh, "wc-composition.children", _composition("D001"))[1]
    again = post_callback(server, zh, "wc-composition.children", _composition("D001"))[1]
    english = post_callback(server, en, "wc-composition.children", _composition("D001"))[1]
    assert first["wc-composition.children"] == again["wc-composition.children"]
    assert "人员经费" in json.dumps(first["wc-composition.children"], ensure_ascii=False)
    assert "Personnel" in json.dumps(english["wc-composition.children"])


def test_the_export_helper_refuses_a_table_or_format_the_page_does_not_offer(server) -> None:
    client = signed_in(server, "asst1", "en")
    assert workspace_export(server, client, "costs", "composition", "xlsx", STATE)[0] == 200
    status, df, _ = workspace_export(server, client, "costs", "secrets", "csv", STATE)
    assert status == 200 and df is None  # refused with the banner, nothing sent
    status, df, _ = workspace_export(server, client, "costs", "composition", "pdf", STATE)
    assert status == 200 and df is None
    forged = [dict(STATE[0], value="D004"), *STATE[1:]]
    assert workspace_export(server, client, "costs", "composition", "csv", forged)[0] == 403


def test_every_server_callback_of_a_page_goes_through_the_kit(server) -> None:
    """No page callback checks access by hand: each one a page module registers is a kit callback
    (the role, the department, the period are checked once, before the body)."""
    signed_in(server, "lead1", "en")  # the first request hands the pages' callbacks to the app
    by_hand = []
    for key, spec in server.extensions["dash"].callback_map.items():
        fn = spec.get("callback")
        module = getattr(fn, "__module__", "") or ""
        if module.startswith("pages.") and not getattr(fn, "kit", False):
            by_hand.append(f"{module}: {key}")
    assert by_hand == []


def test_no_page_imports_the_old_guard() -> None:
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "pages"
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "shell.access":
                found += [f"{path.relative_to(root)}: {a.name}" for a in node.names if a.name == "secured"]
    assert found == []
