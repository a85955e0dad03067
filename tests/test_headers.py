"""Every response carries the Content-Security-Policy (HTML, JSON and assets), whose script
hashes cover the page's inline scripts; a request body over the limit gets 413 with a plain
message and no traceback, while the largest legitimate callback body is served."""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import re

import pytest

from appdb.reports import FIELDS, MAX_FINDINGS, MAX_TEXT
from shell.settings import load_settings

from .conftest import STRONG_KEY
from .helpers import post_callback, signed_in

BIG = 50 * 1024 * 1024


def _directives(resp) -> dict[str, list[str]]:
    policy = resp.headers.get("Content-Security-Policy")
    assert policy, f"no Content-Security-Policy on {resp.request.path}"
    return {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}


def test_every_kind_of_response_carries_the_policy(server) -> None:
    anonymous = server.test_client()
    client = signed_in(server, "lead1")
    responses = [anonymous.get("/login"), anonymous.get("/healthz"), anonymous.get("/assets/style.css"),
                 anonymous.get("/vendor/bootstrap.min.css"), anonymous.get("/wall/campus"),  # a redirect to /login
                 client.get("/wall/campus"), client.get("/_dash-layout"), client.get("/_dash-dependencies"),
                 client.get("/no/such/page")]
    for resp in responses:
        d = _directives(resp)
        assert d["object-src"] == ["'none'"] and d["frame-ancestors"] == ["'self'"]
        assert d["base-uri"] == ["'self'"] and d["form-action"] == ["'self'"] and d["default-src"] == ["'self'"]
        assert "'unsafe-inline'" not in d["script-src"] and "'unsafe-eval'" not in d["script-src"]


def test_the_policy_allows_exactly_the_pages_inline_scripts(server) -> None:
    client = signed_in(server, "asst1")
    resp = client.get("/workspace/reports")
    html = re.sub(r"<!--.*?-->", "", resp.get_data(as_text=True), flags=re.S)  # Dash's IE notice is a comment
    inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>(.*?)</script>", html, re.S)
    assert inline, "the Dash index has inline scripts (the renderer bootstrap at least)"
    wanted = {"'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'" for s in inline}
    assert wanted <= set(_directives(resp)["script-src"])


def test_a_50_mb_callback_is_refused_with_413_and_a_plain_message(server, caplog: pytest.LogCaptureFixture) -> None:
    client = signed_in(server, "asst1", lang="zh")
    caplog.set_level(logging.INFO)
    resp = client.post("/_dash-update-component", data=b"[" * BIG,
                       headers={"Content-Type": "application/json",
                                "X-CSRFToken": client.get_cookie("_csrf_token").value})
    assert resp.status_code == 413
    assert resp.get_json()["message"] == "请求内容过大（上限 4 MB），未予处理。"
    assert "Traceback" not in caplog.text


def test_a_50_mb_login_post_is_refused_with_413(server, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    resp = server.test_client().post("/login", data=b"username=" + b"x" * BIG,
                                     headers={"Content-Type": "application/x-www-form-urlencoded",
                                              "Accept": "text/html", "Accept-Language": "en"})
    assert resp.status_code == 413 and resp.mimetype == "text/html"
    assert "The request was too large (the limit is 4 MB)" in resp.get_data(as_text=True)
    assert "Traceback" not in caplog.text


def test_the_largest_report_a_user_may_save_is_saved(server) -> None:
    """30 findings with every text at its longest, in Chinese (3 bytes a character): the largest
    callback body a page legitimately sends is below the limit and saved."""
    client = signed_in(server, "asst1")
    status, out = post_callback(server, client, "report-status.children",
                                [{"id": "report-generate", "property": "n_clicks", "value": 1}],
                                [{"id": "ws-dept", "property": "value", "value": "D003"},
                                 {"id": "report-month", "property": "value", "value": "2026-10-01"},
                                 {"id": "ws-period", "property": "value", "value": "ytd"}])
    rid = int(out["_pages_location.search"].split("report=")[1])
    rows = [{k: "医" * MAX_TEXT for k in FIELDS} for _ in range(MAX_FINDINGS)]
    status, out = post_callback(server, client, "report-status.children",
                                [{"id": "report-save", "property": "n_clicks", "value": 1}],
                                [{"id": "report-findings", "property": "rowData", "value": rows},
                                 {"id": "report-meta", "property": "data", "value": {"id": rid, "version": 1}}])
    assert len(json.dumps(rows, ensure_ascii=False).encode()) > 500_000
    assert status == 200 and out["report-meta.data"]["version"] == 2


def test_the_body_limit_is_a_setting(tmp_path) -> None:
    env = {"DATA_DIR": str(tmp_path), "SECRET_KEY": STRONG_KEY}
    assert load_settings(env, env_file=None).max_request_mb == 4
    assert load_settings({**env, "MAX_REQUEST_MB": "16"}, env_file=None).max_request_mb == 16


def test_a_deeply_nested_callback_body_is_refused_with_400_not_a_500(server, caplog: pytest.LogCaptureFixture) -> None:
    """100,000 nested arrays fit in the body limit, but parsing them recursively would overflow
    Python's stack: refused at the boundary as bad input."""
    client = signed_in(server, "asst1", lang="en")
    caplog.set_level(logging.INFO)
    for body in (b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000):
        resp = client.post("/_dash-update-component", data=body,
                           headers={"Content-Type": "application/json",
                                    "X-CSRFToken": client.get_cookie("_csrf_token").value})
        assert resp.status_code == 400, resp.status_code
        assert resp.get_json()["error"] == "bad_input"
    assert "Traceback" not in caplog.text and "RecursionError" not in caplog.text


def test_a_chunked_body_over_the_limit_is_refused_with_413(server, caplog: pytest.LogCaptureFixture) -> None:
    """A body sent without a length (chunked: the server only learns its size by reading it) is
    counted as it is read: over the limit, 413 with the plain message, as for a declared length."""
    client = signed_in(server, "asst1", lang="zh")
    caplog.set_level(logging.INFO)
    resp = client.post("/_dash-update-component", data=b"[" + b" " * BIG + b"]",
                       headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked",
                                "X-CSRFToken": client.get_cookie("_csrf_token").value},
                       environ_overrides={"CONTENT_LENGTH": "", "wsgi.input_terminated": True})
    assert resp.status_code == 413, resp.status_code
    assert resp.get_json()["message"] == "请求内容过大（上限 4 MB），未予处理。"
    assert "Traceback" not in caplog.text
