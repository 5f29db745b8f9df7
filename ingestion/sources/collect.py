"""Collect an organisation's new exports into `$EWTO_HOME/inbox/<org>/<dataset>/`, then
validate and land them with the intake's own functions (`ingestion.drops.ingest`, which
calls `ingestion.submission.submit_files`, the function behind `ewto submit`).

Fetching and landing are separate steps (and separate Airflow tasks): a file fetched but
not landed (a crash, a worker lost) is still in the inbox and is landed by the next
attempt, and a file landed is never landed again because the intake skips the bytes its
submission history already holds. The inbox file's modification time is its `received_at`:
the source's own mtime where it has one (a file dropped before the due time is on time
even when collected later), otherwise the time it was fetched.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from .config import SourceConfig, source_for
from .credentials import get_credentials
from .https import SourceError, Validators, fetch_file, fetch_records
from .periods import recent_periods, still_missing
from .state import FetchedState

log = logging.getLogger(__name__)

EXTENSIONS = {"csv": "csv", "xlsx": "xlsx", "jsonl": "jsonl", "parquet": "parquet"}

__all__ = [
    "FetchResult",
    "SourceError",
    "fetch_org",
    "inbox_dir",
    "land_org",
    "landed_since",
    "landed_since_last_build",
]


@dataclass
class FetchResult:
    org_id: str
    source: str
    fetched: list[dict[str, Any]] = field(default_factory=list)  # written to the inbox
    unchanged: int = 0  # seen before, same version or same bytes
    absent: list[str] = field(default_factory=list)  # dataset/period not published yet
    not_modified: list[str] = field(default_factory=list)  # API answered 304 (in `unchanged`)
    skipped: list[str] = field(default_factory=list)  # files ignored, with the reason

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _home_root(home: Any = None) -> Path:
    if isinstance(home, str | os.PathLike):  # a Path has a `.root` too ("/"): test it first
        return Path(home)
    if home is not None:
        return Path(home.root)
    return Path(os.environ.get("EWTO_HOME", "var")).resolve()


def inbox_dir(home: Any = None) -> Path:
    return _home_root(home) / "inbox"


def _datasets(org_id: str) -> tuple[str, ...]:
    from ingestion.registry import load_registry

    registry = load_registry()
    return registry.org(org_id).datasets() if registry.has_org(org_id) else ()


def _period_of(name: str) -> str | None:
    from ingestion.drops import period_from_name

    return period_from_name(name)


def _to_epoch(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).timestamp()
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _write_inbox(target_dir: Path, name: str, data: bytes, mtime: float) -> Path:
    """Write atomically under the source's name; a different file already there under that
    name (a member overwrote an export) gets a `__r<n>` suffix: nothing in the inbox is lost."""
    target_dir.mkdir(parents=True, exist_ok=True)
    path = target_dir / name
    n = 1
    while path.exists() and path.read_bytes() != data:
        n += 1
        stem, dot, ext = name.rpartition(".")
        path = target_dir / (f"{stem}__r{n}.{ext}" if dot else f"{name}__r{n}")
    tmp = target_dir / f".{path.name}.{os.getpid()}.tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.utime(tmp, (mtime, mtime))
    os.replace(tmp, path)
    return path


def _filesystem(cfg: SourceConfig) -> tuple[Any, str]:
    """(fsspec filesystem, root path) of a drop folder or SFTP source."""
    import fsspec

    creds = get_credentials(cfg.conn_id)
    if cfg.type == "sftp":
        kwargs: dict[str, Any] = dict(cfg.storage_options)
        host = cfg.host or (creds.host if creds else None)
        port = cfg.port or (creds.port if creds else None) or 22
        username = cfg.username or (creds.login if creds else None)
        if username:
            kwargs["username"] = username
        if creds is not None and creds.password:
            kwargs["password"] = creds.password
        if creds is not None and creds.extra.get("key_file"):
            kwargs["key_filename"] = creds.extra["key_file"]
        kwargs.setdefault("look_for_keys", False)
        kwargs.setdefault("allow_agent", False)
        kwargs.setdefault("timeout", cfg.timeout_seconds)
        fs = fsspec.filesystem("sftp", host=host, port=int(port), skip_instance_cache=True, **kwargs)
        return fs, cfg.path or "/"
    assert cfg.url
    options = dict(cfg.storage_options)
    if cfg.url.startswith(("s3://", "s3a://")):
        options = _s3_options(options, creds)
    fs, root = fsspec.core.url_to_fs(cfg.url, skip_instance_cache=True, **options)
    if cfg.url.startswith(("s3://", "s3a://")):
        bucket = root.split("/", 1)[0]
        if not fs.exists(bucket):
            endpoint = (
                options.get("client_kwargs", {}).get("endpoint_url")
                or os.environ.get("AWS_ENDPOINT_URL_S3")
                or os.environ.get("AWS_ENDPOINT_URL")
                or "AWS"
            )
            raise SourceError(f"{cfg.org_id}: bucket {bucket!r} of {cfg.url} does not exist at {endpoint}")
    return fs, root


def _s3_options(options: dict[str, Any], creds: Any) -> dict[str, Any]:
    """s3fs options of an S3-compatible drop folder. With a `conn_id` (an Airflow connection
    of type aws): login/password are the access key and secret, extra `endpoint_url` (or the
    host) the S3-compatible endpoint, extra `region_name` the region. Without one, botocore's
    own chain applies: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL_S3 (or
    AWS_ENDPOINT_URL), AWS_DEFAULT_REGION, ~/.aws, instance roles. Never from the repo."""
    options = {**options, "client_kwargs": dict(options.get("client_kwargs") or {})}
    if creds is not None:
        if creds.login:
            options.setdefault("key", creds.login)
        if creds.password:
            options.setdefault("secret", creds.password)
        endpoint = creds.extra.get("endpoint_url") or (
            creds.host if creds.host and "://" in creds.host else None
        )
        if endpoint:
            options["client_kwargs"].setdefault("endpoint_url", endpoint)
        if creds.extra.get("region_name"):
            options["client_kwargs"].setdefault("region_name", creds.extra["region_name"])
    if not options["client_kwargs"]:
        del options["client_kwargs"]
    return options


def _fetch_listing(
    cfg: SourceConfig,
    result: FetchResult,
    state: FetchedState,
    inbox_org: Path,
    periods: set[str] | None,
    now: float,
) -> None:
    try:
        fs, root = _filesystem(cfg)
    except SourceError:
        raise
    except Exception as exc:  # noqa: BLE001 - connection refused, auth failed, ...
        raise SourceError(f"{cfg.org_id}: cannot open {cfg.describe()}: {type(exc).__name__}: {exc}") from exc
    try:
        for dataset in _datasets(cfg.org_id):
            folder = f"{root.rstrip('/')}/{dataset}" if root not in ("", "/") else f"/{dataset}"
            if cfg.type == "drop" and "://" not in (cfg.url or "") and not Path(folder).is_dir():
                continue
            try:
                entries = fs.ls(folder, detail=True)
            except FileNotFoundError:
                continue
            for info in sorted(entries, key=lambda i: i["name"]):
                name = PurePosixPath(info["name"]).name
                if info.get("type") != "file" or name.startswith("."):
                    continue
                period = _period_of(name)
                if period is None:
                    result.skipped.append(f"{dataset}/{name}: no period (YYYY-MM) in the file name")
                    continue
                if periods is not None and period not in periods:
                    continue
                mtime = _to_epoch(info.get("mtime") or info.get("LastModified") or info.get("last_modified"))
                if mtime is not None and now - mtime < cfg.settle_seconds:
                    result.skipped.append(
                        f"{dataset}/{name}: modified {now - mtime:.0f} s ago, still settling"
                    )
                    continue
                key = f"{dataset}/{name}"
                version = f"{info.get('size')}:{info.get('ETag') or mtime}"
                if state.version(key) == version:
                    result.unchanged += 1
                    continue
                data = fs.cat_file(info["name"])
                sha = hashlib.sha256(data).hexdigest()
                if state.has_sha(sha):
                    state.record(key, version, sha, state.items.get(key, {}).get("inbox_path"))
                    result.unchanged += 1
                    continue
                when = mtime if (cfg.received_at == "source" and mtime is not None) else now
                path = _write_inbox(inbox_org / dataset, name, data, when)
                rel = path.relative_to(inbox_org.parent).as_posix()
                state.record(key, version, sha, rel)
                state.save()  # after each file: a crash re-downloads at most one
                result.fetched.append(
                    {"dataset": dataset, "period": period, "file": rel, "sha256": sha, "bytes": len(data)}
                )
    except SourceError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise SourceError(
            f"{cfg.org_id}: reading {cfg.describe()} failed: {type(exc).__name__}: {exc}"
        ) from exc
    finally:
        close = getattr(getattr(fs, "client", None), "close", None)
        if callable(close):
            close()


def _accepted() -> set[tuple[str, str, str]]:
    from ingestion.history import load_history
    from ingestion.paths import Home

    history = load_history(Home.from_env())
    acc = history.filter(history["status"] == "accepted")
    return set(acc.select("org_id", "dataset", "period").iter_rows())


def _fetch_https(
    cfg: SourceConfig,
    result: FetchResult,
    state: FetchedState,
    inbox_org: Path,
    periods: list[str] | None,
    now: float,
    today: dt.date,
) -> None:
    from ingestion.registry import load_registry

    org = load_registry().org(cfg.org_id)
    if periods is None:
        candidates = recent_periods(today, cfg.lookback_months)
        if org.is_member:
            candidates = [p for p in candidates if org.active_in(dt.date.fromisoformat(p + "-01"))]
        wanted = still_missing(cfg.org_id, org.datasets(), candidates, _accepted())
    else:
        wanted = [(ds, p) for p in periods for ds in org.datasets()]
    creds = get_credentials(cfg.conn_id)
    if creds is not None:
        log.info("%s: credentials of connection %r (%s)", cfg.org_id, creds.conn_id, creds.via)
    for dataset, period in wanted:
        key = f"{dataset}/{period}"
        etag, last_modified = state.validators(key)
        validators = Validators(etag, last_modified) if (etag or last_modified) else None
        if cfg.mode == "records":
            got = fetch_records(cfg, creds, dataset, period, validators)
            name = f"{cfg.org_id}_{dataset}_{period}.jsonl"
        else:
            got = fetch_file(cfg, creds, dataset, period, validators)
            ext = EXTENSIONS.get(org.export.format, "csv")
            name = (
                got.name
                if got.name and _period_of(got.name) == period
                else f"{cfg.org_id}_{dataset}_{period}.{ext}"
            )
        if got.not_modified:  # 304: the version recorded last time is still current
            state.checked(key)
            result.not_modified.append(key)
            result.unchanged += 1
            continue
        if got.data is None:
            result.absent.append(key)
            continue
        if got.records == 0:
            # a JSON Lines file cannot carry a header: a month with zero records becomes a
            # header-only CSV in the contract's names (a valid report of zero items)
            from ingestion.contract import column_names

            header = org.export.delimiter.join(column_names(dataset)) + "\n"
            got = replace(got, data=header.encode("utf-8"))
            name = f"{cfg.org_id}_{dataset}_{period}.csv"
        sha = hashlib.sha256(got.data).hexdigest()
        version = f"{got.version}:{sha[:16]}"
        if state.version(key) == version or state.has_sha(sha):
            # same bytes: keep the answer's validators, so the next request is conditional
            previous = state.items.get(key, {}).get("inbox_path")
            state.record(key, version, sha, previous, got.etag, got.last_modified)
            result.unchanged += 1
            continue
        when = got.modified if (cfg.received_at == "source" and got.modified is not None) else now
        path = _write_inbox(inbox_org / dataset, name, got.data, min(when, now))
        rel = path.relative_to(inbox_org.parent).as_posix()
        state.record(key, version, sha, rel, got.etag, got.last_modified)
        state.save()
        result.fetched.append(
            {"dataset": dataset, "period": period, "file": rel, "sha256": sha, "bytes": len(got.data)}
        )


def fetch_org(
    org_id: str,
    periods: list[str] | None = None,
    home: Any = None,
    today: dt.date | None = None,
    source: SourceConfig | None = None,
) -> FetchResult:
    """Fetch what is new at `org_id`'s source into the inbox; raise SourceError on failure.

    `periods` None: a listing source (drop folder, SFTP) takes every new file; an API is
    asked for the previous month and the months of the lookback still missing. With
    `periods`, only those months (backfill).
    """
    from ingestion.atomic import file_lock

    cfg = source or source_for(org_id)
    inbox_org = inbox_dir(home) / org_id
    inbox_org.mkdir(parents=True, exist_ok=True)
    result = FetchResult(org_id, cfg.describe())
    now = time.time()
    today = today or dt.datetime.now(dt.UTC).date()
    with file_lock(inbox_org / ".fetch.lock"):
        state = FetchedState.load(inbox_org, org_id)
        if cfg.listing:
            _fetch_listing(cfg, result, state, inbox_org, set(periods) if periods else None, now)
        else:
            _fetch_https(cfg, result, state, inbox_org, periods, now, today)
        state.save()
    return result


def land_org(org_id: str, home: Any = None) -> dict[str, Any]:
    """Validate and land the organisation's inbox files not yet submitted (`ewto ingest`'s
    function on the inbox). Returns counts per status and one line per submission."""
    from ingestion.drops import ingest
    from ingestion.paths import Home

    h = Home(_home_root(home)) if home is not None else Home.from_env()
    outcomes, skipped = ingest(inbox_dir(h), home=h, org_id=org_id)
    counts: dict[str, int] = {}
    lines = []
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
        line = f"{o.status} {o.request.dataset} {o.request.period} {o.request.path.name} ({o.rows} rows)"
        if o.status == "rejected":
            line += ": " + ", ".join(f"{f.rule}({f.column})" for f in o.failures)
        lines.append(line)
    return {
        "org_id": org_id,
        "counts": counts,
        "submissions": lines,
        "skipped": [f"{s.path.name}: {s.reason}" for s in skipped],
        "landed": counts.get("accepted", 0) + counts.get("rejected", 0),
    }


def landed_since(since: dt.datetime, home: Any = None) -> int:
    """Accepted or rejected submissions processed at or after `since` (what a build needs)."""
    import polars as pl

    from ingestion.history import load_history
    from ingestion.paths import Home

    h = Home(_home_root(home)) if home is not None else Home.from_env()
    if since.tzinfo is not None:
        since = since.astimezone(dt.UTC).replace(tzinfo=None)
    history = load_history(h)
    return history.filter(
        pl.col("status").is_in(["accepted", "rejected"]) & (pl.col("processed_at") >= since)
    ).height


def landed_since_last_build(home: Any = None) -> int:
    """Accepted or rejected submissions processed since the last successful warehouse build
    started (all of them before the first build): what the marts do not hold yet, whichever
    way it arrived (a collection run, `ewto submit`, an upload through the API)."""
    from ingestion.paths import Home
    from ingestion.warehouse import last_build_started

    h = Home(_home_root(home)) if home is not None else Home.from_env()
    return landed_since(last_build_started(h) or dt.datetime(1970, 1, 1), h)
