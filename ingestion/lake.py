"""The lake's schemas and layout: one Parquet file per accepted submission and partition.

The schemas here are the contract between intake and the dbt sources; every directory
the warehouse globs holds a zero-row `_schema.parquet`, so a glob never comes back empty
and the warehouse builds (with zero rows) before the first submission arrives.
"""

from __future__ import annotations

import polars as pl

from .atomic import write_parquet
from .paths import Home

TAKEDOWNS_SCHEMA: dict[str, pl.DataType] = {
    "submission_id": pl.String(),
    "org_id": pl.String(),
    "period": pl.String(),
    "source_row": pl.Int64(),
    "record_id": pl.String(),
    "content_type": pl.String(),
    "detected_at": pl.Datetime("us"),
    "actioned_at": pl.Datetime("us"),
    "detection_source": pl.String(),
    "detection_stage": pl.String(),
    "action_type": pl.String(),
    "commodity": pl.String(),
    "seller_id": pl.String(),
    "platform_id": pl.String(),
    "species_scientific_name": pl.String(),
    "cites_appendix": pl.String(),
    "seller_country": pl.String(),
    "price": pl.Float64(),
    "currency": pl.String(),
    "appealed": pl.Boolean(),
    "restored": pl.Boolean(),
    "referral_id": pl.String(),
}

MONITORING_SCHEMA: dict[str, pl.DataType] = {
    "submission_id": pl.String(),
    "org_id": pl.String(),
    "period": pl.String(),
    "source_row": pl.Int64(),
    "survey_id": pl.String(),
    "platform_id": pl.String(),
    "window_start": pl.Date(),
    "window_end": pl.Date(),
    "keyword_id": pl.String(),
    "language": pl.String(),
    "queries_run": pl.Int64(),
    "new_adverts_found": pl.Int64(),
    "adverts_referred": pl.Int64(),
    "commodity": pl.String(),
}

SUBMISSIONS_SCHEMA: dict[str, pl.DataType] = {
    "submission_id": pl.String(),
    "org_id": pl.String(),
    "dataset": pl.String(),
    "period": pl.String(),
    "status": pl.String(),
    "received_at": pl.Datetime("us"),
    "processed_at": pl.Datetime("us"),
    "file_name": pl.String(),
    "size_bytes": pl.Int64(),
    "sha256": pl.String(),
    "rows": pl.Int64(),
    "contract_version": pl.Int32(),
    "failures": pl.Int32(),
    "warnings": pl.Int32(),
}

CHECKS_SCHEMA: dict[str, pl.DataType] = {
    "submission_id": pl.String(),
    "rule": pl.String(),
    "column_name": pl.String(),
    "severity": pl.String(),
    "success": pl.Boolean(),
    "rows_checked": pl.Int64(),
    "rows_failing": pl.Int64(),
    "examples": pl.String(),
}

LAKE_SCHEMAS = {"takedowns": TAKEDOWNS_SCHEMA, "monitoring": MONITORING_SCHEMA}


def empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def ensure_layout(home: Home) -> None:
    """Create the state folders and the zero-row schema files (idempotent)."""
    targets = [
        (home.lake_dataset("takedowns"), TAKEDOWNS_SCHEMA),
        (home.lake_dataset("monitoring"), MONITORING_SCHEMA),
        (home.submissions, SUBMISSIONS_SCHEMA),
        (home.checks, CHECKS_SCHEMA),
    ]
    for folder, schema in targets:
        path = folder / "_schema.parquet"
        if not path.exists():
            write_parquet(path, empty(schema))
    home.reports.mkdir(parents=True, exist_ok=True)
    home.locks.mkdir(parents=True, exist_ok=True)
