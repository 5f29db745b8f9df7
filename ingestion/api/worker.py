"""A child process that validates and lands uploads, so the API server's memory does not
depend on what members send.

`submit_files` reads a file, validates it with Great Expectations and writes the lake: for
a large valid export that takes memory in proportion to the file. Run inside the server,
one 1 GB upload would leave the server process that large (CPython rarely gives memory
back) or get it killed. Here the server hands the request (a path on disk and four strings)
to one long-lived child process through a pipe and waits for the result, so the HTTP answer
stays synchronous with the report. The child imports GX once and is reused while it stays
small; when its RSS is over `EWTO_WORKER_MAX_RSS_BYTES` after a submission it is stopped and
a fresh one started, so its memory returns to the system too. If the child dies (killed by
the OOM killer, say), the caller gets a `WorkerFailed` (the API answers 503) and the next
upload starts a new child.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

DEFAULT_MAX_RSS = 1024**3  # 1 GiB: GX and polars loaded take ~0.3-0.5 GiB


class WorkerFailed(Exception):
    """The validation process died or failed unexpectedly (a one-line reason)."""


@dataclass(frozen=True)
class WorkerResult:
    submission_id: str
    rejected: bool
    report: dict[str, Any]  # the outcome as a dict: used when reports/<id>.json is unreadable


def max_rss_bytes() -> int:
    raw = os.environ.get("EWTO_WORKER_MAX_RSS_BYTES", "")
    try:
        return int(raw) if raw else DEFAULT_MAX_RSS
    except ValueError:
        return DEFAULT_MAX_RSS


def _child(conn: Connection, home_root: str) -> None:
    """The child's loop: one request in, one ("ok" | "usage" | "error", payload) out."""
    from ..errors import UsageError
    from ..paths import Home
    from ..submission import submit_files  # the heavy imports, once per child

    home = Home(Path(home_root))
    while True:
        try:
            req = conn.recv()
        except (EOFError, OSError):  # the server went away
            return
        if req is None:
            return
        try:
            outcome = submit_files([req], home=home)[0]
            report = outcome.as_dict()
            report["file"] = Path(report["file"]).name
            conn.send(("ok", WorkerResult(outcome.submission_id, outcome.rejected, report)))
        except UsageError as exc:
            conn.send(("usage", str(exc)))
        except BaseException:  # noqa: BLE001 - reported to the server, which logs it
            conn.send(("error", traceback.format_exc()))


class SubmissionWorker:
    """One child process at a time; `submit` is blocking (call it from a worker thread)."""

    def __init__(self, home_root: Path, max_rss: int | None = None) -> None:
        self.home_root = Path(home_root)
        self.max_rss = max_rss if max_rss is not None else max_rss_bytes()
        self._ctx = mp.get_context("spawn")  # no copy of the server's memory or threads
        self._lock = threading.Lock()
        self._proc: Any = None
        self._conn: Connection | None = None
        self.started = 0  # children started so far (recycling is observable)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.is_alive() else None

    def start(self) -> None:
        """Start the child now (it imports GX while the server takes its first requests)."""
        with self._lock:
            self._ensure()

    def _ensure(self) -> None:
        if self._proc is not None and self._proc.is_alive():
            return
        self._discard()
        parent, child = self._ctx.Pipe(duplex=True)
        proc = self._ctx.Process(
            target=_child, args=(child, str(self.home_root)), name="ewto-submission-worker", daemon=True
        )
        proc.start()
        child.close()
        self._proc, self._conn = proc, parent
        self.started += 1

    def _discard(self, timeout: float = 5.0) -> None:
        proc, conn = self._proc, self._conn
        self._proc, self._conn = None, None
        if conn is not None:
            try:
                if proc is not None and proc.is_alive():
                    conn.send(None)
            except OSError:
                pass
            conn.close()
        if proc is not None:
            proc.join(timeout)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout)

    def _rss(self) -> int:
        import psutil

        try:
            return psutil.Process(self._proc.pid).memory_info().rss if self._proc is not None else 0
        except psutil.Error:
            return 0

    def submit(self, req: Any) -> WorkerResult:
        """Validate and land one SubmissionRequest in the child; raises UsageError or WorkerFailed."""
        from ..errors import UsageError

        with self._lock:
            self._ensure()
            assert self._conn is not None and self._proc is not None
            try:
                self._conn.send(req)
                kind, payload = self._conn.recv()
            except (EOFError, OSError) as exc:
                code = self._proc.exitcode
                self._discard()
                raise WorkerFailed(f"the validation process stopped (exit code {code})") from exc
            if self._rss() > self.max_rss:
                self._discard()  # a big file left it large: give the memory back
            if kind == "ok":
                return payload
            if kind == "usage":
                raise UsageError(payload)
            self._discard()
            raise WorkerFailed(payload)

    def close(self) -> None:
        with self._lock:
            self._discard()
