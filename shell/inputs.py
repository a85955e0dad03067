"""The boundary of every callback request: before Dash runs a callback, the request must name a
server callback, carry its inputs and states in the declared shape, and every value must fit
the type and range declared for its component property. Anything else is answered 400 with a
plain message (a renderer never sends it), so a callback body never meets a value of the wrong
type and a malformed request never reaches Dash's dispatcher.

Declarations: `PROPERTY_RULES` covers a property wherever it appears (n_clicks is a count, a
date is a short text); a page declares its own components in `register_page(..., inputs={...})`,
keyed "component-id.property" (for a pattern id, its "type": "al-open.n_clicks"), and a page id
key "component-id#index" declares the wildcard part of a pattern id. Every value, declared or
not, also passes `sane`: bounded text without control characters, finite numbers, bounded
lists and dictionaries."""
from __future__ import annotations

import functools
import json
import logging
import math
from collections.abc import Mapping
from typing import Annotated, Any

import dash
from flask import Flask, Response, abort, jsonify, request
from pydantic import Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12
from werkzeug.exceptions import NotFound

from components.i18n import t
from data_layer.inputs import has_unprintable

log = logging.getLogger("hospdash")

INT32 = 2**31 - 1  # the largest id or count a database integer column holds
MAX_TEXT = 20_000  # characters in any one text value (the longest note a page keeps is shorter)
MAX_ITEMS = 10_000  # items in one list or dictionary
MAX_DEPTH = 12
MAX_PATH = 2048  # characters in a request path
_NUMBER_LIMIT = 2.0**53  # beyond this a browser's number is no longer exact

Count = Annotated[int, Field(ge=0, le=INT32)] | None
RowId = Annotated[int, Field(ge=1, le=INT32)] | None
Code = Annotated[str, Field(max_length=64)] | None
Codes = list[Annotated[str, Field(max_length=64)]] | None
Line = Annotated[str, Field(max_length=200)] | None  # a name, a label, a search word
Text = Annotated[str, Field(max_length=MAX_TEXT)] | None  # a note
Address = Annotated[str, Field(max_length=MAX_PATH)] | None
Pathname = Annotated[str, Field(max_length=MAX_PATH, pattern="^/")] | None
DateText = Annotated[str, Field(max_length=32)] | None
Record = dict[str, Any] | None
Records = list[dict[str, Any]] | None


class _Ref(TypedDict, total=False):
    """A stored record a page keeps in a dcc.Store: its id and the version it was read at."""

    id: Annotated[int, Field(ge=1, le=INT32)]
    version: Annotated[int, Field(ge=0, le=INT32)]


Ref = _Ref | None
_Scalar = str | int | float | bool | None
Choice = _Scalar | list[_Scalar]  # a dropdown, radio or checklist value: one option or several

PROPERTY_RULES: dict[str, Any] = {
    "n_clicks": Count, "n_intervals": Count, "n_submit": Count, "n_blur": Count,
    "pathname": Pathname, "search": Address, "href": Address, "hash": Address,
    "date": DateText, "start_date": DateText, "end_date": DateText, "active_tab": Code,
    "clickData": Record, "hoverData": Record, "cellClicked": Record, "selectedRows": Records, "value": Choice,
}
_ID_PART = Annotated[str, Field(max_length=200)] | Annotated[int, Field(ge=-INT32, le=INT32)]


class BadInput(ValueError):
    """A callback request a renderer would not send; the text says what (for the log only)."""


def sane(value: Any, depth: int = 0) -> None:
    """Refuse what no field should hold: over-long or unprintable text, a number that is not
    finite or beyond 2**53, a list or dictionary too large or too deep."""
    if depth > MAX_DEPTH:
        raise BadInput("nested too deep")
    if isinstance(value, str):
        if len(value) > MAX_TEXT or has_unprintable(value):
            raise BadInput("text too long or with control characters")
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, (int, float)):
        if not (math.isfinite(value) and abs(value) <= _NUMBER_LIMIT):
            raise BadInput("number not finite or too large")
    elif isinstance(value, (list, dict)):
        if len(value) > MAX_ITEMS:
            raise BadInput("too many items")
        for item in (value.items() if isinstance(value, dict) else value):
            sane(item, depth + 1)
    elif isinstance(value, tuple):  # a dictionary's (key, value)
        for item in value:
            sane(item, depth + 1)
    else:
        raise BadInput(f"unexpected {type(value).__name__}")


def _fits(rule: Any, value: Any, what: str) -> None:
    try:
        _adapter(rule).validate_python(value, strict=True)
    except ValidationError:
        raise BadInput(f"{what}: not of its declared type or range") from None


@functools.lru_cache(maxsize=256)
def _adapter(rule: Any) -> TypeAdapter:
    """One adapter per rule, built on first use (building is the slow part)."""
    return TypeAdapter(rule)


