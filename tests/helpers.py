"""Helpers the page tests share: a signed-in client, posting a callback as the renderer does,
decoding figure arrays, and asking a workspace page for an export."""
from __future__ import annotations

import base64
import io
from typing import Any

import pandas as pd
from flask import Flask

from bench.dashclient import post_callback  # noqa: F401 - the tests import it from here

from .conftest import login


def serve(dash_duo, server: Flask) -> None:
    """Start the app for a browser test on a free port, so suites run side by side never collide."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dash_duo.start_server(server.extensions["dash"], navigate=False, port=port)


def signed_in(server: Flask, username: str, lang: str = "en"):
    """A test client signed in as `username`, reading `lang`, with the CSRF cookie set."""
    client = server.test_client()
    assert login(client, username).status_code == 302
    client.set_cookie("lang", lang)
    client.get("/")  # sets the CSRF cookie the renderer uses
    return client


def decode_array(v: Any) -> list:
    """A figure's array as the browser gets it: a list, or Plotly's typed array (dtype + base64)."""
    if isinstance(v, dict) and "bdata" in v:
        import numpy as np

        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"])).tolist()
    return list(v)


def workspace_export(server: Flask, client, page: str, table: str, fmt: str, state: list[dict]):
    """Click a workspace export button; returns (status, DataFrame or None, file name)."""
    status, out = post_callback(server, client, "ws-download.data",
                                [{"id": {"type": "ws-export", "page": page, "table": table, "fmt": fmt},
                                  "property": "n_clicks", "value": 1}], state)
    if status != 200:
        return status, None, None
    data = out.get("ws-download.data")
    if not data:
        return status, None, None
    raw = base64.b64decode(data["content"])
    if fmt == "csv":
        assert raw.startswith(b"\xef\xbb\xbf"), "a CSV for Excel starts with the UTF-8 byte-order mark"
        return status, pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig"), data["filename"]
    return status, read_table_workbook(raw), data["filename"]


def find(tree: Any, component_id: str | None = None, kind: str | None = None) -> Any:
    """The first component, in document order, with this id and/or of this type (e.g. "AgGrid"),
    in a layout of Dash components or in a callback's answer (their JSON form); None if absent."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (list, tuple)):
            stack.extend(reversed(node))
        elif isinstance(node, dict):
            if "props" in node and "type" in node:  # a component as JSON
                props = node["props"]
                if (component_id is None or props.get("id") == component_id) and kind in (None, node["type"]):
                    return node
                stack.extend(reversed(list(props.values())))
            else:  # a callback's answer keyed by output
                stack.extend(reversed(list(node.values())))
        elif hasattr(node, "_prop_names"):  # a Dash component (a plotly Figure is not searched)
            if (component_id is None or getattr(node, "id", None) == component_id) \
                    and kind in (None, type(node).__name__):
                return node
            stack.extend(reversed([getattr(node, p, None) for p in node._prop_names]))
    return None


def grid_props(tree: Any, grid_id: str | None = None) -> dict:
    """The props of the AG Grid `grid_id` (or the first one) in a callback's answer."""
    node = find(tree, grid_id, "AgGrid")
    assert node is not None, f"no grid {grid_id or ''} in the answer"
    return node["props"] if isinstance(node, dict) else node.to_plotly_json()["props"]


def sign_in_browser(duo, username: str, password: str | None = None) -> None:
    """Sign in through the form as a user does, and wait until the form has gone."""
    from .conftest import PASSWORD

    duo.driver.get(duo.server.url + "/login")
    duo.wait_for_element("#login-form", timeout=10)
    duo.find_element("#username").send_keys(username)
    duo.find_element("#password").send_keys(PASSWORD if password is None else password)
    duo.find_element("#login-submit").click()
    duo.wait_for_no_elements("#login-form", timeout=20)


def click(duo, target, timeout: float = 10) -> None:
    """Click as a user does: scroll the target to the middle at once (the pages scroll smoothly,
    and a click during the glide lands on whatever passes under the pointer), wait until nothing
    covers its centre (a chart drawing above can still push it down), then click it."""
    import time

    el = duo.find_element(target) if isinstance(target, str) else target
    on_top = """
        const el = arguments[0];
        el.scrollIntoView({block: 'center', inline: 'nearest', behavior: 'instant'});
        const r = el.getBoundingClientRect();
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        return hit !== null && (hit === el || el.contains(hit));"""
    end = time.monotonic() + timeout
    while not duo.driver.execute_script(on_top, el):
        if time.monotonic() > end:
            raise AssertionError(f"{target!r} stayed covered for {timeout} s")
        time.sleep(0.2)
    el.click()


def read_table_workbook(raw: bytes, sheet: str | None = None) -> pd.DataFrame:
    """A table of an exported workbook (its first sheet, or `sheet`) as a DataFrame: the header
    row is the row above the frozen pane (the heading block above it is skipped)."""
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(raw))
    ws = book[sheet] if sheet is not None else book.worksheets[0]
    header = (ws.freeze_panes and ws[ws.freeze_panes].row - 1) or 1
    return pd.read_excel(io.BytesIO(raw), sheet_name=ws.title, header=header - 1)
