"""Credentials of a source: an Airflow connection, looked up by `conn_id`.

Inside an Airflow task the Task SDK resolves it (metadata database, secrets backend or an
`AIRFLOW_CONN_<ID>` environment variable). Outside Airflow (the `ewto` command, tests) the
`AIRFLOW_CONN_<ID>` variable is parsed here, as JSON or as a connection URI, so the same
configuration works everywhere and no secret is ever written into config/members.yml.
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
    try:
        from airflow.sdk import BaseHook
    except ImportError:  # pragma: no cover - ewto without Airflow
        return None
    try:
        conn = BaseHook.get_connection(conn_id)
    except Exception:  # noqa: BLE001 - not in a task, or not defined: reported by the caller
        return None
    extra = conn.extra_dejson if hasattr(conn, "extra_dejson") else {}
    return Credentials(
        conn_id,
        host=conn.host,
        port=conn.port,
        login=conn.login,
        password=conn.password,
        schema=conn.schema,
        extra=dict(extra or {}),
    )


def get_credentials(conn_id: str | None) -> Credentials | None:
    """The connection `conn_id` (None when no conn_id); MissingConnection if undefined."""
    if not conn_id:
        return None
    env = os.environ.get(_env_name(conn_id))
    if env:
        return parse_connection(conn_id, env)
    creds = _from_airflow(conn_id)
    if creds is None:
        raise MissingConnection(
            f"Airflow connection {conn_id!r} is not defined (add it in the UI, with "
            f"`airflow connections add`, or as the environment variable {_env_name(conn_id)})"
        )
    return creds
