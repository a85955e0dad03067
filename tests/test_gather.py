"""Warehouse.gather: an answer's independent reads side by side on the process's spare slots
(data_layer/warehouse.py)."""
from __future__ import annotations

import contextvars
import threading
import time

import pytest

from data_layer import warehouse as wmod
from data_layer.warehouse import Warehouse

MARK: contextvars.ContextVar[str] = contextvars.ContextVar("test_gather_mark", default="none")


@pytest.fixture
def four(tmp_path) -> Warehouse:
    """A warehouse object with four slots (the engine is never used: the thunks read nothing)."""
    (tmp_path / "w.sqlite").touch()
    wh = Warehouse(f"sqlite:///{tmp_path}/w.sqlite", concurrency=4)
    yield wh
    wh.engine.dispose()


def _free_slots(wh: Warehouse) -> int:
    n = 0
    while wh._slots.acquire(blocking=False):
        n += 1
    for _ in range(n):
        wh._slots.release()
    return n


def test_results_come_in_order_and_run_side_by_side(four: Warehouse) -> None:
    threads: set[str] = set()
    barrier = threading.Barrier(4, timeout=10)  # four thunks that can only finish together: four workers

    def thunk(i: int):
        def f() -> int:
            threads.add(threading.current_thread().name)
            if i < 4:
                barrier.wait()
            return i * i
        return f

    assert four.gather([thunk(i) for i in range(8)]) == [i * i for i in range(8)]
    assert len(threads) == 4 and all(n.startswith("hospdash-gather") for n in threads)
    assert _free_slots(four) == 4


def test_each_thunk_runs_in_its_own_copy_of_the_callers_context(four: Warehouse) -> None:
    MARK.set("request")

    def f(i: int):
        def g() -> tuple[str, bool]:
            seen = MARK.get()
            MARK.set(f"thunk {i}")  # must not leak into another thunk, nor back to the caller
            return seen, wmod._GATHERING.get()
        return g

    assert four.gather([f(i) for i in range(6)]) == [("request", True)] * 6
    assert MARK.get() == "request" and wmod._GATHERING.get() is False


def test_a_gather_inside_a_gathered_thunk_runs_in_turn(four: Warehouse) -> None:
    def inner() -> list[str]:
        return four.gather([lambda: threading.current_thread().name] * 3)

    for names in four.gather([inner] * 4):
        assert len(set(names)) == 1  # one thread: the thunk's own


def test_the_first_error_is_raised_once_every_thunk_has_finished(four: Warehouse) -> None:
    done: list[int] = []

    def slow() -> None:
        time.sleep(0.2)
        done.append(1)

    def bad(msg: str):
        def f() -> None:
            raise ValueError(msg)
        return f

    with pytest.raises(ValueError, match="first"):
        four.gather([slow, bad("first"), bad("second"), slow])
    assert done == [1, 1]
    assert _free_slots(four) == 4  # the slots are given back after an error too


def test_with_every_slot_taken_an_answer_runs_in_turn_in_the_callers_thread(four: Warehouse) -> None:
    for _ in range(4):
        four._slots.acquire()
    try:
        names = four.gather([lambda: threading.current_thread().name] * 5)
    finally:
        for _ in range(4):
            four._slots.release()
    assert set(names) == {threading.current_thread().name}


def test_many_answers_at_once_share_the_slots_and_each_gets_its_own_results(four: Warehouse) -> None:
    """Twenty answers at once on four slots: every one finishes with its own results in order, those
    that found no slot free in turn, and every slot is given back."""
    out: dict[int, list[int]] = {}

    def answer(k: int) -> None:
        out[k] = four.gather([lambda i=i: (time.sleep(0.01), k * 100 + i)[1] for i in range(6)])

    callers = [threading.Thread(target=answer, args=(k,)) for k in range(20)]
    for c in callers:
        c.start()
    for c in callers:
        c.join(timeout=30)
    assert out == {k: [k * 100 + i for i in range(6)] for k in range(20)}
    assert _free_slots(four) == 4
