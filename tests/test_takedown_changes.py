"""The change log of fct_takedowns: incremental builds check and recompute only what changed,
and a duplicate in a newly appended submission still fails every build until it is fixed.

The two uniqueness tests on fct_takedowns check only the submissions appended since they
last passed, and the KPI marts recompute only the member-months whose takedowns changed
(dbt_project/macros/ewto_takedown_changes.sql). A small simulated coalition (SYNTHETIC data)
is ingested and built; a new month arrives and one of its landed lake files is tampered with
(a row given the record id and row number of another: the duplicate the intake would never
let through, so only these tests can catch it). Everything runs through the real `ewto`
command in a temporary $EWTO_HOME.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
EWTO = BIN / "ewto"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not EWTO.exists(), reason="ewto executable not found"),
    pytest.mark.skipif(not (BIN / "dbt").exists(), reason="dbt executable not found"),
]

START, END, NEW = "2018-02", "2018-03", "2018-04"
SCALE, SEED = 0.002, 11
ORGS = ("baidu", "google", "microsoft", "traffic")
UNIQUE_TESTS = ("unique_fct_takedowns_takedown_key", "unique_combination_of_columns_fct_takedowns")


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "EWTO_HOME": str(home),
            "EWTO_AS_OF": "2018-05-31",
            "EWTO_PSEUDONYM_KEY": "test-key-for-changes-0123456789abcdef0123",
            "PATH": f"{BIN}:{env.get('PATH', '')}",
        }
    )
    return env


def ewto(home: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(EWTO), *args], env=_env(home), capture_output=True, text=True, cwd=REPO, timeout=900
    )
    if ok:
        assert proc.returncode == 0, (
            f"ewto {' '.join(args)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        )
    return proc


def test_statuses(home: Path) -> dict[str, str]:
    """Status of the uniqueness tests on fct_takedowns in the last dbt run."""
    rr = json.loads((home / "build" / "target" / "run_results.json").read_text())
    out = {}
    for r in rr["results"]:
        name = r["unique_id"].split(".")[2]
        if name.startswith(UNIQUE_TESTS):
            out[name.split("_fct_takedowns")[0]] = r["status"]
    return out


test_statuses.__test__ = False  # a helper, not a test


def compiled(home: Path, *parts: str) -> str:
    return (home / "build" / "target" / "compiled" / "ewto" / Path(*parts)).read_text()


def published_rows(home: Path, table: str) -> int:
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{home / 'marts.duckdb'}' AS m (READ_ONLY)")
        return con.execute(f"select count(*) from m.marts.{table}").fetchone()[0]
    finally:
        con.close()


@pytest.fixture(scope="module")
def coalition(tmp_path_factory: pytest.TempPathFactory):
    from ingestion.simulate import simulate

    root = tmp_path_factory.mktemp("changes")
    home, simulated, drops, later = root / "home", root / "simulated", root / "drops", root / "later"
    simulate(simulated, START, END, SCALE, SEED)
    for org in ORGS:
        shutil.copytree(simulated / org, drops / org)
    ewto(home, "ingest", "--from", str(drops))
    ewto(home, "build")
    summary = simulate(later, NEW, NEW, SCALE, SEED)
    for f in summary.files:
        if f.org_id in ORGS:
            dst = drops / f.path
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(later / f.path, dst)
    ewto(home, "ingest", "--from", str(drops))
    yield home
    shutil.rmtree(root, ignore_errors=True)


def test_duplicate_in_new_submission_fails_until_fixed(coalition: Path):
    home = coalition
    before = published_rows(home, "fct_takedowns")
    files = sorted((home / "lake" / "takedowns").glob(f"org_id=*/period={NEW}/*.parquet"))
    assert files, "no takedowns landed for the new month"
    target = max(files, key=lambda p: pl.read_parquet(p).height)
    original = pl.read_parquet(target)
    assert original.height >= 2
    # row 2 becomes a second copy of row 1's key and record id; the row count is unchanged,
    # so the reconciliation with the submission history still agrees: only the uniqueness
    # tests can see it
    tampered = original.with_columns(
        pl.when(pl.int_range(pl.len()) == 1)
        .then(pl.lit(original["record_id"][0]))
        .otherwise(pl.col("record_id"))
        .alias("record_id"),
        pl.when(pl.int_range(pl.len()) == 1)
        .then(pl.lit(original["source_row"][0]))
        .otherwise(pl.col("source_row"))
        .alias("source_row"),
    )
    tampered.write_parquet(target)

    first = ewto(home, "build", ok=False)
    assert first.returncode != 0, "a duplicate in a new submission must fail the build"
    assert test_statuses(home) == {"unique": "fail", "unique_combination_of_columns": "fail"}
    assert "fct_takedowns__changes" in compiled(
        home, "models", "marts", "_facts.yml", "unique_fct_takedowns_takedown_key.sql"
    )
    assert published_rows(home, "fct_takedowns") == before  # nothing published

    # the rows are in the warehouse now, but the check keeps its scope: the next build fails too
    again = ewto(home, "build", ok=False)
    assert again.returncode != 0, "the duplicate appended by a failed build must fail the next one"
    assert test_statuses(home) == {"unique": "fail", "unique_combination_of_columns": "fail"}

    # fixed at the source, a full rebuild checks everything and passes
    original.write_parquet(target)
    ewto(home, "build", "--full-refresh")
    assert test_statuses(home) == {"unique": "pass", "unique_combination_of_columns": "pass"}
    assert published_rows(home, "fct_takedowns") > before

    # nothing new: the next build checks no submission and recomputes no member-month
    ewto(home, "build")
    assert test_statuses(home) == {"unique": "pass", "unique_combination_of_columns": "pass"}
    assert "-- 0 changed member-month(s)" in compiled(
        home, "models", "marts", "kpi_member_monthly_breakdown.sql"
    )
    assert (
        "recompute as (\n    -- the member-months whose takedowns changed since the last run (0)"
        in compiled(home, "models", "marts", "kpi_member_monthly.sql")
    )


def _copy_of(home: Path, tmp_path: Path) -> Path:
    """A copy of the module's $EWTO_HOME (lake, warehouse, dbt's target), to change freely."""
    copy = tmp_path / "home"
    shutil.copytree(home, copy, ignore=shutil.ignore_patterns("*.lock"))
    return copy


def _statuses_of(home: Path, test: str) -> list[str]:
    rr = json.loads((home / "build" / "target" / "run_results.json").read_text())
    return [r["status"] for r in rr["results"] if r["unique_id"].split(".")[2] == test]


def test_a_missing_reference_of_fct_takedowns_fails(coalition: Path, tmp_path: Path):
    """assert_takedown_references (the four relationships of fct_takedowns in one test) passes
    on the built warehouse and names each reference that points nowhere."""
    import datetime as dt

    from ingestion.paths import Home
    from ingestion.warehouse import run_dbt

    home = Home(_copy_of(coalition, tmp_path))
    args = ["test", "--select", "assert_takedown_references"]
    clean = run_dbt(home, args, dt.date(2018, 5, 31))
    assert clean.returncode == 0, clean.stdout[-3000:]
    assert _statuses_of(home.root, "assert_takedown_references") == ["pass"]

    con = duckdb.connect(str(home.warehouse))
    try:
        con.execute(
            "insert into marts.fct_takedowns select * replace ("
            " takedown_key || ':x' as takedown_key, 'nowhere' as platform_id, 'unicorn_horn' as commodity)"
            " from marts.fct_takedowns limit 1"
        )
    finally:
        con.close()
    broken = run_dbt(home, args, dt.date(2018, 5, 31))
    assert broken.returncode != 0, broken.stdout[-3000:]
    assert _statuses_of(home.root, "assert_takedown_references") == ["fail"]
    assert "Got 2 results" in broken.stdout, broken.stdout[-3000:]  # platform_id and commodity


def test_a_new_evaluation_date_reparses_nothing(coalition: Path, tmp_path: Path):
    """EWTO_AS_OF_DATE is read when dbt executes, not when it parses (macro as_of_value): a
    build on a new date reuses the parsed project as it is, and the new date still reaches
    the SQL."""
    import datetime as dt

    from ingestion.paths import Home
    from ingestion.warehouse import run_dbt

    home = Home(_copy_of(coalition, tmp_path))
    args = ["compile", "--select", "int_months"]
    first = run_dbt(home, args, dt.date(2018, 5, 31))  # a new home path: dbt parses once here
    assert first.returncode == 0, first.stdout[-3000:]
    log = home.build_dir / "logs" / "dbt.log"
    seen = log.stat().st_size
    second = run_dbt(home, args, dt.date(2018, 6, 30))
    assert second.returncode == 0, second.stdout[-3000:]
    with log.open(encoding="utf-8", errors="replace") as f:
        f.seek(seen)
        this_run = f.read()
    assert "Nothing changed, skipping partial parsing" in this_run, this_run[:3000]
    assert "2018-06-01" in compiled(home.root, "models", "intermediate", "int_months.sql")
