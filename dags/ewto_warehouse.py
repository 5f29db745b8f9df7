"""Warehouse: one dbt build per run, then the KPI headline, whenever the lake changed.

Scheduled on the `ewto://lake` asset that `ewto_collect` emits after landing anything; runs
never overlap (max_active_runs=1; events that arrive during a build queue one more run).
dbt is the only writer of build/warehouse.duckdb; `ingestion.warehouse.build()` publishes
marts.duckdb atomically after the build and its tests pass, so a failed build leaves the
previous marts in place. Failures are appended to `$EWTO_HOME/operator_alerts.jsonl`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import Asset, dag, task

LAKE = Asset("ewto://lake")
WAREHOUSE = Asset("ewto://warehouse/marts")


def _on_failure(context) -> None:  # noqa: ANN001
    from ingestion.sources.alerts import record_failure

    record_failure(context)


def _on_run_failure(context) -> None:  # noqa: ANN001
    from ingestion.sources.alerts import record_failure

    record_failure(context, scope="dag")


@dag(
    dag_id="ewto_warehouse",
    schedule=[LAKE],
    start_date=datetime(2024, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    tags=["ewto"],
    doc_md=__doc__,
    on_failure_callback=_on_run_failure,
    default_args={"on_failure_callback": _on_failure, "retries": 0},
)
def ewto_warehouse() -> None:
    @task(outlets=[WAREHOUSE], execution_timeout=timedelta(hours=2))
    def build() -> dict[str, int]:
        """`dbt build` (models and tests), then publish the marts."""
        from ingestion.warehouse import build as build_warehouse

        result = build_warehouse()
        print(result.log_tail)
        if not result.ok:
            # what failed, in the exception: the failure callback writes it for the operator
            errors = [line.strip() for line in result.log_tail.splitlines() if "error" in line.lower()]
            raise RuntimeError(
                "dbt build failed; the published marts are unchanged"
                + (": " + " | ".join(errors[-3:]) if errors else f" (dbt log: {result.log_tail[-300:]})")
            )
        print(f"build ok in {result.seconds:.1f} s: {result.marts}")
        return result.marts

    @task
    def report(marts: dict[str, int]) -> str:
        """The KPI headline, to $EWTO_HOME/headline.txt."""
        from ingestion.atomic import write_bytes
        from ingestion.kpi import headline, render
        from ingestion.paths import Home

        home = Home.from_env()
        text = render(headline(home))
        write_bytes(home.root / "headline.txt", (text + "\n").encode("utf-8"))
        print(text)
        return text

    report(build())


ewto_warehouse()
