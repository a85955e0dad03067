"""Calling a Dash callback as the browser's renderer does, through the Flask app: shared by the
benchmarks and the tests."""
from __future__ import annotations

import json
from typing import Any

from flask import Flask


def _id_text(i: Any) -> str:
    return json.dumps(i, sort_keys=True, separators=(",", ":")) if isinstance(i, dict) else str(i)


def _matches(spec: dict, wanted: dict) -> bool:
    """A callback's input spec (id may be a pattern with ALL) against a concrete input."""
    if spec["property"] != wanted["property"]:
        return False
    sid, wid = spec["id"], wanted["id"]
    if isinstance(sid, str) and sid.startswith("{"):
        sid = json.loads(sid)
    if isinstance(sid, dict) and isinstance(wid, dict):
        return sid.keys() == wid.keys() and all(v == wid[k] or isinstance(v, list) for k, v in sid.items())
    return sid == wid


def post_callback(server: Flask, client, first_output: str, inputs: list[dict], state: list[dict] | None = None,
                  raw: bool = False):
    """Post the callback whose outputs include `first_output` (id.property) and whose inputs are
    `inputs`, as the renderer would; returns (status, {id.property: value}), or with raw=True
    (status, the response body as bytes). A pattern input
    (an id with ALL) is given as a concrete id: it is sent as a one-element list."""
    dash_app = server.extensions["dash"]

    def fits(cb: dict) -> bool:
        return len(cb["inputs"]) == len(inputs) and all(_matches(s, w) for s, w in zip(cb["inputs"], inputs,
                                                                                         strict=True))
    key = next(k for k, cb in dash_app.callback_map.items()
               if first_output in [o.split("@")[0] for o in k.strip(".").split("...")] and fits(cb))
    spec = dash_app.callback_map[key]
    parts = key.strip(".").split("...") if key.startswith("..") else [key]
    outputs = [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1]} for p in parts]
    sent = []
    for s, w in zip(spec["inputs"], inputs, strict=True):
        pattern = isinstance(s["id"], str) and s["id"].startswith("{") and any(
            isinstance(v, list) for v in json.loads(s["id"]).values())
        sent.append([w] if pattern else w)
    body = {"output": key, "outputs": outputs if key.startswith("..") else outputs[0], "inputs": sent,
            "state": state or [],
            "changedPropIds": [f"{_id_text(i['id'])}.{i['property']}" for i in inputs if i.get("value") is not None]}
    cookie = client.get_cookie("_csrf_token")
    resp = client.post("/_dash-update-component", data=json.dumps(body),
                       headers={"Content-Type": "application/json", "X-CSRFToken": cookie.value if cookie else ""})
    if raw:
        return resp.status_code, resp.get_data()
    if resp.status_code != 200:
        return resp.status_code, {}
    got = resp.get_json()["response"]
    return 200, {f"{i}.{p.split('@')[0]}": v for i, props in got.items() for p, v in props.items()}
