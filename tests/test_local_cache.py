"""The in-process result cache (data_layer/warehouse.py, LocalCache): bounded by the bytes it holds,
it drops the least recently used entry first, and a read keeps an entry (cachelib's SimpleCache,
which it replaced, dropped the oldest written, read or not). Its size is a setting (CACHE_MB)."""
from __future__ import annotations

import logging

import pandas as pd
import pytest

from data_layer.cache_codec import Codec, counting_writes
from data_layer.errors import UserError
from data_layer.lru import Lru
from data_layer.warehouse import LocalCache, cache_capacity, make_cache
from shell.settings import load_settings
from shell.warmup import capacity_said

from .conftest import server_unavailable


def _cache(budget: int) -> LocalCache:
    return LocalCache(budget, Codec())


def test_a_full_cache_drops_the_least_recently_used_and_a_read_keeps_an_entry() -> None:
    probe = _cache(10**6)
    probe.set("x", "v" * 100)
    size = probe.used  # one entry of this shape, encoded
    cache = _cache(3 * size)
    for key in ("a", "b", "c"):
        cache.set(key, "v" * 100)
    assert cache.get("a") == "v" * 100  # read: now the most recently used
    cache.set("d", "v" * 100)  # one more than fits: "b" goes, not "a" (written first, but read)
    assert [k for k in "abcd" if cache.has(k)] == ["a", "c", "d"]
    assert len(cache) == 3 and cache.used == 3 * size <= cache.budget


def test_the_budget_counts_bytes_not_entries() -> None:
    cache = _cache(10_000)
    cache.set("small", "s")
    cache.set("large", "L" * 9_000)
    cache.set("larger", "L" * 9_500)  # the two before it no longer fit beside it
    assert not cache.has("small") and not cache.has("large") and cache.has("larger")
    assert cache.used <= 10_000
    cache.set("too large", "L" * 20_000)  # larger than the whole cache: kept alone (a cache never refuses)
    assert len(cache) == 1 and cache.get("too large") == "L" * 20_000


def test_frames_and_timeouts_behave_as_in_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = _cache(10**6)
    frame = pd.DataFrame({"dept": ["D001", "D002"], "n": [1, 2]})
    cache.set("f", frame)
    assert cache.get("f").equals(frame)
    clock = [1000.0]
    monkeypatch.setattr("data_layer.lru.time.monotonic", lambda: clock[0])
    cache.set("short", 1, timeout=10)
    cache.set("kept", 2, timeout=0)  # 0: until dropped
    clock[0] += 11
    assert cache.get("short") is None and cache.get("kept") == 2
    assert cache.add("kept", 3) is False and cache.add("short", 4) is True and cache.get("short") == 4
    assert cache.delete("kept") is True and cache.delete("kept") is False
    assert cache.clear() and len(cache) == 0 and cache.used == 0


def test_the_lru_weighs_its_entries() -> None:
    lru = Lru(10, budget=5, weigh=len)
    lru.put("a", "xx")
    lru.put("b", "xx")
    lru.put("a", "x")  # replacing an entry counts its new weight only
    assert lru.weight == 3
    lru.put("c", "xxx")  # 6 > 5: the least recently used ("b") goes
    assert lru.get("b") is None and lru.weight == 4
    assert lru.put_new("c", "y") is False and lru.put_new("d", "y") is True and lru.weight == 5
    assert lru.pop("d") and lru.weight == 4
    lru.clear()
    assert lru.weight == 0 and len(lru) == 0


def test_writes_are_counted_where_asked() -> None:
    cache = _cache(10**6)
    cache.set("before", "x" * 50)
    with counting_writes() as written:
        cache.set("a", "x" * 50)
        cache.set("b", "y" * 10)
    cache.set("after", "x" * 50)
    assert written == [len(Codec().dumps("x" * 50)) + len(Codec().dumps("y" * 10))]


def test_the_cache_size_is_a_setting() -> None:
    assert load_settings({}, None).cache_mb == 512
    assert load_settings({"CACHE_MB": "64"}, None).cache_mb == 64
    for bad in ("0", "lots", "-5"):
        with pytest.raises(UserError, match="CACHE_MB"):
            load_settings({"CACHE_MB": bad}, None)
    cache = make_cache(None, local_mb=64)
    assert isinstance(cache, LocalCache) and cache_capacity(cache) == 64 * 2**20


def test_redis_says_its_capacity(caplog: pytest.LogCaptureFixture) -> None:
    """A Redis with maxmemory set bounds the warm-up as the in-process budget does; one without
    is unbounded (None)."""
    import redis

    url = "redis://127.0.0.1:6379/13"
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        before = client.config_get("maxmemory")["maxmemory"]
    except redis.exceptions.ConnectionError as exc:
        server_unavailable(f"Redis at {url}", exc)
    try:
        client.config_set("maxmemory", 0)
        assert cache_capacity(make_cache(url)) is None
        with caplog.at_level(logging.WARNING, "hospdash"):
            assert capacity_said(make_cache(url)) is None  # and the warm-up says Redis grows with every load
        assert [r.getMessage() for r in caplog.records if "no memory cap" in r.getMessage()]
        caplog.clear()
        client.config_set("maxmemory", 300 * 2**20)
        assert cache_capacity(make_cache(url)) == 300 * 2**20
        assert capacity_said(make_cache(url)) == 300 * 2**20 and not caplog.records
    finally:
        client.config_set("maxmemory", before)
    assert cache_capacity(make_cache("redis://127.0.0.1:1/0")) is None  # not reachable: not known
    assert cache_capacity(make_cache("null")) is None