def declared_rules() -> dict[str, Any]:
    """The pages' own declarations (`inputs=` in register_page), joined."""
    out: dict[str, Any] = {}
    for page in dash.page_registry.values():
        out.update(page.get("inputs", {}))
    return out


def _parsed_id(raw: Any) -> Any:
    return json.loads(raw) if isinstance(raw, str) and raw.startswith("{") else raw


def _check_item(spec: dict, item: Any, rules: Mapping[str, Any]) -> None:
    """One sent input or state against its spec: the same id (a pattern's wildcards filled with
    short ids), the same property, a value that fits the property's rule."""
    if not isinstance(item, dict) or "id" not in item or item.get("property") != spec["property"]:
        raise BadInput("an input does not match the callback")
    want, got = _parsed_id(spec["id"]), item["id"]
    if isinstance(want, dict):
        if not isinstance(got, dict) or got.keys() != want.keys():
            raise BadInput("a pattern id does not match the callback")
        for k, v in want.items():
            if isinstance(v, list):  # ALL, MATCH or ALLSMALLER: any short id part, or the page's declaration
                _fits(rules.get(f"{want.get('type')}#{k}", _ID_PART), got[k], f"id {k}")
                sane(got[k])
            elif got[k] != v:
                raise BadInput("a pattern id does not match the callback")
        name = want.get("type")
    elif got != want:
        raise BadInput("an input does not match the callback")
    else:
        name = want
    value = item.get("value")
    what = f"{name}.{spec['property']}"
    rule = rules.get(what, PROPERTY_RULES.get(spec["property"]))
    if rule is not None:
        _fits(rule, value, what)
    sane(value)


def _check_group(specs: list[dict], sent: Any, rules: Mapping[str, Any]) -> None:
    if not isinstance(sent, list) or len(sent) != len(specs):
        raise BadInput("inputs or states do not match the callback")
    for spec, item in zip(specs, sent, strict=True):
        pattern = isinstance(_parsed_id(spec["id"]), dict) and any(
            isinstance(v, list) for v in _parsed_id(spec["id"]).values())
        if pattern and isinstance(item, list):
            if len(item) > MAX_ITEMS:
                raise BadInput("too many items")
            for one in item:
                _check_item(spec, one, rules)
        else:
            _check_item(spec, item, rules)


def check_callback_request(body: Any, callback_map: Mapping[str, dict], rules: Mapping[str, Any]) -> None:
    """Raise BadInput unless `body` is a request for a server callback of `callback_map` whose
    inputs and states fit their declarations."""
    if not isinstance(body, dict) or not isinstance(body.get("output"), str):
        raise BadInput("not a callback request")
    cb = callback_map.get(body["output"])
    if cb is None or "callback" not in cb:
        raise BadInput("no server callback has that output")
    outputs = body.get("outputs")
    if not all(isinstance(o, dict) and "id" in o and isinstance(o.get("property"), str)
               for o in (outputs if isinstance(outputs, list) else [outputs])):
        raise BadInput("malformed outputs")
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) and len(c) <= MAX_PATH for c in changed):
        raise BadInput("malformed changedPropIds")
    _check_group(cb["inputs"], body.get("inputs"), rules)
    _check_group(cb.get("state", []), body.get("state", []), rules)


def init_path_guard(server: Flask) -> None:
    """Before anything else: a path with `..` segments, control characters or of absurd length
    is answered 404 (nothing is served from outside the app, and nothing reaches the log as an
    error); so is any path Dash's component suites do not know."""
    from dash.exceptions import DependencyException

    @server.before_request
    def odd_path() -> None:
        path = request.path
        if len(path) > MAX_PATH or has_unprintable(path) or ".." in path.split("/"):
            abort(404)

    @server.errorhandler(DependencyException)
    def unknown_suite_file(_exc: DependencyException) -> Any:
        return NotFound()


def callback_body() -> Any:
    """The callback request's JSON body, or None when it is not JSON. A body nested deeper than
    Python's parser can recurse (a few thousand brackets fit in any body limit) is bad input, not
    a RecursionError: Dash parses the same body again later, so it must be refused here."""
    try:
        return request.get_json(silent=True)
    except RecursionError:
        raise BadInput("nested too deep") from None


def init_callback_guard(server: Flask, app: dash.Dash) -> None:
    """Check every callback request at the boundary (after the login gate and CSRF)."""
    from .auth import request_lang

    @server.before_request
    def callback_boundary() -> Response | None:
        if request.method != "POST" or request.path != f"{app.config.requests_pathname_prefix}_dash-update-component":
            return None
        try:
            check_callback_request(callback_body(), app.callback_map, declared_rules())
        except BadInput as exc:
            log.warning("callback request refused (%s): %s", request.remote_addr, exc)
            resp = jsonify({"error": "bad_input", "message": t("input.refused", request_lang())})
            resp.status_code = 400
            return resp
        return None
