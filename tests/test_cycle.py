"""The whole monthly cycle on simulated data, through the real `ewto` command and Airflow.

One small simulated coalition (2017-01..2018-12, so the founding baseline 2017-03..2018-02
and the first months after launch are covered) is ingested, built and reported twice:
once with the CLI and once through the `ewto_monthly_cycle` DAG; both must give the same
marts, and running the cycle again must change nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MARTS = [
    "kpi_reduction_progress",
    "kpi_member_monthly",
    "kpi_submission_compliance",
    "fct_takedowns",
    "fct_monitoring",
    "dim_member",
    "dim_platform",
    "dim_commodity",
]
# columns that record when a run happened, not what the data say
RUN_TIME_COLUMNS = {"processed_at"}


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "EWTO_HOME": str(home),
            "EWTO_AS_OF": "2019-01-31",
            "EWTO_PSEUDONYM_KEY": "test-key-for-the-cycle-0123456789abcdef",
            "PATH": f"{BIN}:{env.get('PATH', '')}",
        }
    )
    env.update(extra)
    return env


def ewto(home: Path, *args: str, check: bool = True, **extra: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(BIN / "ewto"), *args], env=_env(home, **extra), capture_output=True, text=True, cwd=REPO
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def marts(home: Path) -> dict[str, pl.DataFrame]:
    con = duckdb.connect()
    con.execute(f"ATTACH '{home / 'marts.duckdb'}' AS ewto (READ_ONLY)")
    out = {}
    for (name,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name='ewto' AND schema_name='marts'"
    ).fetchall():
        frame = con.execute(f"SELECT * FROM ewto.marts.{name}").pl()
        frame = frame.drop([c for c in frame.columns if c in RUN_TIME_COLUMNS])
        out[name] = frame.sort(frame.columns, nulls_last=True)
    con.close()
    return out


@pytest.fixture(scope="module")
def drops(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("drops")
    proc = ewto(
        out, "simulate", "--out", str(out), "--start", "2017-01", "--end", "2018-12", "--scale", "0.002"
    )
    assert "SYNTHETIC" in proc.stdout
    return out


@pytest.fixture(scope="module")
def cli_home(drops: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("cli_home")
    ingest = ewto(home, "ingest", "--from", str(drops))
    assert "rejected" in ingest.stdout  # the simulator plants invalid files
    ewto(home, "build", "--unit-tests")  # CI runs dbt's unit tests here; scheduled builds skip them
    return home


def test_build_ran_every_dbt_unit_test_and_data_test(cli_home: Path) -> None:
    results = json.loads((cli_home / "build" / "target" / "run_results.json").read_text())["results"]
    by_kind: dict[str, list[str]] = {}
    for r in results:
        by_kind.setdefault(r["unique_id"].split(".")[0], []).append(r["status"])
    assert len(by_kind.get("unit_test", [])) >= 23, sorted(by_kind)
    assert len(by_kind.get("test", [])) >= 50
    failed = [r["unique_id"] for r in results if r["status"] not in ("pass", "success")]
    assert not failed, failed


def test_ingest_accepts_valid_files_and_rejects_planted_invalid_ones(drops: Path, cli_home: Path) -> None:
    history = pl.read_parquet(cli_home / "history" / "submissions" / "*.parquet")
    rejected = set(history.filter(pl.col("status") == "rejected")["file_name"].to_list())
    assert rejected, "planted invalid files must be rejected"
    # nothing of a rejected file is in the lake
    lake_ids = {p.stem for p in (cli_home / "lake").rglob("*.parquet") if p.name != "_schema.parquet"}
    rejected_ids = set(history.filter(pl.col("status") == "rejected")["submission_id"].to_list())
    assert not lake_ids & rejected_ids


def test_every_mart_is_published_in_schema_marts(cli_home: Path) -> None:
    published = marts(cli_home)
    for name in MARTS:
        assert name in published, name
    assert published["fct_takedowns"].height > 0
    assert published["dim_member"].height == 47


def test_takedown_rows_reconcile_with_accepted_submissions(cli_home: Path) -> None:
    history = pl.read_parquet(cli_home / "history" / "submissions" / "*.parquet")
    current = (
        history.filter(pl.col("status") == "accepted")
        .sort(["received_at", "processed_at", "submission_id"])
        .group_by(["org_id", "dataset", "period"])
        .agg(pl.col("rows").last())
    )
    expected = current.filter(pl.col("dataset") == "takedowns")["rows"].sum()
    published = marts(cli_home)
    assert published["fct_takedowns"].height == expected
    assert published["kpi_member_monthly"]["items_actioned"].sum() == expected


def test_kpi_headline_answers_the_80_percent_question(cli_home: Path) -> None:
    out = json.loads(ewto(cli_home, "kpi", "--as-of", "2018-12", "--json").stdout)
    assert out["month"] == "2018-12"
    assert out["reduction_ci_low"] <= out["reduction_pct"] <= out["reduction_ci_high"]
    # 2018-12 is 10 of the 34 months from the baseline's last month (2018-02) to 2020-12
    assert out["target_reduction_pct"] == pytest.approx(0.80 * 10 / 34)
    assert out["on_track"] == (out["reduction_pct"] >= out["target_reduction_pct"])
    assert out["items_actioned_total"] > 0
    assert set(out["compliance"]) <= {"on_time", "late", "rejected", "missing", "pending"}
    text = ewto(cli_home, "kpi", "--as-of", "2018-12").stdout
    assert "SYNTHETIC" in text and "Target path" in text


def test_rerunning_the_cycle_changes_nothing(drops: Path, cli_home: Path) -> None:
    before = marts(cli_home)
    again = ewto(cli_home, "ingest", "--from", str(drops))
    assert "no new files" in again.stdout
    # a build waits while another holds the warehouse lock (the monthly-cycle and warehouse
    # DAGs and `ewto build` may start together): it neither fails on DuckDB's write lock nor
    # builds until the other has finished
    from ingestion.atomic import file_lock
    from ingestion.paths import Home
    from ingestion.warehouse import last_build_started

    with file_lock(cli_home / "locks" / "warehouse-build.lock"):
        waiting = subprocess.Popen(
            [str(BIN / "ewto"), "build"],
            env=_env(cli_home),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        try:
            waiting.wait(timeout=8)
        except subprocess.TimeoutExpired:
            pass
        assert waiting.poll() is None, "the build did not wait for the lock"
        released = datetime.now(UTC).replace(tzinfo=None)
    out, err = waiting.communicate(timeout=900)
    assert waiting.returncode == 0, out + err
    assert "another warehouse build is running" in err and "Traceback" not in err
    assert last_build_started(Home(cli_home)) >= released  # it built only after the release
    after = marts(cli_home)
    assert before.keys() == after.keys()
    for name in before:
        assert before[name].equals(after[name]), name


def test_identifiers_never_stored_in_clear(drops: Path, cli_home: Path) -> None:
    sample = next((drops / "etsy" / "takedowns").glob("*.csv"))
    frame = pl.read_csv(sample, separator="\t", infer_schema=False)
    secrets = [
        v.encode() for v in frame["seller_id"].head(20).to_list() + frame["record_id"].head(20).to_list()
    ]
    for path in cli_home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in secrets:
                assert secret not in data, f"{secret!r} found in {path}"


def test_the_dag_gives_the_same_marts_as_the_cli(drops: Path, cli_home: Path, tmp_path: Path) -> None:
    home = tmp_path / "dag_home"
    env = _env(
        home,
        AIRFLOW_HOME=str(home / "airflow"),
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        EWTO_DROP_DIR=str(drops),
        PYTHONPATH=str(REPO),
    )
    (home / "airflow").mkdir(parents=True)
    migrate = subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True)
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    run = subprocess.run(
        [str(BIN / "airflow"), "dags", "test", "ewto_monthly_cycle"], env=env, capture_output=True, text=True
    )
    log = run.stdout + run.stderr
    assert run.returncode == 0 and "state=success" in log, log[-3000:]
    assert "Coalition reduction" in (home / "headline.txt").read_text()
    by_dag, by_cli = marts(home), marts(cli_home)
    for name in MARTS:
        assert by_dag[name].equals(by_cli[name]), name
