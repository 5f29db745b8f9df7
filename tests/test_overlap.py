"""The threads that overlap a piece-wise intake's stages (ingestion/overlap.py) keep the
order of items, hand exceptions to the consumer, and stop cleanly when the consumer quits."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from ingestion.overlap import InOrder, Prefetch


def _numbers(n: int, fail_at: int | None = None, seen: list[int] | None = None) -> Iterator[int]:
    for i in range(n):
        if i == fail_at:
            raise ValueError(f"bad piece {i}")
        if seen is not None:
            seen.append(i)
        yield i


@pytest.mark.parametrize("threaded", [True, False])
def test_prefetch_keeps_order_and_raises_where_the_item_would_be(threaded: bool) -> None:
    with Prefetch(_numbers(50), threaded=threaded) as items:
        assert list(items) == list(range(50))
    got: list[int] = []
    with (
        pytest.raises(ValueError, match="bad piece 3"),
        Prefetch(_numbers(10, fail_at=3), threaded=threaded) as it,
    ):
        for i in it:
            got.append(i)
    assert got == [0, 1, 2]


def test_prefetch_runs_ahead_by_at_most_its_depth_and_stops_on_close() -> None:
    seen: list[int] = []
    items = Prefetch(_numbers(1000, seen=seen), depth=1)
    assert next(items) == 0
    time.sleep(0.3)
    assert len(seen) <= 3  # the item handed out, one in the queue, one waiting to be put
    items.close()
    assert not any(t.name == "ewto-prefetch" for t in threading.enumerate())
    assert len(seen) <= 4  # at most the one it was making when told to stop
    time.sleep(0.2)
    assert len(seen) <= 4


@pytest.mark.parametrize("threaded", [True, False])
def test_in_order_runs_tasks_in_submission_order(threaded: bool) -> None:
    done: list[int] = []
    with InOrder(pending=2, threaded=threaded) as tasks:
        for i in range(20):
            tasks.submit(lambda i=i: (time.sleep(0.001 * (i % 3)), done.append(i)) and None)
        tasks.wait()
    assert done == list(range(20))


def test_in_order_hands_a_task_failure_to_the_submitter() -> None:
    def fail() -> None:
        raise OSError("disk full")

    with InOrder(pending=1) as tasks:
        tasks.submit(fail)
        with pytest.raises(OSError, match="disk full"):
            tasks.submit(lambda: None)  # waits for the failed task first
