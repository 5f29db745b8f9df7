"""What failed, for the operator: one JSON line per failure in `$EWTO_HOME/operator_alerts.jsonl`.

Used as the `on_failure_callback` of the collection and warehouse DAGs (task-level: runs on
the worker; DAG-level: runs in the DAG processor). Appends under an advisory lock so that
concurrent workers never interleave lines. Never raises: a callback must not hide the
failure it reports.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import sys
from pathlib import Path
from typing import Any

ALERTS_NAME = "operator_alerts.jsonl"


def alerts_path() -> Path:
    return Path(os.environ.get("EWTO_HOME", "var")).resolve() / ALERTS_NAME


def _get(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def alert_from_context(context: dict[str, Any], scope: str = "task") -> dict[str, Any]:
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    exc = context.get("exception")
    reason = context.get("reason")
    org = None
    params = _get(ti, "rendered_map_index") or _get(ti, "map_index")
    if isinstance(params, str):
        org = params
    dag_id = _get(dag_run, "dag_id") or _get(ti, "dag_id") or _get(context.get("dag"), "dag_id")
    section = (
        "When the warehouse build fails" if dag_id == "ewto_warehouse" else "When a member's source fails"
    )
    return {
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "scope": scope,  # task: a task's callback (on the worker); dag: the run's (DAG processor)
        "dag_id": dag_id,
        "run_id": _get(dag_run, "run_id") or _get(ti, "run_id") or context.get("run_id"),
        "task_id": _get(ti, "task_id"),
        "map_index": _get(ti, "map_index"),
        "org_id": org,
        "try_number": _get(ti, "try_number"),
        "error": f"{type(exc).__name__}: {exc}" if exc is not None else (str(reason) if reason else None),
        "what_to_do": f"see docs/operations.md, '{section}'",
    }


def record_failure(context: dict[str, Any], scope: str = "task") -> None:
    try:
        line = json.dumps(alert_from_context(context, scope), default=str, ensure_ascii=False) + "\n"
        path = alerts_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    except Exception as exc:  # noqa: BLE001
        print(f"ewto: could not record the failure for the operator: {exc}", file=sys.stderr)
