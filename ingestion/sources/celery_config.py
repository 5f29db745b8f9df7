"""Celery configuration of the ewto workers: Airflow's defaults, plus a preload.

`AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS=ingestion.sources.celery_config.CELERY_CONFIG`
(set in docker-compose.yml). A Celery worker imports the `imports` modules once, in its
main process, before it forks its pool; every Airflow task process is forked from a pool
process, so it inherits them. Great Expectations costs seconds to import (tens of seconds
on a busy machine) and every landing task needs it: imported once per worker instead of
once per task. The scheduler imports this module too but never the preload.
"""

from __future__ import annotations

from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG

CELERY_CONFIG = {
    **DEFAULT_CELERY_CONFIG,
    "imports": [*DEFAULT_CELERY_CONFIG.get("imports", ()), "ingestion.sources.preload"],
}
