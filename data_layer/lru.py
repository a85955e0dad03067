"""A small bounded map for what one process keeps beside the shared cache: the most recently
used entries, each until it expires, safe to share between threads."""
from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class Lru:
    """At most `size` entries and, with `weigh` (an entry's weight: its bytes, say), at most
    `budget` in all; putting one more drops the least recently used until it fits. An entry put
    with a time limit is not returned after it. None is never kept (it means "not here")."""

    def __init__(self, size: int, budget: float = math.inf, weigh: Callable[[Any], int] | None = None):
        self.size = size
        self.budget = budget
        self.weight = 0  # the entries' weights together (0 without `weigh`)
        self._weigh = weigh
        self._items: OrderedDict[Hashable, tuple[float, Any, int]] = OrderedDict()  # key -> (expires at, value, weight)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable) -> Any:
        with self._lock:
            entry = self._items.get(key)
            if entry is None:
                return None
            if entry[0] < time.monotonic():
                self._drop(key)
                return None
            self._items.move_to_end(key)
            return entry[1]

    def put(self, key: Hashable, value: Any, ttl: float | None = None) -> None:
        if value is None:
            return
        entry = self._entry(value, ttl)
        with self._lock:
            self._store(key, entry)

    def put_new(self, key: Hashable, value: Any, ttl: float | None = None) -> bool:
        """Put `value` unless a live entry is kept under `key` (then False), in one step."""
        if value is None:
            return False
        entry = self._entry(value, ttl)
        with self._lock:
            kept = self._items.get(key)
            if kept is not None and kept[0] >= time.monotonic():
                return False
            self._store(key, entry)
            return True

    def pop(self, key: Hashable) -> bool:
        """Forget `key`; whether it was kept."""
        with self._lock:
            return self._drop(key)

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
            self.weight = 0

    def _entry(self, value: Any, ttl: float | None) -> tuple[float, Any, int]:
        return (time.monotonic() + ttl if ttl else math.inf, value, self._weigh(value) if self._weigh else 0)

    def _store(self, key: Hashable, entry: tuple[float, Any, int]) -> None:  # under the lock
        self._drop(key)
        self._items[key] = entry
        self.weight += entry[2]
        while len(self._items) > self.size or (self.weight > self.budget and len(self._items) > 1):
            self._drop(next(iter(self._items)))

    def _drop(self, key: Hashable) -> bool:  # under the lock
        entry = self._items.pop(key, None)
        if entry is None:
            return False
        self.weight -= entry[2]
        return True
