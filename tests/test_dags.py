"""The DAG files: they import without errors, parse fast, import nothing heavy at parse
time, and the collection runs end to end with `dag.test()` on a tiny drop folder.

Each measurement runs in a fresh interpreter (subprocess) so that what this pytest process
already imported cannot hide a slow or heavy DAG file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DAGS = REPO / "dags"
DAG_FILES = sorted(p for p in DAGS.glob("*.py") if not p.name.startswith("_"))
HEAVY = ("great_expectations", "dbt", "polars", "duckdb")
PARSE_BUDGET_S = 2.0


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "EWTO_"))}
    env.update(
        {
            "AIRFLOW_HOME": str(tmp / "airflow"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "PYTHONPATH": str(REPO),
        }
    )
    env.update(extra)
    return env


def _run(code: str, env: dict[str, str], timeout: float = 300) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_dagbag_imports_without_errors(tmp_path: Path) -> None:
    out = _run(
        f"""
        import json, sys
        from airflow.dag_processing.dagbag import DagBag
        bag = DagBag(dag_folder={str(DAGS)!r})
        heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})
        print(json.dumps({{"errors": {{k: str(v) for k, v in bag.import_errors.items()}},
                          "dags": sorted(bag.dag_ids), "heavy": heavy}}))
        """,
        _env(tmp_path),
    )
    assert out["errors"] == {}
    assert {"ewto_collect", "ewto_warehouse"} <= set(out["dags"])
    assert out["heavy"] == [], f"heavy modules imported while parsing dags/: {out['heavy']}"


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=lambda p: p.name)
def test_parse_time_and_no_heavy_imports(dag_file: Path, tmp_path: Path) -> None:
    """The time DagBag takes for this one file, after the Task SDK itself is warm (a
    trivial DAG parsed first), in a fresh interpreter; and what the file imported."""
    warm = tmp_path / "warm"
    warm.mkdir()
    (warm / "trivial.py").write_text(
        "from datetime import datetime\nfrom airflow.sdk import dag, task\n"
        "@dag(schedule=None, start_date=datetime(2024, 1, 1))\ndef trivial():\n"
        "    @task\n    def t(): pass\n    t()\ntrivial()\n"
    )
    out = _run(
        f"""
        import json, sys, time
        from airflow.dag_processing.dagbag import DagBag
        DagBag(dag_folder={str(warm)!r})
        t = time.perf_counter()
        bag = DagBag(dag_folder={str(dag_file)!r})
        seconds = time.perf_counter() - t
        heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})
        print(json.dumps({{"seconds": seconds, "errors": len(bag.import_errors), "dags": len(bag.dags),
                          "heavy": heavy}}))
        """,
        _env(tmp_path),
    )
    print(f"{dag_file.name}: parsed in {out['seconds']:.3f} s")
    assert out["errors"] == 0 and out["dags"] >= 1
    assert out["heavy"] == [], f"{dag_file.name} imports {out['heavy']} at parse time"
    assert out["seconds"] < PARSE_BUDGET_S, f"{dag_file.name} took {out['seconds']:.2f} s to parse"


TAKEDOWNS_CSV = """\
record_id,content_type,detected_at,actioned_at,detection_source,detection_stage,action_type,commodity,seller_id
r1,listing,2021-03-01T10:00:00,2021-03-01T12:00:00,automated_text,pre_publication,blocked,ivory,s1
r2,post,2021-03-02T08:00:00,2021-03-03T09:30:00,user_report,post_publication,removed,pangolin,s2
r3,listing,2021-03-05T00:00:00,2021-03-05T01:00:00,ngo_referral,post_publication,removed,ivory,s1
"""


@pytest.mark.integration
def test_collect_dag_test_on_a_tiny_drop_folder(tmp_path: Path) -> None:
    """`dag.test()` of ewto_collect: one member delivers into its drop folder, another's
    API is down. The delivery is fetched into the inbox, landed (accepted), the lake asset
    is announced; the failing source fails its own fetch only, the run shows failed, and
    the operator alert names the organisation."""
    from ingestion.sources.demo import small_config

    drops, home = tmp_path / "drops", tmp_path / "home"
    f = drops / "instagram" / "takedowns" / "instagram_takedowns_2021-03.csv"
    f.parent.mkdir(parents=True)
    f.write_text(TAKEDOWNS_CSV)
    os.utime(f, (1617000000, 1617000000))  # 2021-03-29: delivered on time
    config = small_config(
        tmp_path / "config",
        ["instagram", "pinterest"],
        {
            "pinterest": {
                "type": "https",
                "url": "http://127.0.0.1:9/api/{org}/{dataset}",
                "retries": 0,
                "timeout_seconds": 2,
            }
        },
    )
    env = _env(
        tmp_path,
        EWTO_HOME=str(home),
        EWTO_DROP_DIR=str(drops),
        EWTO_CONFIG_DIR=str(config),
        EWTO_FETCH_RETRIES="0",
        EWTO_RETRY_DELAY_SECONDS="1",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{tmp_path / 'airflow.db'}",
    )
    migrate = subprocess.run(
        [str(Path(sys.executable).parent / "airflow"), "db", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    out = _run(
        f"""
        import json
        from airflow.dag_processing.dagbag import DagBag
        bag = DagBag(dag_folder={str(DAGS / "ewto_collect.py")!r})
        dag = bag.get_dag("ewto_collect")
        run = dag.test(run_conf={{"period": "2021-03"}})
        tis = {{f"{{ti.task_id}}[{{ti.rendered_map_index or ti.map_index}}]": str(ti.state)
               for ti in run.get_task_instances()}}
        print(json.dumps({{"state": str(run.state), "tis": tis}}))
        """,
        env,
        timeout=900,
    )
    tis = out["tis"]
    assert tis["member.fetch[instagram]"] == "success", tis
    assert tis["member.land[instagram]"] == "success", tis
    assert tis["member.fetch[pinterest]"] == "failed", tis
    assert tis["member.land[pinterest]"] == "success", tis  # nothing to land, no harm
    assert tis["announce[-1]"] == "success", tis
    assert tis["sources_ok[-1]"] == "upstream_failed", tis
    assert out["state"] == "failed"

    inbox = home / "inbox" / "instagram" / "takedowns" / f.name
    assert inbox.read_bytes() == f.read_bytes() and inbox.stat().st_mtime == 1617000000
    fetched = json.loads((home / "inbox" / "instagram" / "_fetched.json").read_text())
    assert list(fetched["items"]) == [f"takedowns/{f.name}"]
    reports = list((home / "reports").glob("instagram_takedowns_2021-03_*.json"))
    assert len(reports) == 1 and json.loads(reports[0].read_text())["status"] == "accepted"
    assert (
        len(list((home / "lake" / "takedowns" / "org_id=instagram" / "period=2021-03").glob("*.parquet")))
        == 1
    )
    alerts = [json.loads(line) for line in (home / "operator_alerts.jsonl").read_text().splitlines()]
    assert [(a["task_id"], a["org_id"]) for a in alerts] == [("member.fetch", "pinterest")], alerts

    # the next collection run fetches nothing new; the submission landed above is still not
    # in the marts (no build ran), so it announces the lake again: uploads through the API
    # and `ewto submit` reach the warehouse the same way
    rerun = f"""
        import json
        from airflow.dag_processing.dagbag import DagBag
        bag = DagBag(dag_folder={str(DAGS / "ewto_collect.py")!r})
        run = bag.get_dag("ewto_collect").test(run_conf={{"period": "2021-03", "orgs": ["instagram"]}})
        print(json.dumps({{ti.task_id: str(ti.state) for ti in run.get_task_instances()}}))
        """
    again = _run(rerun, env, timeout=900)
    assert again["announce"] == "success", again
    # once a build has started after that landing, there is nothing to announce
    from datetime import UTC, datetime

    stamp = {"started_at": datetime.now(UTC).replace(tzinfo=None).isoformat()}
    (home / "build").mkdir(parents=True, exist_ok=True)
    (home / "build" / "last_build.json").write_text(json.dumps(stamp))
    quiet = _run(rerun, env, timeout=900)
    assert quiet["announce"] == "skipped", quiet


# ---- schedules: monthly for the previous month, daily re-checks, backfill -----------------
def test_collection_schedules(tmp_path: Path) -> None:
    """Which runs each collection DAG's timetable makes between two dates, and which months
    each run collects (ingestion.sources.periods.periods_of_run on its logical date)."""
    out = _run(
        f"""
        import json
        from datetime import datetime, UTC
        from airflow.dag_processing.dagbag import DagBag
        from airflow.serialization.encoders import coerce_to_core_timetable
        from airflow.timetables.base import TimeRestriction
        from ingestion.sources.periods import periods_of_run
        bag = DagBag(dag_folder={str(DAGS / "ewto_collect.py")!r})
        out = {{}}
        for dag_id, kind in (("ewto_collect", "monthly"), ("ewto_recheck", "recheck")):
            tt = coerce_to_core_timetable(bag.dags[dag_id].timetable)
            window = TimeRestriction(datetime(2021, 1, 15, tzinfo=UTC), datetime(2021, 4, 3, 23, tzinfo=UTC), True)
            runs, last = [], None
            while (info := tt.next_dagrun_info(last_automated_data_interval=last, restriction=window)):
                at = info.data_interval.end
                runs.append([at.isoformat(), periods_of_run(kind, at.date())])
                last = info.data_interval
            out[dag_id] = {{"runs": runs, "summary": tt.summary}}
        print(json.dumps(out))
        """,
        _env(tmp_path),
    )
    monthly = out["ewto_collect"]["runs"]
    assert monthly == [
        ["2021-02-01T06:00:00+00:00", ["2021-01"]],
        ["2021-03-01T06:00:00+00:00", ["2021-02"]],
        ["2021-04-01T06:00:00+00:00", ["2021-03"]],
    ]
    recheck = out["ewto_recheck"]["runs"]
    days = [r[0][:10] for r in recheck]
    assert len(days) == 17 + 27 + 30 + 2 and days[0] == "2021-01-15" and days[-1] == "2021-04-03"
    assert not any(d.endswith("-01") for d in days)  # the 1st is the monthly run's
    assert all(r[0].endswith("T06:00:00+00:00") and r[1] is None for r in recheck)

    from ingestion.sources.periods import periods_of_run

    assert periods_of_run("recheck", __import__("datetime").date(2021, 4, 9), "2021-01..2021-02") == [
        "2021-01",
        "2021-02",
    ]


@pytest.fixture(scope="module")
def airflow_sqlite(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A migrated Airflow metadata database (SQLite) shared by this module's DAG runs."""
    tmp = tmp_path_factory.mktemp("airflow-db")
    env = _env(tmp, AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{tmp / 'airflow.db'}")
    migrate = subprocess.run(
        [str(AIRFLOW), "db", "migrate"], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    return {"tmp": tmp, "env": env}


AIRFLOW = Path(sys.executable).parent / "airflow"


@pytest.mark.integration
def test_backfill_and_https_over_tls_with_a_stored_connection(airflow_sqlite: dict, tmp_path: Path) -> None:
    """`airflow backfill create` over three months makes one monthly run per month; the run
    of logical date 2021-04-01 collects 2021-03 only. pinterest's API is HTTPS with a private
    CA (ca_bundle in the connection's extra) and its bearer token is stored only in the
    metadata database (`airflow connections add`): the fetch task gets it through the Task
    SDK's connection lookup, not from an AIRFLOW_CONN_* variable."""
    import secrets

    sys.path.insert(0, str(REPO / "tests"))
    from test_sources import ExportServer, _certificates

    from ingestion.sources.demo import small_config

    env = dict(airflow_sqlite["env"])
    drops, home = tmp_path / "drops", tmp_path / "home"
    for period in ("2021-02", "2021-03"):
        f = drops / "instagram" / "takedowns" / f"instagram_takedowns_{period}.csv"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(TAKEDOWNS_CSV.replace("2021-03", period))
        os.utime(f, (1617000000, 1617000000))
    certs = _certificates(tmp_path / "tls")
    token = secrets.token_urlsafe(16)
    conn_id = f"ewto_api_{secrets.token_hex(3)}"
    with ExportServer(token, certs) as srv:
        for period in ("2021-02", "2021-03"):
            body = TAKEDOWNS_CSV.replace("2021-03", period).replace("instagram", "pinterest").encode()
            srv.files[("takedowns", period)] = (body, 1617000000)
        config = small_config(
            tmp_path / "config",
            ["instagram", "pinterest"],
            {
                "pinterest": {
                    "type": "https",
                    "mode": "file",
                    "url": srv.url + "/api/{org}/{dataset}",
                    "conn_id": conn_id,
                    "retries": 0,
                }
            },
        )
        env.update(
            EWTO_HOME=str(home),
            EWTO_DROP_DIR=str(drops),
            EWTO_CONFIG_DIR=str(config),
            EWTO_FETCH_RETRIES="0",
            EWTO_RETRY_DELAY_SECONDS="1",
        )
        assert not any(k.startswith("AIRFLOW_CONN_") for k in env)
        airflow = [str(AIRFLOW)]
        add = subprocess.run(
            [
                *airflow,
                "connections",
                "add",
                conn_id,
                "--conn-type",
                "http",
                # one argument: a token may start with "-" (token_urlsafe), which argparse
                # would take for an option when given as the next argument
                f"--conn-password={token}",
                "--conn-extra",
                json.dumps({"ca_bundle": str(certs["ca"])}),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert add.returncode == 0, add.stdout + add.stderr
        subprocess.run(
            [*airflow, "dags", "reserialize"], env=env, capture_output=True, timeout=300, check=True
        )
        dry = subprocess.run(
            [
                *airflow,
                "backfill",
                "create",
                "--dag-id",
                "ewto_collect",
                "--from-date",
                "2021-01-15",
                "--to-date",
                "2021-04-02",
                "--dry-run",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert dry.returncode == 0, dry.stdout[-2000:] + dry.stderr[-2000:]
        import re

        planned = sorted(set(re.findall(r"(\d{4}-\d{2}-\d{2})[ T]06:00:00", dry.stdout)))
        assert planned == ["2021-02-01", "2021-03-01", "2021-04-01"], dry.stdout

        out = _run(
            f"""
            import json
            from datetime import datetime, UTC
            from airflow.dag_processing.dagbag import DagBag
            bag = DagBag(dag_folder={str(DAGS / "ewto_collect.py")!r})
            run = bag.dags["ewto_collect"].test(logical_date=datetime(2021, 4, 1, 6, tzinfo=UTC))
            tis = {{f"{{ti.task_id}}[{{ti.rendered_map_index or ti.map_index}}]": str(ti.state)
                   for ti in run.get_task_instances()}}
            print(json.dumps({{"state": str(run.state), "tis": tis}}))
            """,
            env,
            timeout=900,
        )
        answers = list(srv.answers)
    assert out["state"] == "success", out
    assert answers == [200], answers  # one request: 2021-03, over TLS, the token accepted
    inbox = home / "inbox"
    assert sorted(p.name for p in inbox.rglob("*_takedowns_*")) == [
        "instagram_takedowns_2021-03.csv",
        "pinterest_takedowns_2021-03.csv",
    ]
    for org in ("instagram", "pinterest"):
        lake = home / "lake" / "takedowns" / f"org_id={org}"
        assert [p.name for p in lake.iterdir()] == ["period=2021-03"], org


@pytest.mark.integration
def test_failing_warehouse_build_is_recorded_for_the_operator(airflow_sqlite: dict, tmp_path: Path) -> None:
    """A real `ewto_warehouse` run whose dbt build fails (the warehouse file is corrupt): the
    run fails, the report is not written, the published marts stay as they were (none
    here), and the failure callback appends to $EWTO_HOME/operator_alerts.jsonl which DAG,
    run and task failed and dbt's own error."""
    home = tmp_path / "home"
    (home / "build").mkdir(parents=True)
    (home / "build" / "warehouse.duckdb").write_bytes(b"this is not a DuckDB file\n" * 200)
    env = dict(airflow_sqlite["env"], EWTO_HOME=str(home), EWTO_AS_OF="2021-04-30")
    out = _run(
        f"""
        import json
        from airflow.dag_processing.dagbag import DagBag
        bag = DagBag(dag_folder={str(DAGS / "ewto_warehouse.py")!r})
        run = bag.dags["ewto_warehouse"].test()
        print(json.dumps({{"state": str(run.state), "run_id": run.run_id,
                          "tis": {{ti.task_id: str(ti.state) for ti in run.get_task_instances()}}}}))
        """,
        env,
        timeout=900,
    )
    assert out["state"] == "failed", out
    assert out["tis"] == {"build": "failed", "report": "upstream_failed"}, out
    assert not (home / "marts.duckdb").exists() and not (home / "headline.txt").exists()
    alerts = [json.loads(line) for line in (home / "operator_alerts.jsonl").read_text().splitlines()]
    tasks = [a for a in alerts if a["scope"] == "task"]
    assert len(tasks) == 1 and tasks[0]["task_id"] == "build", alerts
    alert = tasks[0]
    assert alert["dag_id"] == "ewto_warehouse" and alert["run_id"] == out["run_id"], alert
    assert alert["error"].startswith("RuntimeError: dbt build failed; the published marts are unchanged")
    assert "warehouse.duckdb" in alert["error"] or "DuckDB" in alert["error"], alert["error"]
    assert alert["what_to_do"] == "see docs/operations.md, 'When the warehouse build fails'"
    for run_alert in (a for a in alerts if a["scope"] == "dag"):  # the run's own callback
        assert run_alert["dag_id"] == "ewto_warehouse" and run_alert["run_id"] == out["run_id"]
