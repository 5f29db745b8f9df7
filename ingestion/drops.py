"""Drop folders: `DIR/<org_id>/<dataset>/<file>`, the way members deliver files.

The period comes from the file name (the first YYYY-MM in it) and `received_at` from the
file's modification time, i.e. when it arrived. A file is new when its checksum has not
been submitted for that organisation, dataset and period, so re-running ingest is a no-op.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from .contract import DATASETS
from .history import load_history
from .paths import Home
from .registry import Registry, load_registry
from .submission import SubmissionOutcome, SubmissionRequest, submit_files

PERIOD_RE = re.compile(r"(?<!\d)(\d{4})-(0[1-9]|1[0-2])(?!\d)")


@dataclass(frozen=True)
class Skipped:
    path: Path
    reason: str


def period_from_name(name: str) -> str | None:
    m = PERIOD_RE.search(name)
    return f"{m.group(1)}-{m.group(2)}" if m else None


def discover(
    drop_dir: Path, registry: Registry, org_id: str | None = None
) -> tuple[list[SubmissionRequest], list[Skipped]]:
    """All files in the drop folders, as submission requests, oldest arrival first."""
    requests: list[SubmissionRequest] = []
    skipped: list[Skipped] = []
    orgs = (
        [org_id]
        if org_id
        else sorted(p.name for p in drop_dir.iterdir() if p.is_dir())
        if drop_dir.exists()
        else []
    )
    for org in orgs:
        if not registry.has_org(org):
            skipped.append(Skipped(drop_dir / org, f"folder {org!r} is not an organisation of the registry"))
            continue
        for dataset in DATASETS:
            folder = drop_dir / org / dataset
            if not folder.is_dir():
                continue
            for path in sorted(folder.iterdir()):
                if not path.is_file() or path.name.startswith("."):
                    continue
                period = period_from_name(path.name)
                if period is None:
                    skipped.append(Skipped(path, "no period (YYYY-MM) in the file name"))
                    continue
                received = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
                requests.append(SubmissionRequest(org, dataset, period, path, received))
    requests.sort(key=lambda r: (r.received_at, str(r.path)))
    return requests, skipped


def _already_submitted(requests: Iterable[SubmissionRequest], home: Home) -> list[SubmissionRequest]:
    history = load_history(home)
    seen = set(
        history.select(pl.concat_str(["org_id", "dataset", "period", "sha256"], separator="|"))
        .to_series()
        .to_list()
    )
    fresh = []
    for r in requests:
        sha = hashlib.sha256(r.path.read_bytes()).hexdigest()
        if f"{r.org_id}|{r.dataset}|{r.period}|{sha}" not in seen:
            fresh.append(r)
    return fresh


def new_files(
    drop_dir: Path, home: Home | None = None, registry: Registry | None = None, org_id: str | None = None
) -> tuple[list[SubmissionRequest], list[Skipped]]:
    home = home or Home.from_env()
    registry = registry or load_registry()
    requests, skipped = discover(drop_dir, registry, org_id)
    return _already_submitted(requests, home), skipped


def ingest(
    drop_dir: Path, home: Home | None = None, registry: Registry | None = None, org_id: str | None = None
) -> tuple[list[SubmissionOutcome], list[Skipped]]:
    """Submit every new file of the drop folders, one batch per organisation."""
    home = home or Home.from_env()
    registry = registry or load_registry()
    fresh, skipped = new_files(drop_dir, home, registry, org_id)
    outcomes: list[SubmissionOutcome] = []
    by_org: dict[str, list[SubmissionRequest]] = {}
    for r in fresh:
        by_org.setdefault(r.org_id, []).append(r)
    for org in sorted(by_org):
        outcomes.extend(submit_files(by_org[org], home, registry))
    return outcomes, skipped
