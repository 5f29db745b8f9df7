"""The monthly cycle: collect member exports from the drop folders, validate and land each
organisation's files (one mapped task per organisation), build the marts, report.

A thin file: every task calls the same library functions as the `ewto` command, imported
inside the task so that parsing this file stays fast (GX and dbt cost seconds to import).
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import Asset, dag, task

WAREHOUSE = Asset("ewto://warehouse/marts")


def _drop_dir() -> str:
    return os.environ.get("EWTO_DROP_DIR", "drops")


@dag(
    dag_id="ewto_monthly_cycle",
    schedule=None,
    start_date=datetime(2018, 3, 1),
    catchup=False,
    max_active_runs=1,
    tags=["ewto"],
    doc_md=__doc__,
)
def ewto_monthly_cycle() -> None:
    @task
    def collect() -> list[str]:
        """Organisations with new files in their drop folders."""
        from pathlib import Path

        from ingestion.drops import new_files

        fresh, skipped = new_files(Path(_drop_dir()))
        for s in skipped:
            print(f"skipped {s.path}: {s.reason}")
        orgs = sorted({r.org_id for r in fresh})
        print(f"{len(fresh)} new files from {len(orgs)} organisations")
        return orgs

    @task(max_active_tis_per_dag=2)
    def validate_and_land(org_id: str) -> dict[str, int]:
        """Validate and land one organisation's new files; its failure is its own."""
        from pathlib import Path

        from ingestion.drops import ingest

        outcomes, _ = ingest(Path(_drop_dir()), org_id=org_id)
        counts: dict[str, int] = {}
        for o in outcomes:
            counts[o.status] = counts.get(o.status, 0) + 1
            if o.status == "rejected":
                rules = ", ".join(f"{f.rule}({f.column})" for f in o.failures)
                print(f"rejected {o.request.path.name}: {rules}")
        print(f"{org_id}: {counts}")
        return counts

    @task(outlets=[WAREHOUSE], trigger_rule="all_done")
    def build(landed: list[dict[str, int]]) -> dict[str, int]:
        """One dbt build (the only writer of the warehouse), then publish the marts."""
        from ingestion.warehouse import build as build_warehouse

        result = build_warehouse()
        print(result.log_tail)
        if not result.ok:
            raise RuntimeError("dbt build failed; the published marts are unchanged")
        return result.marts

    @task
    def report(marts: dict[str, int]) -> str:
        from ingestion.kpi import headline, render
        from ingestion.paths import Home
        from ingestion.warehouse import as_of_date

        home = Home.from_env()
        text = render(headline(home, as_of_date().replace(day=1)))
        (home.root / "headline.txt").write_text(text + "\n", encoding="utf-8")
        print(text)
        return text

    report(build(validate_and_land.expand(org_id=collect())))


ewto_monthly_cycle()
