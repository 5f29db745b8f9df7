"""The MetricFlow semantic layer answers with the marts' own numbers.

`mf` (dbt-metricflow, locked with dbt-core 1.11 / dbt-duckdb 1.11) runs against a private copy
of the shared demo state's warehouse (SYNTHETIC data, 2017-01..2019-06): `mf validate-configs`
must find no error (semantic checks and the checks against the DuckDB warehouse), and
`mf query` of the KPI metrics grouped by metric_time__month must give, row for row, the values
of kpi_member_monthly, kpi_reduction_progress and kpi_submission_compliance.

mf reads the semantic manifest from <project>/target (dbt_project.yml's target-path; it
ignores DBT_TARGET_PATH) and opens the warehouse read-write, so the dbt project is copied
into a temporary folder, parsed there, and pointed at the copied $EWTO_HOME.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tests.state_fixture import REPO, DemoState, demo_state  # noqa: F401

BIN = Path(sys.executable).parent
MF, DBT = BIN / "mf", BIN / "dbt"

pytestmark = [
    pytest.mark.integration,  # dbt parse + 5 mf runs, ~1 min on a shared 2-core VM
    pytest.mark.skipif(not MF.exists(), reason="mf (dbt-metricflow) is not installed (uv sync)"),
    pytest.mark.skipif(not DBT.exists(), reason="dbt executable not found"),
]


class Mf:
    def __init__(self, project: Path, home: Path, base_env: dict[str, str]) -> None:
        self.project, self.home = project, home
        env = dict(base_env)
        for var in ("DBT_TARGET_PATH", "DBT_LOG_PATH"):
            env.pop(var, None)
        env.update(
            {
                "EWTO_HOME": str(home),
                "DBT_PROFILES_DIR": str(project),
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
                "DO_NOT_TRACK": "1",
            }
        )
        self.env = env

    def run(self, exe: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(exe), *args],
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    def query(self, out: Path, metrics: list[str], group_by: list[str]) -> pl.DataFrame:
        proc = self.run(
            MF,
            "query",
            "--metrics",
            ",".join(metrics),
            "--group-by",
            ",".join(group_by),
            "--csv",
            str(out),
            "--quiet",
        )
        assert proc.returncode == 0 and out.exists(), (
            f"mf query failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
        df = pl.read_csv(out, infer_schema_length=None)
        return df.with_columns(pl.col("metric_time__month").str.slice(0, 10).str.to_date().alias("month"))


@pytest.fixture(scope="module")
def mf(demo_state: DemoState, tmp_path_factory: pytest.TempPathFactory):  # noqa: F811
    root = tmp_path_factory.mktemp("metricflow")
    home = demo_state.copy_home(root)
    project = root / "dbt_project"
    shutil.copytree(REPO / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs"))
    runner = Mf(project, home, demo_state.env(home))
    proc = runner.run(DBT, "parse", "--quiet")
    assert proc.returncode == 0, f"dbt parse failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert (project / "target" / "semantic_manifest.json").exists()
    yield runner
    shutil.rmtree(root, ignore_errors=True)


def _mart(home: Path, sql: str) -> pl.DataFrame:
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{home / 'marts.duckdb'}' AS m (READ_ONLY)")
        con.execute("USE m.marts")
        return con.execute(sql).pl()
    finally:
        con.close()


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None or (isinstance(a, float) and math.isnan(a)):
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _compare(got: pl.DataFrame, want: pl.DataFrame, keys: list[str], values: list[str]) -> None:
    """Same keys on both sides, and every value equal (floats to 1e-9)."""
    g = {tuple(r[k] for k in keys): r for r in got.iter_rows(named=True)}
    w = {tuple(r[k] for k in keys): r for r in want.iter_rows(named=True)}
    assert len(g) == got.height and len(w) == want.height, "duplicate keys"
    assert set(g) == set(w), (
        f"keys differ: only mf {sorted(set(g) - set(w))[:5]}, only marts {sorted(set(w) - set(g))[:5]}"
    )
    bad = [
        (key, v, g[key][v], w[key][v])
        for key in sorted(w)
        for v in values
        if not _close(g[key][v], w[key][v])
    ]
    assert not bad, f"{len(bad)} values differ, e.g. {bad[:5]}"


def test_validate_configs_finds_no_error(mf):
    proc = mf.run(MF, "validate-configs")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    counts = re.findall(r"ERRORS: (\d+)", out)
    # the semantic checks, then the checks against the warehouse (semantic models,
    # dimensions, entities, measures, metrics)
    assert len(counts) >= 6 and all(c == "0" for c in counts), out[-3000:]


def test_effort_metrics_equal_kpi_member_monthly(mf, tmp_path):
    metrics = [
        "items_actioned",
        "proactive_rate",
        "prepublication_share",
        "restore_rate",
        "median_hours_to_action",
        "p90_hours_to_action",
    ]
    got = mf.query(tmp_path / "effort.csv", metrics, ["metric_time__month", "member"])
    want = _mart(
        mf.home,
        f"select member_id as member, month, {', '.join(metrics)} from kpi_member_monthly where items_actioned > 0",
    )
    assert want.height > 100
    _compare(got, want, ["member", "month"], metrics)


def test_prevalence_metrics_equal_kpi_reduction_progress(mf, tmp_path):
    metrics = ["adverts_found_3m", "queries_run_3m", "prevalence_3m"]
    got = mf.query(tmp_path / "prevalence.csv", metrics, ["metric_time__month", "platform"])
    want = _mart(
        mf.home,
        "select platform_id as platform, month, adverts_found_3m, queries_run_3m, prevalence_3m "
        "from kpi_reduction_progress where scope = 'platform' and months_covered > 0",
    )
    assert want.height > 100
    # mf has a row for every platform-month whose trailing window holds data; the mart's
    # platform series are the member platforms' months: compare on the mart's rows
    keys = set(zip(want["platform"], want["month"], strict=True))
    got = got.filter(
        pl.struct("platform", "month").map_elements(
            lambda r: (r["platform"], r["month"]) in keys, return_dtype=pl.Boolean
        )
    )
    _compare(got, want, ["platform", "month"], metrics)


def test_reduction_metrics_equal_kpi_reduction_progress(mf, tmp_path):
    metrics = [
        "reduction_pct",
        "reduction_ci_low",
        "reduction_ci_high",
        "target_reduction_pct",
        "baseline_prevalence",
    ]
    got = mf.query(
        tmp_path / "reduction.csv", metrics, ["metric_time__month", "reduction_series__scope", "platform"]
    ).rename({"reduction_series__scope": "scope"})
    want = _mart(
        mf.home,
        f"select scope, platform_id as platform, month, {', '.join(metrics)} from kpi_reduction_progress",
    )
    assert set(want["scope"]) == {"platform", "coalition", "displacement"}
    _compare(got, want, ["scope", "platform", "month"], metrics)


def test_on_time_share_equals_kpi_submission_compliance(mf, tmp_path):
    got = mf.query(tmp_path / "compliance.csv", ["on_time_share"], ["metric_time__month"])
    want = _mart(
        mf.home,
        "select month, avg(case when status = 'on_time' then 1.0 else 0.0 end) as on_time_share "
        "from kpi_submission_compliance group by month",
    )
    assert want.height > 10 and want["on_time_share"].min() < 1.0
    _compare(got, want, ["month"], ["on_time_share"])


def test_versions_are_the_pinned_ones():
    """The versions mf was just shown to work with (uv.lock): dbt-core 1.11.16, dbt-duckdb 1.11.1."""
    from importlib.metadata import version

    assert version("dbt-core") == "1.11.16"
    assert version("dbt-duckdb") == "1.11.1"
    assert version("dbt-metricflow").startswith("0.15.")
