"""End-to-end check of the dbt project on a tiny hand-made $EWTO_HOME.

The fixture writes the files the intake lands (lake/, history/, registry/) directly with
pyarrow, runs `dbt build` (models, seeds, unit tests, data tests) as a subprocess against a
DuckDB file in a temporary folder, and compares the KPI marts with numbers computed by hand
(the arithmetic is in the comments next to each literal).

Fixture (as_of = 2021-04-10, other vars at their defaults):
  alpha   founding member (joined 2018-03-07), platform alpha, in the coalition panel
  beta    late joiner (joined 2021-02-10, baseline 2020-02..2021-01, i.e. ends after the
          2020-12 target month), left 2021-04-20, platform beta
  forum_x non-member platform (displacement)
  traffic monitoring organisation
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
duckdb = pytest.importorskip("duckdb")

REPO = Path(__file__).resolve().parent.parent
DBT_PROJECT = REPO / "dbt_project"
DBT = Path(sys.executable).parent / "dbt"
if not DBT.exists():
    DBT = REPO / ".venv" / "bin" / "dbt"

pytestmark = [
    pytest.mark.integration,  # one `dbt build` per module, about 40 s; deselect with -m "not integration"
    pytest.mark.skipif(not DBT.exists(), reason="dbt executable not found"),
    pytest.mark.skipif(not DBT_PROJECT.exists(), reason="dbt project not found"),
]

AS_OF = "2021-04-10"

# ---------------------------------------------------------------------------------------------
# Schemas of the files the intake writes (the dbt sources read them by column name).
# ---------------------------------------------------------------------------------------------
TS = pa.timestamp("us")
TAKEDOWNS = pa.schema(
    [
        ("submission_id", pa.string()),
        ("org_id", pa.string()),
        ("period", pa.string()),
        ("source_row", pa.int64()),
        ("record_id", pa.string()),
        ("content_type", pa.string()),
        ("detected_at", TS),
        ("actioned_at", TS),
        ("detection_source", pa.string()),
        ("detection_stage", pa.string()),
        ("action_type", pa.string()),
        ("commodity", pa.string()),
        ("seller_id", pa.string()),
        ("platform_id", pa.string()),
        ("species_scientific_name", pa.string()),
        ("cites_appendix", pa.string()),
        ("seller_country", pa.string()),
        ("price", pa.float64()),
        ("currency", pa.string()),
        ("appealed", pa.bool_()),
        ("restored", pa.bool_()),
        ("referral_id", pa.string()),
    ]
)
MONITORING = pa.schema(
    [
        ("submission_id", pa.string()),
        ("org_id", pa.string()),
        ("period", pa.string()),
        ("source_row", pa.int64()),
        ("survey_id", pa.string()),
        ("platform_id", pa.string()),
        ("window_start", pa.date32()),
        ("window_end", pa.date32()),
        ("keyword_id", pa.string()),
        ("language", pa.string()),
        ("queries_run", pa.int64()),
        ("new_adverts_found", pa.int64()),
        ("adverts_referred", pa.int64()),
        ("commodity", pa.string()),
    ]
)
SUBMISSIONS = pa.schema(
    [
        ("submission_id", pa.string()),
        ("org_id", pa.string()),
        ("dataset", pa.string()),
        ("period", pa.string()),
        ("status", pa.string()),
        ("received_at", TS),
        ("processed_at", TS),
        ("file_name", pa.string()),
        ("size_bytes", pa.int64()),
        ("sha256", pa.string()),
        ("rows", pa.int64()),
        ("contract_version", pa.int32()),
        ("failures", pa.int32()),
        ("warnings", pa.int32()),
    ]
)
CHECKS = pa.schema(
    [
        ("submission_id", pa.string()),
        ("rule", pa.string()),
        ("column_name", pa.string()),
        ("severity", pa.string()),
        ("success", pa.bool_()),
        ("rows_checked", pa.int64()),
        ("rows_failing", pa.int64()),
        ("examples", pa.string()),
    ]
)
ORGANISATIONS = pa.schema(
    [
        ("org_id", pa.string()),
        ("name", pa.string()),
        ("kind", pa.string()),
        ("founding", pa.bool_()),
        ("synthetic", pa.bool_()),
        ("joined", pa.date32()),
        ("left_on", pa.date32()),
        ("timezone", pa.string()),
    ]
)
PLATFORMS = pa.schema(
    [
        ("platform_id", pa.string()),
        ("name", pa.string()),
        ("member_id", pa.string()),
        ("synthetic", pa.bool_()),
    ]
)


def _hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _write(path: Path, schema: pa.Schema, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist(rows, schema=schema) if rows else schema.empty_table()
    pq.write_table(table, path)


def _month(year: int, month: int, day: int = 1) -> dt.date:
    return dt.date(year, month, day)


def _ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


class Home:
    """Writes an $EWTO_HOME the way the intake lays it out."""

    def __init__(self, root: Path):
        self.root = root
        self.submissions: list[dict] = []
        for sub, schema in (
            ("lake/takedowns", TAKEDOWNS),
            ("lake/monitoring", MONITORING),
            ("history/submissions", SUBMISSIONS),
            ("history/checks", CHECKS),
        ):
            _write(root / sub / "_schema.parquet", schema, [])
        (root / "build").mkdir(parents=True, exist_ok=True)

    def submit(
        self,
        sid: str,
        org: str,
        dataset: str,
        period: str,
        status: str,
        received: str,
        rows: list[dict] | None = None,
        *,
        history: bool = True,
    ) -> None:
        rows = rows or []
        schema = TAKEDOWNS if dataset == "takedowns" else MONITORING
        if status == "accepted" or not history:  # only accepted files land (orphans: no history)
            full = [
                {"submission_id": sid, "org_id": org, "period": period, "source_row": i + 1, **r}
                for i, r in enumerate(rows)
            ]
            _write(
                self.root / "lake" / dataset / f"org_id={org}" / f"period={period}" / f"{sid}.parquet",
                schema,
                full,
            )
        if not history:
            return
        received_at = _ts(received)
        failing = status == "rejected"
        _write(
            self.root / "history" / "submissions" / f"{sid}.parquet",
            SUBMISSIONS,
            [
                {
                    "submission_id": sid,
                    "org_id": org,
                    "dataset": dataset,
                    "period": period,
                    "status": status,
                    "received_at": received_at,
                    "processed_at": received_at + dt.timedelta(seconds=5),
                    "file_name": f"{org}_{period}.csv",
                    "size_bytes": 100 + len(rows),
                    "sha256": _hex(sid),
                    "rows": len(rows),
                    "contract_version": 1,
                    "failures": 1 if failing else 0,
                    "warnings": 0,
                }
            ],
        )
        _write(
            self.root / "history" / "checks" / f"{sid}.parquet",
            CHECKS,
            [
                {
                    "submission_id": sid,
                    "rule": "required_columns",
                    "column_name": None,
                    "severity": "blocking",
                    "success": True,
                    "rows_checked": len(rows),
                    "rows_failing": 0,
                    "examples": "[]",
                },
                {
                    "submission_id": sid,
                    "rule": "in_domain",
                    "column_name": "commodity",
                    "severity": "blocking",
                    "success": not failing,
                    "rows_checked": len(rows),
                    "rows_failing": 1 if failing else 0,
                    "examples": "[2]" if failing else "[]",
                },
            ],
        )


def takedown(
    n: str,
    seller: str,
    detected: str,
    hours: float,
    source: str,
    stage: str,
    *,
    appealed: bool = False,
    restored: bool = False,
    platform: str = "alpha",
) -> dict:
    detected_at = _ts(detected)
    return {
        "record_id": _hex("record-" + n),
        "content_type": "listing",
        "detected_at": detected_at,
        "actioned_at": detected_at + dt.timedelta(hours=hours),
        "detection_source": source,
        "detection_stage": stage,
        "action_type": "removed",
        "commodity": "ivory",
        "seller_id": _hex("seller-" + seller),
        "platform_id": platform,
        "species_scientific_name": None,
        "cites_appendix": "I" if n.endswith("1") else None,
        "seller_country": "CN",
        "price": 100.0,
        "currency": "CNY",
        "appealed": appealed,
        "restored": restored,
        "referral_id": None,
    }


def monitoring_row(platform: str, month: dt.date, queries: int, adverts: int) -> dict:
    return {
        "survey_id": f"survey-{month:%Y%m}",
        "platform_id": platform,
        "window_start": month,
        "window_end": month + dt.timedelta(days=6),
        "keyword_id": "kw-ivory-01",
        "language": "zh",
        "queries_run": queries,
        "new_adverts_found": adverts,
        "adverts_referred": 0,
        "commodity": "ivory",
    }


def build_fixture(root: Path) -> None:
    home = Home(root)
    reg = root / "registry"
    _write(
        reg / "organisations.parquet",
        ORGANISATIONS,
        [
            dict(
                org_id="alpha",
                name="Alpha (synthetic)",
                kind="member",
                founding=True,
                synthetic=True,
                joined=dt.date(2018, 3, 7),
                left_on=None,
                timezone="UTC",
            ),
            dict(
                org_id="beta",
                name="Beta (synthetic)",
                kind="member",
                founding=False,
                synthetic=True,
                joined=dt.date(2021, 2, 10),
                left_on=dt.date(2021, 4, 20),
                timezone="UTC",
            ),
            dict(
                org_id="traffic",
                name="TRAFFIC",
                kind="monitor",
                founding=False,
                synthetic=False,
                joined=None,
                left_on=None,
                timezone="UTC",
            ),
        ],
    )
    _write(
        reg / "platforms.parquet",
        PLATFORMS,
        [
            dict(platform_id="alpha", name="Alpha (synthetic)", member_id="alpha", synthetic=True),
            dict(platform_id="beta", name="Beta (synthetic)", member_id="beta", synthetic=True),
            dict(platform_id="forum_x", name="Forum X (synthetic)", member_id=None, synthetic=True),
        ],
    )

    # --- monitoring (traffic), one accepted submission per period ----------------------------
    monitoring: dict[dt.date, list[dict]] = {}
    for i in range(12):  # alpha baseline 2017-03..2018-02: 10 adverts / 100 queries each month
        m = _month(2017 + (2 + i) // 12, (2 + i) % 12 + 1)
        monitoring.setdefault(m, []).append(monitoring_row("alpha", m, 100, 10))
    monitoring[_month(2017, 6)].append(monitoring_row("forum_x", _month(2017, 6), 50, 5))
    monitoring[_month(2018, 1)].append(monitoring_row("forum_x", _month(2018, 1), 50, 0))
    monitoring[_month(2020, 6)] = [monitoring_row("beta", _month(2020, 6), 100, 0)]
    monitoring[_month(2020, 10)] = [monitoring_row("alpha", _month(2020, 10), 100, 4)]
    monitoring[_month(2020, 12)] = [
        monitoring_row("alpha", _month(2020, 12), 100, 2),
        monitoring_row("beta", _month(2020, 12), 100, 0),
        monitoring_row("forum_x", _month(2020, 12), 40, 8),
    ]
    monitoring[_month(2021, 3)] = [monitoring_row("beta", _month(2021, 3), 100, 3)]
    for m, rows in sorted(monitoring.items()):
        nxt = (m.replace(day=28) + dt.timedelta(days=4)).replace(day=5)
        home.submit(
            f"mon-{m:%Y%m}",
            "traffic",
            "monitoring",
            f"{m:%Y-%m}",
            "accepted",
            f"{nxt:%Y-%m-%d} 09:00:00",
            rows,
        )
    # an orphan of a crashed write (no history row): must be ignored
    home.submit(
        "mon-orphan",
        "traffic",
        "monitoring",
        "2020-12",
        "accepted",
        "2021-01-06 00:00:00",
        [monitoring_row("alpha", _month(2020, 12), 1, 999)],
        history=False,
    )

    # --- takedowns -----------------------------------------------------------------------
    # alpha 2019-12 and 2020-02: one item each, sellers s2 and s1 (for the repeat-seller window)
    home.submit(
        "td-a-1912",
        "alpha",
        "takedowns",
        "2019-12",
        "accepted",
        "2020-01-10 08:00:00",
        [takedown("a19121", "s2", "2019-12-03 10:00:00", 5, "user_report", "post_publication")],
    )
    home.submit(
        "td-a-2002",
        "alpha",
        "takedowns",
        "2020-02",
        "accepted",
        "2020-03-15 23:59:59",
        [takedown("a20021", "s1", "2020-02-03 10:00:00", 5, "user_report", "post_publication")],
    )
    # alpha 2021-01: v1 (5 rows) replaced by v2 (4 rows)
    home.submit(
        "td-a-2101-v1",
        "alpha",
        "takedowns",
        "2021-01",
        "accepted",
        "2021-02-10 08:00:00",
        [
            takedown(f"old{i}", f"old{i}", "2021-01-02 00:00:00", 50, "user_report", "post_publication")
            for i in range(5)
        ],
    )
    home.submit(
        "td-a-2101-v2",
        "alpha",
        "takedowns",
        "2021-01",
        "accepted",
        "2021-02-20 08:00:00",
        [
            takedown(
                "a21011",
                "s1",
                "2021-01-05 00:00:00",
                1,
                "automated_text",
                "pre_publication",
                appealed=True,
                restored=True,
            ),
            takedown(
                "a21012",
                "s2",
                "2021-01-10 00:00:00",
                2,
                "user_report",
                "post_publication",
                appealed=True,
                restored=False,
            ),
            takedown("a21013", "s3", "2021-01-11 00:00:00", 3, "internal_review", "pre_publication"),
            takedown("a21014", "s3", "2021-01-12 00:00:00", 10, "ngo_referral", "post_publication"),
        ],
    )
    # alpha 2021-02: rejected on time, then an accepted zero-row file after the due time
    home.submit(
        "td-a-2102-r",
        "alpha",
        "takedowns",
        "2021-02",
        "rejected",
        "2021-03-10 08:00:00",
        [takedown("bad", "x", "2021-02-02 00:00:00", 1, "user_report", "post_publication")],
    )
    home.submit("td-a-2102", "alpha", "takedowns", "2021-02", "accepted", "2021-03-16 00:00:00", [])
    # alpha 2021-03: only a rejected file so far
    home.submit(
        "td-a-2103-r",
        "alpha",
        "takedowns",
        "2021-03",
        "rejected",
        "2021-04-02 08:00:00",
        [takedown("bad2", "x", "2021-03-02 00:00:00", 1, "user_report", "post_publication")],
    )
    # an orphan lake file of alpha 2021-03 (crash between lake write and history): ignored
    home.submit(
        "td-a-2103-orphan",
        "alpha",
        "takedowns",
        "2021-03",
        "accepted",
        "2021-04-03 00:00:00",
        [takedown("orph", "x", "2021-03-02 00:00:00", 1, "user_report", "post_publication")],
        history=False,
    )
    # beta 2021-02: on time, 3 items
    home.submit(
        "td-b-2102",
        "beta",
        "takedowns",
        "2021-02",
        "accepted",
        "2021-03-05 12:00:00",
        [
            takedown(
                "b1", "b1", "2021-02-11 00:00:00", 1, "law_enforcement", "pre_publication", platform="beta"
            ),
            takedown(
                "b2", "b2", "2021-02-12 00:00:00", 1, "law_enforcement", "post_publication", platform="beta"
            ),
            takedown(
                "b3", "b3", "2021-02-13 00:00:00", 4, "cyber_spotter", "post_publication", platform="beta"
            ),
        ],
    )
    # beta 2021-03: nothing yet (due 2021-04-15, after as_of): pending


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    """The fixture's $EWTO_HOME after one `dbt build`, and the environment dbt ran in."""
    root = tmp_path_factory.mktemp("ewto_home")
    build_fixture(root)
    env = {
        **os.environ,
        "EWTO_HOME": str(root),
        "DBT_TARGET_PATH": str(root / "build" / "target"),
        "DBT_LOG_PATH": str(root / "build" / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    # Models, seed and data tests (incl. the reconciliation tests) on the fixture. The dbt unit
    # tests do not depend on the data; test_cycle runs them (`ewto build --unit-tests`).
    proc = _dbt(env, "build", "--vars", f"{{as_of: '{AS_OF}'}}", "--exclude-resource-type", "unit_test")
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    yield root, env
    shutil.rmtree(root, ignore_errors=True)


def _dbt(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [str(DBT), *args, "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT)]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def warehouse(built):
    root, _ = built
    con = duckdb.connect(str(root / "build" / "warehouse.duckdb"), read_only=True)
    yield con
    con.close()


def test_dbt_docs_generate_documents_every_mart_column(built):
    """`dbt docs generate` works, and every column of every mart has a description."""
    root, env = built
    proc = _dbt(env, "docs", "generate", "--vars", f"{{as_of: '{AS_OF}'}}")
    assert proc.returncode == 0, proc.stdout[-4000:]
    target = root / "build" / "target"
    catalog = json.loads((target / "catalog.json").read_text())
    manifest = json.loads((target / "manifest.json").read_text())
    marts = {
        n["name"]: n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["schema"] == "marts"
    }
    assert {"kpi_reduction_progress", "kpi_member_monthly", "fct_takedowns", "dim_member"} <= set(marts)
    undocumented = []
    for name, node in marts.items():
        assert node["description"].strip(), f"{name} has no description"
        in_db = catalog["nodes"][node["unique_id"]]["columns"]
        assert in_db, f"{name} is missing from the catalog"
        for col in in_db:
            if not node["columns"].get(col.lower(), {}).get("description", "").strip():
                undocumented.append(f"{name}.{col}")
    assert not undocumented, undocumented


def test_source_freshness_is_measured_on_the_lake(built):
    """`dbt source freshness` measures the lake's load time (received_at of the history): the
    fixture's newest submission is from 2021, so every lake source is stale (error) today."""
    root, env = built
    proc = _dbt(env, "source", "freshness")
    sources = json.loads((root / "build" / "target" / "sources.json").read_text())["results"]
    by_table = {r["unique_id"].split(".")[-1]: r for r in sources}
    assert {"takedowns", "monitoring"} <= set(by_table), sorted(by_table)
    for table in ("takedowns", "monitoring"):
        r = by_table[table]
        assert r["status"] == "error", r
        assert r["max_loaded_at"].startswith("2021-"), r
    assert proc.returncode == 1  # stale sources fail the command, as a scheduled check should


def _rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def _one(con, sql: str) -> tuple:
    rows = _rows(con, sql)
    assert len(rows) == 1, rows
    return rows[0]


def _reduction(con, scope: str, platform: str | None, month: str) -> dict:
    cond = "platform_id is null" if platform is None else f"platform_id = '{platform}'"
    cur = con.execute(
        f"select * from marts.kpi_reduction_progress "
        f"where scope = '{scope}' and {cond} and month = date '{month}'"
    )
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    assert len(rows) == 1, rows
    return dict(zip(names, rows[0], strict=True))


approx = pytest.approx


def test_platform_reduction_two_months_covered(warehouse):
    r = _reduction(warehouse, "platform", "alpha", "2020-12-01")
    # window 2020-10..2020-12: 2020-10 (4 adverts / 100 queries), 2020-11 absent,
    # 2020-12 (2 / 100; the orphan file with 999 adverts is ignored)
    assert r["months_covered"] == 2
    assert r["adverts_found_3m"] == 6 and r["queries_run_3m"] == 200
    assert r["prevalence_3m"] == approx(30.0)  # 1000 * 6 / 200
    assert r["baseline_prevalence"] == approx(100.0)  # 1000 * (12*10) / (12*100)
    assert r["reduction_pct"] == approx(0.7)  # 1 - 30 / 100
    # A = 6, B = 120: half-width 1.96 * sqrt(1/6 + 1/120) = 1.96 * 0.418330 = 0.819927
    # e^0.819927 = 2.270334; r = 0.3: r_high = 0.3 * 2.270334 = 0.681100,
    # r_low = 0.3 / 2.270334 = 0.132139
    assert r["reduction_ci_low"] == approx(1 - 0.681100, abs=1e-6)  # 0.318900
    assert r["reduction_ci_high"] == approx(1 - 0.132139, abs=1e-6)  # 0.867861
    assert r["target_reduction_pct"] == approx(0.8)  # k = K = 34 (2018-02 -> 2020-12)
    assert r["on_track"] is False  # 0.70 < 0.80


def test_platform_reduction_one_month_covered(warehouse):
    r = _reduction(warehouse, "platform", "alpha", "2020-11-01")
    # window 2020-09..2020-11: only 2020-10 (4 / 100)
    assert (r["months_covered"], r["adverts_found_3m"], r["queries_run_3m"]) == (1, 4, 100)
    assert r["prevalence_3m"] == approx(40.0)
    assert r["reduction_pct"] == approx(0.6)  # 1 - 40 / 100
    assert r["target_reduction_pct"] == approx(0.8 * 33 / 34)  # 0.776471: k = 33, K = 34
    assert r["on_track"] is False


def test_platform_rows_span_baseline_to_last_monitored_month(warehouse):
    first, last, n, empty = _one(
        warehouse,
        "select min(month), max(month), count(*), count(*) filter (where months_covered = 0) "
        "from marts.kpi_reduction_progress where scope = 'platform' and platform_id = 'alpha'",
    )
    # 2017-03 (baseline start) .. 2020-12 (last monitored month) = 46 months
    assert (first, last, n) == (dt.date(2017, 3, 1), dt.date(2020, 12, 1), 46)
    # months with data in m-2..m: 2017-03..2018-04 (14) and 2020-10..2020-12 (3); 29 empty
    assert empty == 29
    # baseline months: target 0 (k <= 0 clamps to 0); 2018-02 k = 0
    r = _reduction(warehouse, "platform", "alpha", "2018-02-01")
    assert r["reduction_pct"] == approx(0.0) and r["target_reduction_pct"] == 0.0
    assert r["on_track"] is True


def test_late_joiner_with_zero_baseline(warehouse):
    # beta: join 2021-02, baseline 2020-02..2021-01 has 0 adverts in 200 queries: baseline 0
    rows = _rows(
        warehouse,
        "select month, baseline_prevalence, reduction_pct, reduction_ci_low, target_reduction_pct, "
        "on_track from marts.kpi_reduction_progress where platform_id = 'beta' order by month",
    )
    assert rows[0][0] == dt.date(2020, 2, 1) and rows[-1][0] == dt.date(2021, 3, 1)
    assert len(rows) == 14
    for month, baseline, reduction, ci_low, target, on_track in rows:
        assert baseline == 0.0 and reduction is None and ci_low is None and on_track is None
        # baseline ends 2021-01 >= target month 2020-12: target 0.80 from the join month on,
        # null before joining
        assert target == (0.8 if month >= dt.date(2021, 2, 1) else None)


def test_coalition_panel_and_displacement(warehouse):
    # the panel is alpha only (beta is not founding): same numbers as alpha
    c = _reduction(warehouse, "coalition", None, "2020-12-01")
    assert (c["adverts_found_3m"], c["queries_run_3m"], c["months_covered"]) == (6, 200, 2)
    assert c["reduction_pct"] == approx(0.7) and c["on_track"] is False
    # displacement: forum_x, baseline 2017-03..2018-02 = (5 + 0) / (50 + 50) -> 50
    d = _reduction(warehouse, "displacement", None, "2020-12-01")
    assert d["baseline_prevalence"] == approx(50.0)
    assert d["prevalence_3m"] == approx(200.0)  # 1000 * 8 / 40
    assert d["reduction_pct"] == approx(-3.0)  # 1 - 200 / 50: prevalence rose
    # A = 8, B = 5: half-width 1.96 * sqrt(1/8 + 1/5) = 1.96 * 0.570088 = 1.117372
    # e^1.117372 = 3.056810; r = 4: r_high = 4 * 3.056810 = 12.227240,
    # r_low = 4 / 3.056810 = 1.308554
    assert d["reduction_ci_low"] == approx(1 - 12.227240, abs=1e-5)  # -11.227240
    assert d["reduction_ci_high"] == approx(1 - 1.308554, abs=1e-6)  # -0.308554
    assert d["target_reduction_pct"] is None and d["on_track"] is None
    assert math.isclose(d["reduction_pct"], -3.0)


def _member_month(con, member: str, month: str) -> dict:
    cur = con.execute(
        f"select * from marts.kpi_member_monthly where member_id = '{member}' and month = date '{month}'"
    )
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    assert len(rows) == 1, rows
    return dict(zip(names, rows[0], strict=True))


def test_member_monthly_alpha_january(warehouse):
    k = _member_month(warehouse, "alpha", "2021-01-01")
    assert k["items_actioned"] == 4  # v2 (4 rows) replaced v1 (5 rows)
    assert k["proactive_rate"] == approx(0.5)  # automated_text + internal_review = 2 / 4
    assert k["prepublication_share"] == approx(0.5)  # 2 / 4
    # hours to action [1, 2, 3, 10]: median = (2 + 3) / 2 = 2.5
    assert k["median_hours_to_action"] == approx(2.5)
    # p90: position 0.9 * (4 - 1) = 2.7 -> 3 + 0.7 * (10 - 3) = 7.9
    assert k["p90_hours_to_action"] == approx(7.9)
    # sellers in 2021-01: s1 (also 2020-02, 11 months before: repeat), s2 (also 2019-12,
    # 13 months before: outside 2020-02..2021-01, not repeat), s3 (2 items this month: repeat)
    assert k["repeat_seller_rate"] == approx(2 / 3)
    assert k["restore_rate"] == approx(0.5)  # 2 appealed, 1 restored


def test_member_monthly_zero_and_unreported_months(warehouse):
    zero = _member_month(warehouse, "alpha", "2021-02-01")  # accepted zero-row file
    assert zero["items_actioned"] == 0
    assert zero["proactive_rate"] is None and zero["median_hours_to_action"] is None
    unreported = _member_month(warehouse, "alpha", "2021-03-01")  # only a rejected file
    assert unreported["items_actioned"] is None
    b = _member_month(warehouse, "beta", "2021-02-01")
    assert b["items_actioned"] == 3
    assert b["proactive_rate"] == 0.0  # law_enforcement, cyber_spotter are not proactive
    assert b["prepublication_share"] == approx(1 / 3)
    assert b["median_hours_to_action"] == approx(1.0)  # [1, 1, 4]
    assert b["p90_hours_to_action"] == approx(3.4)  # position 1.8: 1 + 0.8 * (4 - 1)
    assert b["repeat_seller_rate"] == 0.0 and b["restore_rate"] is None  # no appeals
    # member months: alpha 2018-03..2021-04 (38 months, as_of month included), beta 2021-02..04
    assert _one(warehouse, "select count(*) from marts.kpi_member_monthly")[0] == 38 + 3


def test_items_reconcile(warehouse):
    # 1 (2019-12) + 1 (2020-02) + 4 (2021-01 v2) + 0 (2021-02) + 3 (beta 2021-02) = 9
    assert _one(warehouse, "select sum(items_actioned) from marts.kpi_member_monthly")[0] == 9
    assert _one(warehouse, "select count(*) from marts.fct_takedowns")[0] == 9
    assert (
        _one(
            warehouse,
            "select count(*) from marts.fct_takedowns where submission_id like '%orphan%' "
            "or submission_id = 'td-a-2101-v1'",
        )[0]
        == 0
    )


def test_submission_compliance(warehouse):
    status = dict(
        ((org, str(month)), (st, due, first))
        for org, month, st, due, first in _rows(
            warehouse,
            "select org_id, month, status, due_at, first_accepted_at from marts.kpi_submission_compliance",
        )
    )
    # expected: alpha 2018-03..2021-03 (37 months before the as_of month 2021-04), beta 2021-02..03
    assert len(status) == 37 + 2
    assert status[("alpha", "2019-12-01")][0] == "on_time"
    # received exactly at the due time 2020-03-15 23:59:59: on time
    assert status[("alpha", "2020-02-01")][:2] == ("on_time", dt.datetime(2020, 3, 15, 23, 59, 59))
    # first accepted (v1, 2021-02-10) counts, not the replacing v2
    assert status[("alpha", "2021-01-01")] == (
        "on_time",
        dt.datetime(2021, 2, 15, 23, 59, 59),
        dt.datetime(2021, 2, 10, 8, 0, 0),
    )
    assert status[("alpha", "2021-02-01")][0] == "late"  # accepted 2021-03-16 00:00:00
    assert status[("alpha", "2021-03-01")][0] == "rejected"
    assert status[("alpha", "2020-12-01")][0] == "missing"
    assert status[("beta", "2021-02-01")][0] == "on_time"
    assert status[("beta", "2021-03-01")][:2] == ("pending", dt.datetime(2021, 4, 15, 23, 59, 59))
    counts = dict(_rows(warehouse, "select status, count(*) from marts.kpi_submission_compliance group by 1"))
    assert counts == {"on_time": 4, "late": 1, "rejected": 1, "missing": 32, "pending": 1}
    # monitoring organisations owe nothing
    assert (
        _one(warehouse, "select count(*) from marts.kpi_submission_compliance where org_id = 'traffic'")[0]
        == 0
    )
