"""Collection: fetch every organisation's new exports from its source, validate and land them.

Two DAGs, the same tasks (ingestion/sources/periods.py says which months a run asks for):
- `ewto_collect`: monthly, the 1st at 06:00 UTC: the month before the run's logical date,
  from every source. Backfill over logical dates works: `airflow backfill create --dag-id
  ewto_collect --from-date 2021-02-01 --to-date 2021-04-01` collects 2021-01..2021-03.
- `ewto_recheck`: daily at 06:00 UTC on the other days: an API is asked for the months of
  its lookback still missing; drop folders and SFTP: every new file.
One mapped task group per organisation of the registry (config/members.yml, `source:` blocks parsed by
ingestion/sources/config.py; default: the drop folder `$EWTO_DROP_DIR/<org>/`):

  fetch  source -> `$EWTO_HOME/inbox/<org>/<dataset>/`, recorded in `inbox/<org>/_fetched.json`
  land   the inbox files not yet submitted -> `submit_files` (what `ewto submit` calls)

A failing source fails its own `fetch` only; `land` still lands what earlier runs fetched and
`announce` emits the `ewto://lake` asset when anything was landed (accepted or rejected) by
this run or since the last build (uploads through the member API, `ewto submit`), which schedules the `ewto_warehouse` DAG; `sources_ok` then marks the run failed if any
organisation's task failed, so the operator sees it (and operator_alerts.jsonl says which). Backfill: trigger with `{"period": "2021-03"}` or
`{"period": "2021-01..2021-03"}` (exactly those months, either DAG), optionally `{"orgs": ["ebay"]}`.

A thin file: the library is imported inside the tasks, so parsing stays fast.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from airflow.sdk import Asset, CronTriggerTimetable, Param, dag, task, task_group

LAKE = Asset("ewto://lake")
MONTHLY_CRON = "0 6 1 * *"  # the 1st, 06:00 UTC: the month just closed
RECHECK_CRON = "0 6 2-31 * *"  # every other day, 06:00 UTC: what is still missing


def _schedule(variable: str, default: str) -> CronTriggerTimetable | None:
    """A cron in UTC (a run at the cron's time, logical date = that time); `variable`
    overrides it (`none`: manual runs only, e.g. in tests or while setting up)."""
    value = os.environ.get(variable, default).strip()
    if value.lower() in ("", "none", "null"):
        return None
    return CronTriggerTimetable(value, timezone="UTC")


def _seconds(name: str, default: float) -> timedelta:
    return timedelta(seconds=float(os.environ.get(name, default)))


def _on_failure(context) -> None:  # noqa: ANN001
    from ingestion.sources.alerts import record_failure

    record_failure(context)


def collection_dag(dag_id: str, kind: str, schedule: CronTriggerTimetable | None, doc: str):  # noqa: ANN201
    """One collection DAG; `kind` (periods.MONTHLY or RECHECK) decides which months a run
    without a `period` param asks for."""

    @dag(
        dag_id=dag_id,
        schedule=schedule,
        start_date=datetime(2018, 3, 1, tzinfo=UTC),  # the coalition's launch: backfills reach it
        catchup=False,
        max_active_runs=1,
        tags=["ewto"],
        doc_md=doc + "\n\n" + (__doc__ or ""),
        params={
            "period": Param(
                None,
                type=["null", "string"],
                pattern=r"^\d{4}-(0[1-9]|1[0-2])(\.\.\d{4}-(0[1-9]|1[0-2]))?$",
                description="YYYY-MM or YYYY-MM..YYYY-MM: collect exactly these months (backfill)",
            ),
            "orgs": Param([], type="array", description="only these organisations (default: all)"),
        },
        default_args={
            "on_failure_callback": _on_failure,
            "retry_exponential_backoff": True,
        },
    )
    def collection() -> None:
        _tasks(kind)

    return collection()


def _tasks(kind: str) -> None:
    @task
    def organisations(params: dict | None = None) -> list[str]:
        """Every organisation of the registry (or the `orgs` param), one mapped group each."""
        from ingestion.sources import load_sources

        sources = load_sources()
        wanted = list((params or {}).get("orgs") or [])
        unknown = sorted(set(wanted) - set(sources))
        if unknown:
            raise ValueError(f"not organisations of the registry: {', '.join(unknown)}")
        orgs = [o for o in sources if not wanted or o in wanted]
        for o in orgs:
            print(f"{o}: {sources[o].describe()}")
        return orgs

    @task(
        retries=int(os.environ.get("EWTO_FETCH_RETRIES", 1)),
        retry_delay=_seconds("EWTO_RETRY_DELAY_SECONDS", 300),
        max_active_tis_per_dag=4,
        map_index_template="{{ ewto_org }}",
    )
    def fetch(org_id: str, params: dict | None = None, dag_run=None) -> dict:  # noqa: ANN001
        """Fetch the organisation's new exports into the inbox; a source error fails this task."""
        from airflow.sdk import get_current_context

        from ingestion.sources import fetch_org
        from ingestion.sources.periods import periods_of_run

        get_current_context()["ewto_org"] = org_id  # the mapped task's label in the UI

        # a scheduled or backfill run: its logical date; a manual run (no logical date): now
        when = getattr(dag_run, "logical_date", None) or getattr(dag_run, "run_after", None)
        today = when.date() if when else datetime.now(UTC).date()
        periods = periods_of_run(kind, today, (params or {}).get("period"))
        print(f"{kind} run of {today}: {', '.join(periods) if periods else 'what is still missing'}")
        result = fetch_org(org_id, periods=periods, today=today)
        for f in result.fetched:
            print(f"fetched {f['file']} ({f['bytes']} bytes, sha256 {f['sha256'][:12]})")
        for s in result.skipped:
            print(f"skipped {s}")
        if result.absent:
            print(f"not published yet: {', '.join(result.absent)}")
        print(f"{org_id} ({result.source}): {len(result.fetched)} new, {result.unchanged} unchanged")
        return {"org_id": org_id, "fetched": len(result.fetched), "unchanged": result.unchanged}

    @task(
        retries=2,
        retry_delay=_seconds("EWTO_RETRY_DELAY_SECONDS", 300),
        trigger_rule="all_done",
        max_active_tis_per_dag=2,
        map_index_template="{{ ewto_org }}",
    )
    def land(org_id: str) -> dict:
        """Validate and land the inbox files not yet submitted (idempotent: safe to retry)."""
        from airflow.sdk import get_current_context

        from ingestion.sources import land_org

        get_current_context()["ewto_org"] = org_id

        print(f"landing {org_id}: the inbox files not yet submitted")
        summary = land_org(org_id)
        for line in summary["submissions"]:
            print(line)
        for s in summary["skipped"]:
            print(f"skipped {s}")
        print(f"{org_id}: {summary['counts'] or 'nothing new'}")
        return {"org_id": org_id, "landed": summary["landed"], "counts": summary["counts"]}

    @task(trigger_rule="all_success")
    def sources_ok() -> None:
        """Fails the run (upstream_failed) when any organisation's fetch or landing failed,
        so the run shows red; the warehouse was scheduled by `announce` all the same."""
        print("every source was fetched and landed")

    verdict = sources_ok()

    @task_group(group_id="member")
    def member(org_id: str):  # noqa: ANN202
        fetched = fetch(org_id=org_id)
        landed = land(org_id=org_id)
        fetched >> landed
        fetched >> verdict
        landed >> verdict
        return landed

    @task(outlets=[LAKE], trigger_rule="all_done")
    def announce(results, dag_run=None) -> dict:  # noqa: ANN001
        """Emit ewto://lake (schedules the warehouse build) when the marts lack a submission.

        Read from the submission history, not only from the landing tasks' results: what this
        run landed (a landing attempt killed after its commit but before reporting counts
        too) and everything processed since the last successful build started, so an upload
        accepted through the member API (`ewto serve`) or an `ewto submit` is built by the
        next collection run at the latest."""
        from airflow.sdk.exceptions import AirflowSkipException

        from ingestion.sources import landed_since, landed_since_last_build

        if isinstance(results, dict):  # a single mapped instance may come back unwrapped
            results = [results]
        reported = {r["org_id"]: r["landed"] for r in (results or []) if isinstance(r, dict)}
        started = getattr(dag_run, "start_date", None)
        this_run = landed_since(started) if started else sum(reported.values())
        pending = landed_since_last_build()
        print(
            f"landed this run: {this_run} submissions in the history (tasks reported {reported}); "
            f"not yet in the marts: {pending}"
        )
        if this_run == 0 and pending == 0 and sum(reported.values()) == 0:
            raise AirflowSkipException("nothing new was landed: the warehouse is not rebuilt")
        return {"landed": max(this_run, sum(reported.values())), "pending": pending, "by_org": reported}

    announced = announce(member.expand(org_id=organisations()))
    announced >> verdict


ewto_collect = collection_dag(
    "ewto_collect",
    "monthly",
    _schedule("EWTO_COLLECT_SCHEDULE", MONTHLY_CRON),
    "**Monthly**: a run collects the month before its logical date from every source.",
)
ewto_recheck = collection_dag(
    "ewto_recheck",
    "recheck",
    _schedule("EWTO_RECHECK_SCHEDULE", RECHECK_CRON),
    "**Daily re-check**: the months still missing (APIs) and every new file (listed sources).",
)
