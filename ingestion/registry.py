"""The registry of organisations and platforms (config/members.yml) and coalition rules.

Loaded once per process into frozen dataclasses, so every component (simulator, intake,
warehouse export, DAGs) reads the same view of who reports what, in which format.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent


def config_dir() -> Path:
    """Where members.yml and coalition.yml live (EWTO_CONFIG_DIR overrides, for tests)."""
    return Path(os.environ.get("EWTO_CONFIG_DIR", REPO_ROOT / "config"))


@dataclass(frozen=True)
class ExportFormat:
    """How an organisation writes its files; the reader maps them onto the contract."""

    format: str = "csv"  # csv | xlsx | jsonl | parquet
    encoding: str = "utf-8"  # utf-8 | utf-16 | gb18030 | detect
    delimiter: str = ","
    decimal_comma: bool = False
    sheet: str | None = None
    timestamp_format: str | None = None  # None: ISO 8601
    columns: dict[str, str] = field(default_factory=dict)  # their header -> canonical
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # column -> spelling map


@dataclass(frozen=True)
class Organisation:
    id: str
    name: str
    kind: str  # member | monitor
    timezone: str
    synthetic: bool
    export: ExportFormat
    founding: bool = False
    joined: dt.date | None = None
    left: dt.date | None = None
    platforms: tuple[str, ...] = ()
    monitors: tuple[str, ...] = ()

    @property
    def is_member(self) -> bool:
        return self.kind == "member"

    def datasets(self) -> tuple[str, ...]:
        return ("takedowns",) if self.is_member else ("monitoring",)

    def active_in(self, month: dt.date) -> bool:
        """A member is active in a month when it was a member on any day of that month."""
        if not self.is_member or self.joined is None:
            return False
        first = month.replace(day=1)
        last = _month_end(first)
        return self.joined <= last and (self.left is None or self.left >= first)


@dataclass(frozen=True)
class Platform:
    id: str
    name: str
    member_id: str | None
    synthetic: bool


@dataclass(frozen=True)
class Registry:
    contract_version: int
    organisations: tuple[Organisation, ...]
    platforms: tuple[Platform, ...]

    def org(self, org_id: str) -> Organisation:
        for o in self.organisations:
            if o.id == org_id:
                return o
        raise KeyError(org_id)

    def has_org(self, org_id: str) -> bool:
        return any(o.id == org_id for o in self.organisations)

    @property
    def members(self) -> tuple[Organisation, ...]:
        return tuple(o for o in self.organisations if o.kind == "member")

    @property
    def monitors(self) -> tuple[Organisation, ...]:
        return tuple(o for o in self.organisations if o.kind == "monitor")

    def platform_ids(self) -> set[str]:
        return {p.id for p in self.platforms}


@dataclass(frozen=True)
class Coalition:
    target_reduction: float
    target_month: dt.date
    baseline_months: int
    founding_join_month: dt.date
    displacement_start: dt.date
    displacement_end: dt.date
    z: float
    due_day: int
    due_time_utc: dt.time
    raw: dict[str, Any]


def _month_end(first: dt.date) -> dt.date:
    nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return nxt - dt.timedelta(days=1)


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _month(value: Any) -> dt.date:
    return dt.date.fromisoformat(f"{value}-01") if len(str(value)) == 7 else _date(value)


def _export(raw: dict[str, Any] | None) -> ExportFormat:
    raw = dict(raw or {})
    values = {k: {str(a): str(b) for a, b in v.items()} for k, v in (raw.pop("values", {}) or {}).items()}
    cols = {str(a): str(b) for a, b in (raw.pop("columns", {}) or {}).items()}
    return ExportFormat(columns=cols, values=values, **raw)


def parse_registry(data: dict[str, Any]) -> Registry:
    orgs: list[Organisation] = []
    platforms: list[Platform] = []
    for o in data["organisations"]:
        org = Organisation(
            id=str(o["id"]),
            name=str(o["name"]),
            kind=o["kind"],
            timezone=o.get("timezone", "UTC"),
            synthetic=bool(o.get("synthetic", False)),
            export=_export(o.get("export")),
            founding=bool(o.get("founding", False)),
            joined=_date(o.get("joined")),
            left=_date(o.get("left")),
            platforms=tuple(str(p) for p in o.get("platforms", ())),
            monitors=tuple(str(p) for p in o.get("monitors", ())),
        )
        orgs.append(org)
        for pid in org.platforms:
            platforms.append(Platform(pid, org.name, org.id, org.synthetic))
    for p in data.get("non_member_platforms", ()):
        platforms.append(Platform(str(p["id"]), str(p["name"]), None, bool(p.get("synthetic", True))))
    return Registry(int(data.get("contract_version", 1)), tuple(orgs), tuple(platforms))


@lru_cache(maxsize=4)
def load_registry(path: Path | None = None) -> Registry:
    path = path or config_dir() / "members.yml"
    with open(path, encoding="utf-8") as fh:
        return parse_registry(yaml.safe_load(fh))


@lru_cache(maxsize=4)
def load_coalition(path: Path | None = None) -> Coalition:
    path = path or config_dir() / "coalition.yml"
    with open(path, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    return Coalition(
        target_reduction=float(raw["target"]["reduction"]),
        target_month=_month(raw["target"]["month"]),
        baseline_months=int(raw["baseline"]["months"]),
        founding_join_month=_month(raw["baseline"]["founding_join_month"]),
        displacement_start=_month(raw["baseline"]["displacement_start"]),
        displacement_end=_month(raw["baseline"]["displacement_end"]),
        z=float(raw["interval"]["z"]),
        due_day=int(raw["reporting"]["due_day"]),
        due_time_utc=dt.time.fromisoformat(str(raw["reporting"]["due_time_utc"])),
        raw=raw,
    )
