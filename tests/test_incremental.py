"""An incremental `ewto build` gives the same marts as a full rebuild.

A small simulated coalition (SYNTHETIC data) is ingested and built; then a new month arrives
for some members, one takedowns period is replaced by a corrected file with one row fewer
and another by a header-only file (a valid report of zero items), both received later, and
one monitoring period is replaced by a corrected file (one row fewer, more adverts in another
row). After
ingesting those, an incremental `ewto build` must publish exactly the marts that
`ewto build --full-refresh` publishes from the same state: every table of `marts.duckdb`,
compared row for row (sorted by all columns).

Everything runs through the real `ewto` command in a temporary $EWTO_HOME. `ewto build`
leaves dbt's unit tests out (they do not depend on the data; test_cycle runs them with
`--unit-tests`); the data tests (reconciliations included) do run.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
EWTO = BIN / "ewto"

pytestmark = [
    pytest.mark.integration,  # 2 ingests + 3 builds: 3.6 min on a shared 2-core VM (load 4-5)
    pytest.mark.skipif(not EWTO.exists(), reason="ewto executable not found"),
    pytest.mark.skipif(not (BIN / "dbt").exists(), reason="dbt executable not found"),
]

START, END, NEW = "2018-02", "2018-04", "2018-05"  # founding members report from 2018-03
SCALE, SEED = 0.002, 11
AS_OF = "2018-06-30"
# the organisations that deliver to this small coalition (fewer files: a faster test); the
# other members owe exports too and show up as missing
DROP_ORGS = ("baidu", "baixing", "google", "microsoft", "tencent", "traffic", "ifaw")
NEW_MONTH_MEMBERS = 3  # members (of DROP_ORGS) whose 2018-05 export arrives, plus the NGOs'
REPLACED = ("baidu", "2018-04")  # corrected file: one row fewer
EMPTIED = ("baixing", "2018-03")  # replaced by a header-only file
MONITORING_REPLACED = ("traffic", "2018-04")  # corrected monitoring file: one row fewer, +5 adverts


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "EWTO_HOME": str(home),
            "EWTO_AS_OF": AS_OF,
            "EWTO_PSEUDONYM_KEY": "test-key-for-incremental-0123456789abcdef",
            "PATH": f"{BIN}:{env.get('PATH', '')}",
        }
    )
    return env


def ewto(home: Path, *args: str) -> str:
    proc = subprocess.run(
        [str(EWTO), *args], env=_env(home), capture_output=True, text=True, cwd=REPO, timeout=900
    )
    assert proc.returncode == 0, (
        f"ewto {' '.join(args)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    )
    return proc.stdout


def marts(home: Path) -> dict[str, pl.DataFrame]:
    """Every table of the published marts, sorted by all its columns."""
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{home / 'marts.duckdb'}' AS m (READ_ONLY)")
        names = [
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where database_name = 'm' and schema_name = 'marts'"
            ).fetchall()
        ]
        out = {}
        for name in sorted(names):
            df = con.execute(f'select * from m.marts."{name}"').pl()
            out[name] = df.sort(df.columns, nulls_last=True)
        return out
    finally:
        con.close()


def _stamp(path: Path, when: dt.datetime) -> None:
    os.utime(path, (when.timestamp(), when.timestamp()))


def _header_and_rows(path: Path) -> tuple[str, list[str]]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return lines[0], lines[1:]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):
    from ingestion.simulate import simulate

    root = tmp_path_factory.mktemp("incremental")
    home, simulated, drops, later = root / "home", root / "simulated", root / "drops", root / "later"
    timings: dict[str, float] = {}

    def timed(name: str, fn, *args):  # noqa: ANN001, ANN202
        t0 = time.perf_counter()
        out = fn(*args)
        timings[name] = time.perf_counter() - t0
        return out

    timed("simulate", simulate, simulated, START, END, SCALE, SEED)
    for org in DROP_ORGS:
        shutil.copytree(simulated / org, drops / org)  # copies keep the arrival times (mtime)
    timed("ingest 1", ewto, home, "ingest", "--from", str(drops))
    timed("build 1 (first, full)", ewto, home, "build")
    first = marts(home)

    # --- what arrives next ---------------------------------------------------------------
    # a new month for some members and the NGOs (the simulator's output for one month does
    # not depend on the simulated range, except which files it makes invalid: those are
    # copied too, with their corrected resubmission when there is one)
    summary = timed("simulate new month", simulate, later, NEW, NEW, SCALE, SEED)
    current = {}  # (org, dataset) -> the file that ends up current: the latest valid version
    for f in sorted(summary.files, key=lambda f: f.version):
        if f.org_id in DROP_ORGS and f.defect is None:
            current[(f.org_id, f.dataset)] = f
    members = sorted(org for org, ds in current if ds == "takedowns")[:NEW_MONTH_MEMBERS]
    chosen = set(members) | {org for org, ds in current if ds == "monitoring"}
    assert len(members) >= 2 and len(chosen) > len(members), summary.as_text()
    for f in summary.files:
        if f.org_id in chosen:
            dst = drops / f.path
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(later / f.path, dst)  # keeps the simulated arrival time (mtime)
    new_takedowns = [
        f for (org, ds), f in current.items() if org in members and ds == "takedowns" and f.rows > 0
    ]

    # a corrected resubmission of one period (one row fewer) and a header-only replacement of
    # another, received ten days after the original (drop folder: received_at = mtime)
    replacements = {}
    for (org, period), keep_rows in ((REPLACED, -1), (EMPTIED, 0)):
        original = drops / org / "takedowns" / f"{org}_takedowns_{period}.csv"
        header, rows = _header_and_rows(original)
        assert len(rows) >= 2, f"{original} has too few rows for this test"
        kept = rows[:keep_rows] if keep_rows else []
        fixed = original.with_name(f"{org}_takedowns_{period}_v3.csv")
        fixed.write_text("\n".join([header, *kept]) + "\n", encoding="utf-8")
        _stamp(fixed, dt.datetime.fromtimestamp(original.stat().st_mtime, dt.UTC) + dt.timedelta(days=10))
        replacements[(org, period)] = len(kept)

    # a corrected monitoring file of an earlier period, received ten days after the original:
    # the last row dropped and 5 more adverts in the first (a correction that changes the
    # platform-month sums, the prevalence series and the coalition/displacement series)
    org, period = MONITORING_REPLACED
    original = drops / org / "monitoring" / f"{org}_monitoring_{period}.csv"
    rows = list(csv.DictReader(io.StringIO(original.read_text(encoding="utf-8"))))
    assert len(rows) >= 2, f"{original} has too few rows for this test"
    rows = rows[:-1]
    rows[0]["new_adverts_found"] = str(int(rows[0]["new_adverts_found"]) + 5)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    fixed = original.with_name(f"{org}_monitoring_{period}_v3.csv")
    fixed.write_text(out.getvalue(), encoding="utf-8")
    _stamp(fixed, dt.datetime.fromtimestamp(original.stat().st_mtime, dt.UTC) + dt.timedelta(days=10))
    monitoring_fix = {"rows": len(rows), "first": rows[0]}

    timed("ingest 2", ewto, home, "ingest", "--from", str(drops))
    timed("build 2 (incremental)", ewto, home, "build")
    compiled = (
        home / "build" / "target" / "compiled" / "ewto" / "models" / "marts" / "fct_takedowns.sql"
    ).read_text()
    compiled_monitoring = (
        home
        / "build"
        / "target"
        / "compiled"
        / "ewto"
        / "models"
        / "intermediate"
        / "int_monitoring_current.sql"
    ).read_text()
    incremental = marts(home)
    timed("build 3 (--full-refresh)", ewto, home, "build", "--full-refresh")
    full = marts(home)

    print("\ntest_incremental timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
    yield {
        "first": first,
        "incremental": incremental,
        "full": full,
        "compiled": compiled,
        "compiled_monitoring": compiled_monitoring,
        "new_monitoring": [
            f for (org, ds), f in current.items() if org in chosen and ds == "monitoring" and f.rows > 0
        ],
        "monitoring_fix": monitoring_fix,
        "new_takedowns": new_takedowns,
        "replacements": replacements,
    }
    shutil.rmtree(root, ignore_errors=True)


def test_incremental_build_equals_full_refresh(run):
    inc, full = run["incremental"], run["full"]
    assert sorted(inc) == sorted(full)
    assert {"fct_takedowns", "fct_monitoring", "kpi_member_monthly", "kpi_reduction_progress"} <= set(inc)
    for name in sorted(full):
        a, b = inc[name], full[name]
        assert a.schema == b.schema, name
        assert a.height == b.height, f"{name}: {a.height} rows incremental, {b.height} after --full-refresh"
        assert a.equals(b), f"{name} differs between the incremental build and --full-refresh"


def test_incremental_run_read_only_the_new_submissions(run):
    # 2018-05 takedowns of the new members plus the corrected baidu 2018-04 file; the
    # header-only replacement adds no rows (its predecessor's rows are deleted by the pre-hook)
    m = re.search(r"-- (\d+) new current submission", run["compiled"])
    assert m, "fct_takedowns did not run incrementally"
    assert int(m.group(1)) == len(run["new_takedowns"]) + 1


def test_new_month_and_replacements_reached_the_marts(run):
    first, inc = run["first"], run["incremental"]
    fct0, fct = first["fct_takedowns"], inc["fct_takedowns"]
    month = dt.date.fromisoformat(NEW + "-01")
    assert fct0.filter(pl.col("month") == month).height == 0
    assert fct.filter(pl.col("month") == month).height == sum(f.rows for f in run["new_takedowns"])
    for (org, period), rows in run["replacements"].items():
        before = fct0.filter((pl.col("member_id") == org) & (pl.col("period") == period))
        after = fct.filter((pl.col("member_id") == org) & (pl.col("period") == period))
        assert after.height == rows and before.height > rows
        assert after["submission_id"].unique().to_list() != before["submission_id"].unique().to_list()
        kpi = inc["kpi_member_monthly"].filter(
            (pl.col("member_id") == org) & (pl.col("month") == dt.date.fromisoformat(period + "-01"))
        )
        assert kpi["items_actioned"].to_list() == [rows]
    # the zero-row replacement: reported, zero items, no rates (not reported is not zero)
    org, period = EMPTIED
    empty = inc["kpi_member_monthly"].filter(
        (pl.col("member_id") == org) & (pl.col("month") == dt.date.fromisoformat(period + "-01"))
    )
    assert empty["proactive_rate"].to_list() == [None]


def test_monitoring_resubmission_reached_the_marts_incrementally(run):
    # int_monitoring_current ran incrementally: the NGOs' new month plus the corrected file
    m = re.search(r"-- (\d+) new current submission", run["compiled_monitoring"])
    assert m, "int_monitoring_current did not run incrementally"
    assert int(m.group(1)) == len(run["new_monitoring"]) + 1
    org, period = MONITORING_REPLACED
    fix = run["monitoring_fix"]
    mon0 = run["first"]["fct_monitoring"].filter((pl.col("org_id") == org) & (pl.col("period") == period))
    mon = run["incremental"]["fct_monitoring"].filter(
        (pl.col("org_id") == org) & (pl.col("period") == period)
    )
    assert mon.height == fix["rows"] == mon0.height - 1
    assert mon["submission_id"].n_unique() == 1 and mon["submission_id"][0] not in set(mon0["submission_id"])
    first = mon.filter(pl.col("source_row") == mon["source_row"].min()).row(0, named=True)
    assert first["new_adverts_found"] == int(fix["first"]["new_adverts_found"])
    # the corrected counts changed the platform's prevalence series for that month, and the
    # incremental marts equal the full refresh (test_incremental_build_equals_full_refresh)
    month = dt.date.fromisoformat(period + "-01")
    platform = fix["first"]["platform_id"]

    def series(marts: dict[str, pl.DataFrame]) -> pl.DataFrame:
        return marts["kpi_reduction_progress"].filter(
            (pl.col("scope") == "platform") & (pl.col("platform_id") == platform) & (pl.col("month") == month)
        )

    before, after = series(run["first"]), series(run["incremental"])
    assert after.height == 1 and not after.equals(before)
    assert after.equals(series(run["full"]))
