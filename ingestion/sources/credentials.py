"""Credentials of a source: an Airflow connection, looked up by `conn_id`.

Looked up through the Task SDK (`airflow.sdk.Connection.get`, what `BaseHook.get_connection`
calls): inside a task it asks the configured secrets backends, the `AIRFLOW_CONN_<ID>`
environment variable, and the metadata database through the API server (connections added
in the UI or with `airflow connections add`); outside a task (the `ewto` command, tests) the
environment variable and external secrets backends. Only where Airflow is not installed is
`AIRFLOW_CONN_<ID>` parsed here (JSON or URI), so the same configuration works everywhere and
no secret is ever written into config/members.yml.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit


@dataclass(frozen=True)
class Credentials:
    conn_id: str
    host: str | None = None
    port: int | None = None
    login: str | None = None
    password: str | None = None
    schema: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    via: str = "environment"  # "task-sdk" (airflow.sdk.Connection.get) or "environment"

    def __repr__(self) -> str:  # never print a secret into a task log
        return f"Credentials(conn_id={self.conn_id!r}, host={self.host!r}, login={self.login!r})"

    @property
    def token(self) -> str | None:
        return self.extra.get("token") or self.password


class MissingConnection(LookupError):
    pass


def _env_name(conn_id: str) -> str:
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def parse_connection(conn_id: str, value: str) -> Credentials:
    value = value.strip()
    if value.startswith("{"):
        raw = json.loads(value)
        extra = raw.get("extra") or {}
        if isinstance(extra, str):
            extra = json.loads(extra) if extra.strip() else {}
        return Credentials(
            conn_id,
            host=raw.get("host"),
            port=int(raw["port"]) if raw.get("port") else None,
            login=raw.get("login"),
            password=raw.get("password"),
            schema=raw.get("schema"),
            extra=extra,
        )
    parts = urlsplit(value)
    extra = dict(parse_qsl(parts.query))
    if "__extra__" in extra:
        extra = json.loads(extra["__extra__"])
    return Credentials(
        conn_id,
        host=unquote(parts.hostname) if parts.hostname else None,
        port=parts.port,
        login=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        schema=parts.path.lstrip("/") or None,
        extra=extra,
    )


def _from_airflow(conn_id: str) -> Credentials | None:
    """The connection through the Task SDK; None when Airflow is not installed."""
    try:
        from airflow.sdk import Connection
        from airflow.sdk.exceptions import AirflowNotFoundException
    except ImportError:  # pragma: no cover - ewto without Airflow
        return None
    try:
        conn = Connection.get(conn_id)
    except AirflowNotFoundException as exc:
        raise MissingConnection(
            f"Airflow connection {conn_id!r} is not defined (add it in the UI, with "
            f"`airflow connections add`, or as the environment variable {_env_name(conn_id)})"
        ) from exc
    extra = conn.extra_dejson if hasattr(conn, "extra_dejson") else {}
    return Credentials(
        conn_id,
        host=conn.host,
        port=conn.port,
        login=conn.login,
        password=conn.password,
        schema=conn.schema,
        extra=dict(extra or {}),
        via="task-sdk",
    )


def get_credentials(conn_id: str | None) -> Credentials | None:
    """The connection `conn_id` (None when no conn_id); MissingConnection if undefined."""
    if not conn_id:
        return None
    creds = _from_airflow(conn_id)
    if creds is not None:
        return creds
    env = os.environ.get(_env_name(conn_id))  # pragma: no cover - ewto without Airflow
    if env:
        return parse_connection(conn_id, env)
    raise MissingConnection(
        f"connection {conn_id!r} is not defined: set the environment variable {_env_name(conn_id)}"
    )
