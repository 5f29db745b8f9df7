"""Build the warehouse with dbt and publish the analysts' copy of the marts.

dbt runs as a subprocess: importing dbt costs seconds and its global state does not
belong in a long-lived Airflow worker or CLI process. dbt is the only writer of
`build/warehouse.duckdb`; after `dbt build` (models and tests) succeeds, the warehouse
file is copied byte for byte (dbt has closed it) and, in the copy, everything but schema
`marts` is dropped; the copy then atomically replaces `marts.duckdb`, so an analyst never
sees a half-built mart and a failed build leaves the previous marts in place. A file copy
costs what the disk costs (seconds for gigabytes); re-inserting every mart row into a new
database cost more than the incremental dbt build itself.

Two choices keep an incremental build cheap (benchmarks/README.md):
- the evaluation date goes to dbt in the environment (`EWTO_AS_OF_DATE`), not in `--vars`:
  a changed `--vars` value makes dbt re-parse the whole project, while the macros read the
  environment variable only when dbt executes (not when it parses), so a new date re-parses
  nothing;
- scheduled builds leave dbt's unit tests out: they test the SQL, not the data, and run in
  CI (`make test`) and with `ewto build --unit-tests`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from .atomic import file_lock, write_bytes, write_parquet
from .lake import ensure_layout
from .paths import Home
from .registry import REPO_ROOT, Coalition, Registry, load_coalition, load_registry

DBT_PROJECT = REPO_ROOT / "dbt_project"


@dataclass(frozen=True)
class BuildResult:
    ok: bool
    seconds: float
    marts: dict[str, int]  # mart -> rows
    log_tail: str


def export_registry(home: Home, registry: Registry) -> None:
    """The registry as Parquet, the warehouse's source of organisations and platforms."""
    orgs = pl.DataFrame(
        [
            {
                "org_id": o.id,
                "name": o.name,
                "kind": o.kind,
                "founding": o.founding,
                "synthetic": o.synthetic,
                "joined": o.joined,
                "left_on": o.left,
                "timezone": o.timezone,
            }
            for o in registry.organisations
        ],
        schema={
            "org_id": pl.String,
            "name": pl.String,
            "kind": pl.String,
            "founding": pl.Boolean,
            "synthetic": pl.Boolean,
            "joined": pl.Date,
            "left_on": pl.Date,
            "timezone": pl.String,
        },
    )
    platforms = pl.DataFrame(
        [
            {"platform_id": p.id, "name": p.name, "member_id": p.member_id, "synthetic": p.synthetic}
            for p in registry.platforms
        ],
        schema={"platform_id": pl.String, "name": pl.String, "member_id": pl.String, "synthetic": pl.Boolean},
    )
    write_parquet(home.registry / "organisations.parquet", orgs)
    write_parquet(home.registry / "platforms.parquet", platforms)


def dbt_vars(coalition: Coalition) -> dict[str, object]:
    """The coalition's parameters as dbt vars: they change only with config/coalition.yml."""
    raw = coalition.raw
    return {
        "target_reduction": coalition.target_reduction,
        "target_month": coalition.target_month.isoformat(),
        "baseline_months": coalition.baseline_months,
        "founding_join_month": coalition.founding_join_month.isoformat(),
        "displacement_baseline_start": coalition.displacement_start.isoformat(),
        "displacement_baseline_end": coalition.displacement_end.isoformat(),
        "z": coalition.z,
        "due_day": coalition.due_day,
        "due_time_utc": coalition.due_time_utc.isoformat(),
        "proactive_sources": list(raw.get("proactive_sources", [])),
        "repeat_seller_window_months": int(raw.get("repeat_seller_window_months", 12)),
    }


