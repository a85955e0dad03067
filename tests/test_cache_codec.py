"""The shared Redis cache holds tagged JSON, never pickles: a planted pickle that would run
code is a miss and runs nothing; every kind of value the app caches comes back exactly
(dtypes, index, dates, None/NaN), checked against the real Redis at 127.0.0.1:6379."""
from __future__ import annotations

import json
import os
import pickle
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from dash import dcc, html, no_update
from plotly.io.json import to_json_plotly

from data_layer.cache_codec import PREFIX, Codec, Sent
from data_layer.periods import parse_period
from data_layer.queries.kpis import indicator_values
from data_layer.scope import Scope
from data_layer.warehouse import Freshness, Warehouse, make_cache
from shell.cache_values import dash_values

from .conftest import THROUGH, server_unavailable

URL = "redis://127.0.0.1:6379/14"
APP_URL = "redis://127.0.0.1:6379/13"  # the app-level test's own database


@pytest.fixture
def redis_cache():
    cache = make_cache(URL, dash_values())
    try:
        cache.clear()
    except Exception as exc:
        server_unavailable("Redis at 127.0.0.1:6379", exc)
    yield cache
    cache.clear()


class _RunsCode:
    """A pickle payload: unpickling it calls os.system."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_a_planted_pickle_is_a_miss_and_runs_nothing(redis_cache, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_RunsCode(marker))
    client = redis_cache._write_client
    for raw in (b"!" + payload, payload):  # cachelib's own pickle format, and a bare pickle
        client.set("hospdash:q:planted", raw)
        assert redis_cache.get("q:planted") is None
    assert not marker.exists(), "reading the cache ran code"


def test_what_redis_holds_is_json_not_a_pickle(redis_cache) -> None:
    redis_cache.set("q:x", pd.DataFrame({"a": [1, 2]}))
    raw = redis_cache._read_client.get("hospdash:q:x")
    assert raw.startswith(PREFIX + b"{") and b"\x80" not in raw  # pickle protocol 2+ starts with 0x80


def test_a_query_result_comes_back_equal_from_redis(redis_cache, duck_url: str) -> None:
    period = parse_period("2025", THROUGH)
    first = indicator_values(Warehouse(duck_url, redis_cache), Scope.hospital(), ("alos", "cmi"), period)
    second = Warehouse(duck_url, make_cache(URL, dash_values()))
    second.frame = None  # type: ignore[assignment]  # the answer must come from Redis
    again = indicator_values(second, Scope.hospital(), ("alos", "cmi"), period)
    pd.testing.assert_frame_equal(again, first, check_exact=True)
    assert list(again.dtypes) == list(first.dtypes)


def _said_beside(wh: Warehouse) -> dict[str, Callable[[], pd.DataFrame]]:
    """Queries whose frames carry attrs the pages read (a cost window, DIP totals, a budget's time
    progress): each called as its page calls it (the DIP packet's cases after the packet table)."""
    from data_layer.queries.budget import budget_lines
    from data_layer.queries.department import cost_breakdown
    from data_layer.queries.dip import packet_cases, packet_table, sensitivity
    from data_layer.queries.monitor import cost_composition

    year = parse_period("2026", THROUGH)
    mine = Scope.departments(["D001", "D002", "D003"])
    return {"cost_breakdown": lambda: cost_breakdown(wh, mine, "D002", year),
            "sensitivity": lambda: sensitivity(wh, Scope.hospital(), year),
            "packet_cases": lambda: packet_cases(wh, Scope.hospital(), year,
                                                 str(packet_table(wh, Scope.hospital(), year)["dip_code"].iloc[0])),
            "budget_lines": lambda: budget_lines(wh, mine, year, "D001"),
            "cost_composition": lambda: cost_composition(wh, mine, "D001", year)}


@pytest.mark.parametrize("query", ["cost_breakdown", "sensitivity", "packet_cases", "budget_lines", "cost_composition"])
def test_what_a_query_says_beside_its_rows_comes_back_from_redis(redis_cache, duck_url: str, query: str) -> None:
    """A frame's attrs were dropped on the way through Redis: the first viewer saw the department's
    costs and the DIP sensitivity, everyone after them "no cost data" and a failed part."""
    writer, reader = Warehouse(duck_url, redis_cache), Warehouse(duck_url, make_cache(URL, dash_values()))
    # both key their entries by one stamp (re-reading it could meet a slow moment past FRESHNESS_TTL)
    fresh = writer.freshness()
    writer.freshness = reader.freshness = lambda: fresh  # type: ignore[method-assign]
    first = _said_beside(writer)[query]()
    assert first.attrs, "the query says nothing beside its rows: the test would prove nothing"
    reader.frame = None  # type: ignore[assignment]  # the reader runs no statement: what it gets is Redis's
    stored = list(redis_cache._read_client.scan_iter(match="hospdash:q:*"))
    try:
        again = _said_beside(reader)[query]()
    except TypeError as exc:  # a miss: the reader tried to run a statement
        raise AssertionError(f"{query} was not read back from Redis ({len(stored)} entries there)") from exc
    pd.testing.assert_frame_equal(again, first, check_exact=True)
    assert repr(again.attrs) == repr(first.attrs)


def _frames() -> dict[str, pd.DataFrame]:
    days = pd.to_datetime(["2026-01-01", None, "2026-01-03"])
    return {
        "mixed": pd.DataFrame({
            "dept": ["D001", None, "D003"],
            "n": np.array([1, 2, 3], dtype="int64"),
            "small": np.array([1, 2, 3], dtype="int32"),
            "value": [1.5, np.nan, -0.0],
            "ok": [True, False, True],
            "day": [date(2026, 1, 1), None, date(2026, 1, 3)],
            "at": days,
            "at_us": days.as_unit("us"),
            "tz": days.tz_localize("Asia/Shanghai"),
            "count": pd.array([1, None, 3], dtype="Int64"),
            "money": [Decimal("1.10"), Decimal("-2"), None],
            "obj": ["a", 1, None],
            "cat": pd.Categorical(["x", "y", "x"], categories=["y", "x", "z"], ordered=True),
            "span": pd.to_timedelta([1, 2, 3], unit="D"),
        }, index=pd.Index(["r1", "r2", "r1"], name="row")),
        "empty": pd.DataFrame({"a": pd.Series([], dtype="float64"), "b": pd.Series([], dtype="str")}),
        "no_columns": pd.DataFrame(index=pd.RangeIndex(2, 8, 2, name="k")),
        "int_labels": pd.DataFrame([[1, 2], [3, 4]], columns=pd.Index([2025, 2026], name="year")),
        "multi": pd.DataFrame({"v": [1.0, 2.0]}, index=pd.MultiIndex.from_tuples([("C1", date(2026, 1, 1)),
                                                                                 ("C2", date(2026, 2, 1))],
                                                                                names=["campus", "month"])),
        "duplicate_columns": pd.DataFrame([[1, "a"]], columns=["x", "x"]),
        "with_attrs": _with_attrs(pd.DataFrame({"cost": [1.5, 2.0]}, index=pd.Index(["fuel", "staff"], name="category"))),
        "empty_with_attrs": _with_attrs(pd.DataFrame(columns=["cost"])),
    }


def _with_attrs(df: pd.DataFrame) -> pd.DataFrame:
    """A query's frame with what it says beside its rows (department.cost_breakdown's window, the
    sensitivity's totals, a period): the page reads them back from the cache."""
    df.attrs.update(window=(date(2026, 1, 1), date(2026, 10, 31)), effect=-1234.5, turning=3, as_of=None,
                    period=parse_period("2025", THROUGH), totals={"D001": 1.0, "D002": 2.5})
    return df


@pytest.mark.parametrize("name", list(_frames()))
def test_frames_round_trip_exactly(redis_cache, name: str) -> None:
    df = _frames()[name]
    redis_cache.set(f"q:{name}", df)
    back = redis_cache.get(f"q:{name}")
    pd.testing.assert_frame_equal(back, df, check_exact=True, check_index_type=True, check_column_type=True,
                                  check_freq=False)
    assert list(back.dtypes) == list(df.dtypes) and type(back.index) is type(df.index)
    assert back.index.names == df.index.names and back.columns.names == df.columns.names
    assert repr(back.attrs) == repr(df.attrs)  # assert_frame_equal does not compare them


def test_scalars_series_and_containers_round_trip_exactly(redis_cache) -> None:
    values = {
        "freshness": (1764.5, Freshness(datetime(2026, 11, 30, 23, 5), date(2026, 11, 30), date(2021, 1, 1),
                                        date(2026, 10, 31), True)),
        "unknown": Freshness(None, None, None, None),
        "pair": (3, None),
        "ids": ["D001", "D002"],
        "rates": {"D001": 0.5, "D002": float("nan"), "D003": float("inf")},
        "int_keys": {1: "a", (2, 3): "b"},
        "numbers": (np.int64(7), np.float64(0.25), np.bool_(True), -0.0, 2**70),
        "times": (pd.Timestamp("2026-01-02 03:04:05.123456789"), pd.NaT, time(8, 30), timedelta(days=2, seconds=5),
                  datetime(2026, 1, 2, 3, 4, 5, 6)),
        "series": pd.Series([1.0, None], index=["a", "b"], name="v"),
        "series_attrs": _with_attrs(pd.DataFrame({"v": [1.0]}))["v"],
        "array": np.arange(6, dtype="int16").reshape(2, 3),
        "sets": (frozenset({"a"}), {1, 2}),
        "raw": b"\x00\xff",
        "tagged_key": {"~t": "not a tag"},
    }
    for key, value in values.items():
        redis_cache.set(f"q:{key}", value)
        back = redis_cache.get(f"q:{key}")
        if isinstance(value, pd.Series):
            pd.testing.assert_series_equal(back, value, check_exact=True)
            assert repr(back.attrs) == repr(value.attrs)
        elif isinstance(value, np.ndarray):
            assert back.dtype == value.dtype and (back == value).all()
        else:
            assert repr(back) == repr(value) and [type(x) for x in _flat(back)] == [type(x) for x in _flat(value)]


def _flat(v):
    return [x for item in v for x in _flat(item)] if isinstance(v, (tuple, list)) else [v]


def test_callback_answers_round_trip_exactly(redis_cache) -> None:
    fig = go.Figure(go.Bar(x=["a", "b"], y=np.array([1.5, 2.0])), layout={"title": {"text": "收入"}})
    answer = (html.Div([html.H4("标题", className="x"), dcc.Graph(figure=fig, id={"type": "g", "index": 1}),
                        html.Span(**{"data-k": "1"})], style={"color": "red"}), no_update, fig, [1, "x"])
    redis_cache.set("q:answer", answer)
    back = redis_cache.get("q:answer")
    assert type(back) is tuple and back[1] is no_update
    assert _json(back[2]) == _json(fig)  # what the browser gets
    assert _json(back[0]) == _json(answer[0])
    # a component comes back in the JSON form Dash sends, not rebuilt (its properties are not checked again)
    graph = back[0]["props"]["children"][1]
    assert (graph["type"], graph["namespace"]) == ("Graph", "dash_core_components") and back[3] == [1, "x"]
    assert graph["props"]["id"] == {"type": "g", "index": 1}


def test_a_cached_answer_is_the_json_dash_sends_and_comes_back_without_decoding(redis_cache) -> None:
    """The page kit caches an answer as the JSON text Dash sends (shell/cache_values.sent): it comes
    back as plain JSON values, the same bytes once Dash sends them, with nothing rebuilt; an
    answer holding no_update is cached as itself."""
    from shell.cache_values import sent, unsent

    fig = go.Figure(go.Bar(x=["a", "b"], y=np.array([1.5, np.nan])))
    answer = (html.Div([html.H4("标题"), dcc.Graph(figure=fig, id={"type": "g", "index": 1})]), fig, [1, "~t"])
    redis_cache.set("q:sent", sent(answer))
    raw = redis_cache._read_client.get("hospdash:q:sent")
    assert b'"~t":' not in raw  # no tagged value: read with json.loads alone
    back = unsent(redis_cache.get("q:sent"))
    assert to_json_plotly(back) == to_json_plotly(answer)
    assert type(back) is list and type(back[0]) is dict and back[2] == [1, "~t"]
    assert unsent(sent(answer)) == back  # the first answer (from the cache in this process: the text) too
    # a text in the answer that looks like a tagged value is still only text: read back as it was sent
    odd = sent((html.P("x"), {"~t": "dc", "cls": "data_layer.scope:Scope", "v": {}}))  # a Store's data, say
    redis_cache.set("q:odd", odd)
    assert unsent(redis_cache.get("q:odd")) == json.loads(odd)
    held = (no_update, html.P("x"))
    assert sent(held) is held
    with pytest.raises(ValueError):
        Codec().dumps(Sent("{not json"))


def _json(v) -> dict:
    return json.loads(to_json_plotly(v))  # as Dash sends it


def test_a_value_the_codec_does_not_know_is_not_cached(duck_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """An unknown type is refused when written (a warning, no entry), never pickled."""
    with pytest.raises(TypeError, match="cannot cache"):
        Codec().dumps(object())
    cache = make_cache(URL)
    try:
        cache.clear()
    except Exception as exc:
        server_unavailable("Redis at 127.0.0.1:6379", exc)
    wh = Warehouse(duck_url, cache)
    assert wh.remember(("odd",), object) is not None
    assert "cache write failed" in caplog.text and cache.get("q:odd") is None


def test_forged_entries_build_nothing_outside_the_app(redis_cache) -> None:
    client = redis_cache._write_client
    forged = [b'J1{"~t":"dc","cls":"subprocess:Popen","v":{"args":"touch x"}}',
              b'J1{"~t":"component","v":{"module":"os","name":"system","props":{}}}',
              b'J1{"~t":"nd","shape":[1],"v":{"np":"O","b":""}}',
              b'J1{"~t":"df","index":',  # truncated
              b'J1{"~t":"enum","cls":"data_layer.scope:Scope","v":1}',
              b'J1={"props":',  # a Sent answer, truncated
              b'J1=\x80\xff']  # not even text
    for raw in forged:
        client.set("hospdash:q:forged", raw)
        assert redis_cache.get("q:forged") is None


def test_a_class_reached_through_an_app_module_is_not_built(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only a class defined in the app's own packages, named by its own path, is built: not a
    foreign dataclass an app module happens to hold (`data_layer.x:subprocess.Popen` and the
    like), nor a private name."""
    import dataclasses

    import data_layer.cache_codec as codec_module

    @dataclasses.dataclass
    class Foreign:
        command: str = ""

    monkeypatch.setattr(codec_module, "Foreign", Foreign, raising=False)
    codec = Codec()
    for path in ("data_layer.cache_codec:Foreign", "data_layer.cache_codec:sys.modules",
                 "data_layer.scope:_private", "data_layer.scope:Scope.__class__"):
        assert codec.loads(PREFIX + json.dumps({"~t": "dc", "cls": path, "v": {}}).encode()) is None, path
        with pytest.raises(ValueError):
            codec._own_class(path)
    scope = Scope.departments(["D001", "D002"])
    assert codec.loads(codec.dumps(scope)) == scope  # the app's own dataclass still round-trips


def _app_on_redis(app_env: dict[str, str], username: str):
    """The app with CACHE_URL on an emptied Redis database of its own (another worker's test clears
    URL's at any moment), with the account `username` of conftest.USERS; (server, that cache)."""
    from app import create_app

    from .conftest import PASSWORD, USERS

    cache = make_cache(APP_URL)
    try:
        cache.clear()
    except Exception as exc:
        server_unavailable("Redis at 127.0.0.1:6379", exc)
    server = create_app({**app_env, "CACHE_URL": APP_URL})
    server.extensions["hospdash"].appdb.create_user(username, username, PASSWORD, *USERS[username])
    return server, cache


def test_a_callback_answer_served_from_redis_is_the_answer_computed(app_env: dict[str, str]) -> None:
    """The DRG wall's answer (components, a figure, data) with CACHE_URL on Redis: the second
    request is read from Redis (no warehouse query) and the browser gets the same JSON."""
    from sqlalchemy import event

    from .helpers import post_callback, signed_in

    server, cache = _app_on_redis(app_env, "lead1")
    client = signed_in(server, "lead1")
    inputs = [{"id": "wall-tick", "property": "data", "value": {"n": 1, "scale": 1}},
              {"id": "drg-period", "property": "value", "value": "ytd"},
              {"id": "drg-campus", "property": "value", "value": None},
              {"id": "drg-division", "property": "value", "value": None},
              {"id": "drg-sort", "property": "data", "value": None}]
    state = [{"id": "drg-wall", "property": "data", "value": True}, {"id": "drg-group", "property": "data", "value": None}]
    first = post_callback(server, client, "drg-kpis.children", inputs, state, raw=True)
    queries: list[str] = []
    engine = server.extensions["hospdash"].warehouse.engine
    event.listen(engine, "before_cursor_execute", lambda *a: queries.append(a[2]))
    again = post_callback(server, client, "drg-kpis.children", inputs, state, raw=True)
    assert first[0] == again[0] == 200 and json.loads(again[1]) == json.loads(first[1])
    assert not [q for q in queries if "fact_" in q], "the second answer was computed, not read from Redis"
    entries = [cache._read_client.get(k) for k in cache._read_client.keys("hospdash:*")]
    assert entries and all(e.startswith(PREFIX) for e in entries)
    cache.clear()


def test_the_department_costs_read_in_a_second_language_from_redis_show_the_costs(app_env: dict[str, str]) -> None:
    """The director reads the costs section in Chinese, then in English: the English answer is built
    from the cost breakdown kept in Redis by the first, and shows the costs, not "no closed month with
    cost data" (what it said while a frame's attrs were lost on the way through Redis)."""
    from .helpers import post_callback, signed_in

    server, cache = _app_on_redis(app_env, "dir1")
    inputs = [{"id": "dw-dept", "property": "value", "value": "D001"},
              {"id": "dw-period", "property": "value", "value": "ytd"}]
    answers = {}
    for lang in ("zh", "en"):
        status, body = post_callback(server, signed_in(server, "dir1", lang), "dw-costs.children", inputs, [], raw=True)
        assert status == 200
        answers[lang] = body.decode()
    try:
        for lang, body in answers.items():
            assert "dw-costs-table" in body, f"{lang}: no cost grid: {body[:300]}"
            assert "No closed month" not in body and "没有已关账月份" not in body, lang
    finally:
        cache.clear()


def test_the_in_process_cache_keeps_what_redis_keeps(duck_url: str, monkeypatch: pytest.MonkeyPatch,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    """The embedded default stores the same tagged JSON as Redis, so a value comes back from it as it
    would from Redis (a frame with its dtypes and attrs) and a value Redis cannot hold is not cached
    in the process either: what a demo or a test shows is what a Redis deployment shows."""
    from data_layer.queries.department import cost_breakdown

    cache = make_cache(None)
    wh = Warehouse(duck_url, cache)
    year = parse_period("2026", THROUGH)
    first = cost_breakdown(wh, Scope.departments(["D002"]), "D002", year)
    monkeypatch.setattr(wh, "frame", None)  # the answer must come from the cache
    again = cost_breakdown(wh, Scope.departments(["D002"]), "D002", year)
    pd.testing.assert_frame_equal(again, first, check_exact=True)
    assert again.attrs["window"] and repr(again.attrs) == repr(first.attrs)
    stored = [raw for _expires, raw, _size in cache._lru._items.values()]
    assert stored and all(isinstance(raw, bytes) and raw.startswith(PREFIX) for raw in stored)
    assert wh.remember(("odd",), object) is not None
    assert "cache write failed" in caplog.text and wh.lookup(("odd",)) is None
    assert isinstance(Warehouse(duck_url).cache.serializer, Codec)  # a warehouse opened without a cache
