"""Overlap the stages of a piece-wise intake on threads.

Why: Great Expectations validates in pure Python and holds the GIL, while reading, mapping,
hashing and writing Parquet run in polars/Arrow native code that releases it. On a
2-CPU machine the next piece can be read and mapped, and the previous one hashed and
staged, while GX validates the current one. Items keep their order; an exception raised
on a thread reaches the consumer at the point where the item would have arrived.
"""

from __future__ import annotations

import os
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Generic, TypeVar

T = TypeVar("T")
_END = object()
_POLL = 0.05  # seconds between looks at the stop flag while a queue is full or empty


def enabled() -> bool:
    """EWTO_INTAKE_OVERLAP=0 runs the stages one after another on the calling thread (on a
    machine whose other CPU is busy anyway, threads only add switching)."""
    return os.environ.get("EWTO_INTAKE_OVERLAP", "1").strip().lower() not in ("0", "false", "no", "off")


class Prefetch(Generic[T]):
    """Iterate `source` on a thread of its own, at most `depth` items ahead of the consumer.

    `close()` stops the thread (after the item it is working on) and waits for it, so the
    source's resources (a memory-mapped file) can be released safely afterwards.
    """

    def __init__(
        self, source: Iterator[T], depth: int = 1, name: str = "ewto-prefetch", threaded: bool = True
    ) -> None:
        self._queue: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=max(depth, 1))
        self._stop = threading.Event()
        self._source = None if threaded else source
        self._thread = threading.Thread(target=self._run, args=(source,), name=name, daemon=True)
        if threaded:
            self._thread.start()

    def _put(self, entry: tuple[bool, Any]) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(entry, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, source: Iterator[T]) -> None:
        try:
            for item in source:
                if not self._put((True, item)):
                    return
                del item
            self._put((True, _END))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            self._put((False, exc))
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    def __iter__(self) -> Prefetch[T]:
        return self

    def __next__(self) -> T:
        if self._stop.is_set():
            raise StopIteration
        if self._source is not None:  # not threaded: the source's own order and exceptions
            return next(self._source)
        ok, item = self._queue.get()
        if not ok:
            self._stop.set()
            raise item
        if item is _END:
            self._stop.set()
            raise StopIteration
        return item  # type: ignore[no-any-return]

    def close(self) -> None:
        self._stop.set()
        close = getattr(self._source, "close", None)
        if close is not None:
            close()
        if self._source is not None:  # no thread was started
            return
        while self._thread.is_alive():
            try:  # unblock a thread waiting to put
                self._queue.get(timeout=_POLL)
            except queue.Empty:
                pass
        self._thread.join()
        while not self._queue.empty():
            self._queue.get_nowait()

    def __enter__(self) -> Prefetch[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InOrder:
    """Run tasks one after another on one thread, in the order submitted, with at most
    `pending` of them not yet finished (the submitter waits: it bounds the memory held).

    `wait()` returns once every task has finished and raises the first task's exception.
    """

    def __init__(self, pending: int = 1, name: str = "ewto-writer", threaded: bool = True) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._futures: deque[Future[None]] = deque()
        self._pending = max(pending, 1)
        self._threaded = threaded

    def submit(self, task: Callable[[], None]) -> None:
        if not self._threaded:
            task()
            return
        while len(self._futures) >= self._pending:
            self._futures.popleft().result()
        self._futures.append(self._pool.submit(task))

    def wait(self) -> None:
        while self._futures:
            self._futures.popleft().result()

    def close(self) -> None:
        """Wait for the tasks (their exceptions are dropped: the caller is already failing)."""
        self._pool.shutdown(wait=True)
        self._futures.clear()

    def __enter__(self) -> InOrder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