def dbt_env(home: Home, as_of: dt.date | None = None) -> dict[str, str]:
    env = dict(os.environ)
    if as_of is not None:
        env["EWTO_AS_OF_DATE"] = as_of.isoformat()  # read by the macro as_of_value()
    env.update(
        {
            "EWTO_HOME": str(home.root),
            "DBT_TARGET_PATH": str(home.build_dir / "target"),
            "DBT_LOG_PATH": str(home.build_dir / "logs"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
            "DO_NOT_TRACK": "1",
        }
    )
    return env


def dbt_executable() -> str:
    local = Path(sys.executable).parent / "dbt"
    return str(local) if local.exists() else (shutil.which("dbt") or "dbt")


def as_of_date(value: str | None = None) -> dt.date:
    """The evaluation date of reporting discipline: argument, EWTO_AS_OF, or today (UTC)."""
    raw = value or os.environ.get("EWTO_AS_OF")
    if not raw:
        return dt.datetime.now(dt.UTC).date()
    if len(raw) == 7:  # YYYY-MM: the last day of that month
        first = dt.date.fromisoformat(raw + "-01")
        return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return dt.date.fromisoformat(raw)


def run_dbt(home: Home, args: list[str], as_of: dt.date) -> subprocess.CompletedProcess[str]:
    cmd = [
        dbt_executable(),
        *args,
        "--project-dir",
        str(DBT_PROJECT),
        "--profiles-dir",
        str(DBT_PROJECT),
        "--vars",
        json.dumps(dbt_vars(load_coalition()), sort_keys=True),
    ]
    return subprocess.run(cmd, env=dbt_env(home, as_of), capture_output=True, text=True, check=False)


def connect_marts(home: Home) -> duckdb.DuckDBPyConnection:
    """A read-only connection where `marts.<table>` resolves.

    DuckDB names a file's catalog after the file, so in `marts.duckdb` the name `marts`
    is both a catalog and a schema; attaching the file as `ewto` avoids the ambiguity.
    """
    con = duckdb.connect()
    path = str(home.marts).replace("'", "''")
    con.execute(f"ATTACH '{path}' AS ewto (READ_ONLY)")
    con.execute("USE ewto.marts")
    return con


def publish(home: Home) -> dict[str, int]:
    """Copy the warehouse file, keep only schema `marts` in the copy, swap it in atomically.

    Called after dbt has exited, so the warehouse file is closed and consistent (dbt-duckdb
    checkpoints on close; a leftover WAL is folded in by the CHECKPOINT below). The copy is
    written beside `marts.duckdb` and renamed over it: a reader that opened the old file
    keeps reading it, a new reader opens the new one, nobody sees a partial file.
    """
    tmp = home.root / f"next-marts-{os.getpid()}.duckdb"  # not "marts.*": DuckDB names the catalog after it
    tmp.unlink(missing_ok=True)
    wal = Path(str(home.warehouse) + ".wal")
    if wal.exists():
        duckdb.connect(str(home.warehouse)).execute("CHECKPOINT").close()
    shutil.copyfile(home.warehouse, tmp)
    counts: dict[str, int] = {}
    try:
        con = duckdb.connect(str(tmp))
        try:
            catalog = con.execute("SELECT current_database()").fetchone()[0]
            schemas = [
                r[0]
                for r in con.execute(
                    "SELECT schema_name FROM duckdb_schemas() WHERE database_name = ? "
                    "AND NOT internal AND schema_name NOT IN ('marts', 'main')",
                    [catalog],
                ).fetchall()
            ]
            for schema in schemas:
                con.execute(f'DROP SCHEMA "{schema}" CASCADE')
            for name in [
                r[0]
                for r in con.execute(
                    "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main'",
                    [catalog],
                ).fetchall()
            ]:
                con.execute(f'DROP TABLE main."{name}"')
            tables = [
                r[0]
                for r in con.execute(
                    "SELECT table_name FROM duckdb_tables() WHERE database_name = ? "
                    "AND schema_name = 'marts' ORDER BY table_name",
                    [catalog],
                ).fetchall()
            ]
            for name in tables:
                counts[name] = con.execute(f'SELECT count(*) FROM marts."{name}"').fetchone()[0]
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp, home.marts)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return counts


def build(
    home: Home | None = None,
    as_of: dt.date | None = None,
    full_refresh: bool = False,
    unit_tests: bool = False,
) -> BuildResult:
    """Export the registry, run `dbt build` (models + data tests), publish on success.

    `unit_tests=True` also runs dbt's unit tests (CI does; a scheduled build need not: they
    do not depend on the data).

    Builds are serialised by a lock file (`locks/warehouse-build.lock`): the warehouse DAG,
    the monthly-cycle DAG and `ewto build` may be started at the same time, and two dbt
    processes on one DuckDB file fail on its write lock; the second build waits and then
    builds what the lake holds by then. A successful build records when it started
    (`build/last_build.json`): a submission processed after that instant is not yet in the
    marts, which is how the collection DAG knows that an upload through the API still needs
    a build (`ingestion.sources.landed_since_last_build`).
    """
    home = home or Home.from_env()
    as_of = as_of or as_of_date()
    ensure_layout(home)
    lock = home.locks / "warehouse-build.lock"
    with file_lock(lock, waiting=f"another warehouse build is running: waiting for it to finish ({lock})"):
        return _build_locked(home, as_of, full_refresh, unit_tests)


def last_build_started(home: Home) -> dt.datetime | None:
    """Start (naive UTC) of the last successful build, or None before the first one."""
    path = home.build_dir / "last_build.json"
    try:
        return dt.datetime.fromisoformat(json.loads(path.read_text())["started_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _build_locked(home: Home, as_of: dt.date, full_refresh: bool, unit_tests: bool) -> BuildResult:
    started_utc = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    export_registry(home, load_registry())
    home.build_dir.mkdir(parents=True, exist_ok=True)
    start = dt.datetime.now()
    args = ["build"] + (["--full-refresh"] if full_refresh else [])
    if not unit_tests:
        args += ["--exclude-resource-type", "unit_test"]
    proc = run_dbt(home, args, as_of)
    seconds = (dt.datetime.now() - start).total_seconds()
    tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
    if proc.returncode != 0:
        return BuildResult(False, seconds, {}, tail)
    marts = publish(home)
    stamp = {"started_at": started_utc.isoformat(), "as_of": as_of.isoformat(), "seconds": round(seconds, 1)}
    write_bytes(home.build_dir / "last_build.json", json.dumps(stamp).encode("utf-8"))
    return BuildResult(True, seconds, marts, tail)
