"""A small bounded map for what one process keeps beside the shared cache: the most recently
used entries, each until it expires, safe to share between threads."""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class Lru:
    """At most `size` entries; putting one more drops the least recently used. An entry put with
    a time limit is not returned after it. None is never kept (it means "not here")."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()  # key -> (expires at, value)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable) -> Any:
        with self._lock:
            entry = self._items.get(key)
            if entry is None:
                return None
            if entry[0] < time.monotonic():
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return entry[1]

    def put(self, key: Hashable, value: Any, ttl: float | None = None) -> None:
        if value is None:
            return
        expires = time.monotonic() + ttl if ttl else float("inf")
        with self._lock:
            self._items[key] = (expires, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def get_or_make(self, key: Hashable, make: Callable[[], Any], ttl: float | None = None) -> Any:
        """The value kept under `key`, or `make()`'s, kept. Two threads missing at once may both
        make it (the last one put stays): for values that are cheap to make twice and the same."""
        hit = self.get(key)
        if hit is None:
            hit = make()
            self.put(key, hit, ttl)
        return hit

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
