"""Where each organisation's exports come from: the `source:` blocks of config/members.yml.

Parsed here from the raw YAML (the registry in ingestion/registry.py ignores the key), so
that the registry's dataclasses stay the intake's view and sources can evolve on their own.
An organisation without a `source:` block delivers into the drop folder
`$EWTO_DROP_DIR/<org_id>/` (the layout of `ewto ingest`: `<dataset>/<file with YYYY-MM>`).

    source:
      type: drop                       # drop | https | sftp
      url: s3://ewto-drops/{org}       # drop: local path or fsspec URL (default $EWTO_DROP_DIR/{org})
      storage_options: {}              # drop: fsspec options (e.g. endpoint_url for S3-compatible)
      conn_id: ewto_s3                 # drop on S3: key/secret from this Airflow connection

    source:
      type: https
      url: https://api.example.org/ewto/{dataset}    # {org} {dataset} {period} are filled in
      mode: records                    # records (paginated JSON -> JSON Lines) | file (download)
      conn_id: ewto_google_api         # bearer token: the connection's password (or extra.token)
      records_key: records             # records mode: list of rows in each page ...
      next_key: next                   # ... and the URL of the next page (null on the last)
      page_param: null                 # alternatively: page-number pagination (?page=1,2,..)
      lookback_months: 3               # re-check the months still missing, this far back
      retries: 4                       # HTTP attempts after the first, exponential backoff
      backoff_seconds: 1.0
      timeout_seconds: 30
      ca_bundle: ${EWTO_CA_DIR}/google.pem  # TLS: a private CA's PEM (default: system CAs)

    source:
      type: sftp
      host: sftp.example.org
      port: 22
      path: /exports                   # remote layout: <path>/<dataset>/<file with YYYY-MM>
      conn_id: ewto_etsy_sftp          # login, password or extra.key_file; host/port if not set here

Organisation ids and `{org}` placeholders are filled in; `${VAR}` in url/path/host/ca_bundle
is expanded from the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SOURCE_TYPES = ("drop", "https", "sftp")
HTTPS_MODES = ("records", "file")


class SourceConfigError(ValueError):
    """A `source:` block that cannot work (unknown type, missing url/host)."""


@dataclass(frozen=True)
class SourceConfig:
    org_id: str
    type: str = "drop"
    url: str | None = None
    storage_options: dict[str, Any] = field(default_factory=dict)
    conn_id: str | None = None
    # https
    mode: str = "records"
    records_key: str = "records"
    next_key: str | None = "next"
    page_param: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    retries: int = 4
    backoff_seconds: float = 1.0
    timeout_seconds: float = 30.0
    ca_bundle: str | None = None  # PEM file of a private CA (default: the system's CAs)
    # sftp
    host: str | None = None
    port: int | None = None
    username: str | None = None
    path: str | None = None
    # collection policy
    lookback_months: int = 3
    received_at: str = "source"  # source (the file's mtime where the source has one) | fetch
    settle_seconds: float = 60.0  # listing sources: leave files modified this recently (uploads)

    @property
    def listing(self) -> bool:
        """Sources that can list what they hold (drop folders, SFTP)."""
        return self.type in ("drop", "sftp")

    def describe(self) -> str:
        where = self.url or (f"sftp://{self.host}:{self.port or 22}{self.path or '/'}" if self.host else "")
        return f"{self.type} {where}".strip()


def _expand(value: Any, org_id: str) -> Any:
    if not isinstance(value, str):
        return value
    return os.path.expandvars(value).replace("{org}", org_id)


def default_drop_dir() -> str:
    return os.environ.get("EWTO_DROP_DIR", "drops")


def parse_source(org_id: str, raw: dict[str, Any] | None) -> SourceConfig:
    """One organisation's source; `None` (no block) is its drop folder."""
    raw = dict(raw or {})
    kind = str(raw.pop("type", "drop"))
    if kind not in SOURCE_TYPES:
        raise SourceConfigError(f"{org_id}: source type {kind!r} is not one of {', '.join(SOURCE_TYPES)}")
    known = set(SourceConfig.__dataclass_fields__) - {"org_id", "type"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise SourceConfigError(f"{org_id}: unknown source keys {', '.join(unknown)}")
    values = {k: _expand(v, org_id) for k, v in raw.items()}
    if kind == "drop" and not values.get("url"):
        values["url"] = str(Path(default_drop_dir()) / org_id)
    if kind == "https":
        if not values.get("url"):
            raise SourceConfigError(f"{org_id}: an https source needs a url")
        if values.get("mode", "records") not in HTTPS_MODES:
            raise SourceConfigError(f"{org_id}: https mode must be records or file")
    if kind == "sftp" and not (values.get("host") or values.get("conn_id")):
        raise SourceConfigError(f"{org_id}: an sftp source needs a host or a conn_id")
    if values.get("received_at", "source") not in ("source", "fetch"):
        raise SourceConfigError(f"{org_id}: received_at must be source or fetch")
    for key in ("storage_options", "params"):
        if values.get(key) is None:
            values.pop(key, None)
    return SourceConfig(org_id=org_id, type=kind, **values)


def members_file() -> Path:
    from ingestion.registry import config_dir

    return config_dir() / "members.yml"


def load_sources(path: Path | None = None) -> dict[str, SourceConfig]:
    """Every organisation of the registry file -> its source (default: its drop folder)."""
    path = path or members_file()
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    return {str(o["id"]): parse_source(str(o["id"]), o.get("source")) for o in data.get("organisations", ())}


def source_for(org_id: str, path: Path | None = None) -> SourceConfig:
    sources = load_sources(path)
    if org_id not in sources:
        raise SourceConfigError(f"{org_id!r} is not an organisation of {path or members_file()}")
    return sources[org_id]
