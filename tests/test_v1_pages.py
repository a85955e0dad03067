"""Every page over a contract version 1 warehouse (no DIP, no appraisal flags, no reference
values), for every role that may open it and in both languages: it opens, its first callbacks
answer, and no answer is the unexpected-error message. What needs version 2 says it is not
available (the pages' own tests check each message); nothing fails."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dash
import pytest
from flask import Flask

from .conftest import PASSWORD, STRONG_KEY, USERS
from .helpers import signed_in
from .test_language import USER_OF, _open, _visible

ERRORS = ("错误编号", "error id", "Traceback", "unexpected error")


@pytest.fixture
def v1_server(v1_url: str, tmp_path: Path) -> Iterator[Flask]:
    from app import create_app

    env = {"WAREHOUSE_URL": v1_url, "SECRET_KEY": STRONG_KEY, "DATA_DIR": str(tmp_path / "data"),
           "APP_DB_URL": f"sqlite:///{tmp_path / 'app.sqlite'}"}
    srv = create_app(env)
    db = srv.extensions["hospdash"].appdb
    for name, (role, kind, ids) in USERS.items():
        db.create_user(name, name, PASSWORD, role, kind, ids)
    yield srv
    srv.extensions["hospdash"].warehouse.engine.dispose()  # test_contract_v2 opens the file read-write


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_opens_on_a_version_1_warehouse(v1_server: Flask, lang: str) -> None:
    failures: dict[str, list[str]] = {}
    clients: dict[str, object] = {}
    for page in dash.page_registry.values():
        if page["path"] in ("/404",):
            continue
        roles = page.get("allowed_roles", tuple(USER_OF))
        user = next(USER_OF[r] for r in USER_OF if r in roles)
        query = "?dept=D001" if page["path"].startswith("/workspace") or page["path"] == "/department" else ""
        client = clients.setdefault(user, signed_in(v1_server, user, lang))
        layout, answers = _open(v1_server, client, page["path"], query)
        texts: list[str] = []
        _visible(layout, texts)
        for answer in answers:
            for value in answer.values():
                _visible(value, texts)
        bad = [t for t in texts if any(e.lower() in t.lower() for e in ERRORS)]
        if bad:
            failures[page["path"]] = bad[:3]
    assert not failures, failures
