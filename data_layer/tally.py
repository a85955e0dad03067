"""A count kept for the code running within a block, in this context and its copies (the threads
of Warehouse.gather): the bytes the warm-up writes to the cache (cache_codec.counting_writes), the
statements an answer's building runs on the application database (appdb/store.counting_reads)."""
from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

Tally = contextvars.ContextVar[list[int] | None]


@contextlib.contextmanager
def counting(tally: Tally) -> Iterator[list[int]]:
    """Within the block, `add(tally, n)` adds to the yielded list's one number."""
    box = [0]
    token = tally.set(box)
    try:
        yield box
    finally:
        tally.reset(token)


def add(tally: Tally, n: int = 1) -> None:
    """Add `n` to the count of the block being counted, if any."""
    box = tally.get()
    if box is not None:
        box[0] += n
