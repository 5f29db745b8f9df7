"""Submission history: every submission ever made, one Parquet row file per submission.

Writing the history row is the commit point of a submission: lake files whose submission
has no history row (a crash before the commit) are ignored by the warehouse and removed
by the next submission to the same partition.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from .lake import SUBMISSIONS_SCHEMA
from .paths import Home


@dataclass(frozen=True)
class SubmissionRecord:
    submission_id: str
    org_id: str
    dataset: str
    period: str
    status: str  # accepted | rejected | duplicate
    received_at: dt.datetime  # naive UTC
    processed_at: dt.datetime  # naive UTC
    file_name: str
    size_bytes: int
    sha256: str
    rows: int
    contract_version: int
    failures: int
    warnings: int

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame([self.__dict__], schema=SUBMISSIONS_SCHEMA)


def load_history(home: Home) -> pl.DataFrame:
    """All submission rows (an empty frame with the schema when there are none)."""
    if not home.submissions.exists():
        return pl.DataFrame(schema=SUBMISSIONS_SCHEMA)
    return pl.read_parquet(home.submissions / "*.parquet", schema=SUBMISSIONS_SCHEMA)


def latest_accepted(history: pl.DataFrame, org_id: str, dataset: str, period: str) -> str | None:
    """The submission that counts for a partition: the latest accepted one by received_at."""
    rows = history.filter(
        (pl.col("org_id") == org_id)
        & (pl.col("dataset") == dataset)
        & (pl.col("period") == period)
        & (pl.col("status") == "accepted")
    ).sort(["received_at", "processed_at", "submission_id"])
    return rows["submission_id"][-1] if rows.height else None
