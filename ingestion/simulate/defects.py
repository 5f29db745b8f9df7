"""Deliberate contract violations, so that intake has files to reject (SYNTHETIC).

Each defect breaks exactly one blocking rule of the export contract (domain.md section 3)
and leaves the rest of the file valid; the corrected file is the frame without the defect.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

TAKEDOWN_DEFECTS = (
    "actioned_before_detected",  # actioned_at < detected_at on a few rows
    "unknown_commodity",  # a commodity spelling outside the domain
    "missing_required_column",  # a required column left out of the export
    "duplicate_record_id",  # record_id not unique within the file
    "actioned_outside_period",  # a row actioned in the previous month
)
MONITORING_DEFECTS = (
    "text_in_queries_run",  # free text in an integer column
    "missing_required_column",
    "referred_above_found",  # adverts_referred > new_adverts_found
    "window_outside_period",  # window_start in the previous month
)
# Always present (when the range has files for them), in this order.
FORCED = (
    ("takedowns", "actioned_before_detected"),
    ("takedowns", "unknown_commodity"),
    ("monitoring", "text_in_queries_run"),
    ("takedowns", "missing_required_column"),
)
MIN_ROWS = 3  # a defect needs a few rows to hide in


def _rows(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    return np.sort(rng.choice(n, size=min(k, n), replace=False))


def _set(df: pl.DataFrame, column: str, rows: np.ndarray, values: list) -> pl.DataFrame:
    s = df[column].to_list()
    for r, v in zip(rows.tolist(), values, strict=True):
        s[r] = v
    return df.with_columns(pl.Series(column, s, dtype=df.schema[column]))


def inject(
    df: pl.DataFrame, dataset: str, defect: str, rng: np.random.Generator, chinese: bool = False
) -> pl.DataFrame:
    """A copy of `df` with `defect` injected."""
    n = df.height
    if defect == "actioned_before_detected":
        rows = _rows(rng, n, int(rng.integers(1, 4)))
        act = df["actioned_at"].to_list()
        later = [act[r] + dt.timedelta(hours=int(rng.integers(2, 30))) for r in rows]
        return _set(df, "detected_at", rows, later)
    if defect == "unknown_commodity":
        rows = _rows(rng, n, int(rng.integers(1, 3)))
        word = "象牙制品" if chinese else "elephant ivory"
        return _set(df, "commodity", rows, [word] * len(rows))
    if defect == "missing_required_column":
        options = (
            ["detection_stage", "seller_id", "detection_source"]
            if dataset == "takedowns"
            else ["keyword_id", "queries_run"]
        )
        return df.drop(options[int(rng.integers(len(options)))])
    if defect == "duplicate_record_id":
        a, b = _rows(rng, n, 2)
        return _set(df, "record_id", np.array([b]), [df["record_id"][int(a)]])
    if defect == "actioned_outside_period":
        r = _rows(rng, n, 1)
        shift = dt.timedelta(days=int(rng.integers(32, 40)))
        df = _set(df, "actioned_at", r, [df["actioned_at"][int(r[0])] - shift])
        return _set(df, "detected_at", r, [df["detected_at"][int(r[0])] - shift])
    if defect == "text_in_queries_run":
        rows = _rows(rng, n, int(rng.integers(1, 4)))
        text = df["queries_run"].cast(pl.String).to_list()
        for r, word in zip(rows.tolist(), ["n/a", "approx. 40", "see notes"], strict=False):
            text[r] = word
        return df.with_columns(pl.Series("queries_run", text, dtype=pl.String))
    if defect == "referred_above_found":
        r = _rows(rng, n, 1)
        found = int(df["new_adverts_found"][int(r[0])])
        return _set(df, "adverts_referred", r, [found + int(rng.integers(1, 4))])
    if defect == "window_outside_period":
        survey = df["survey_id"][int(_rows(rng, n, 1)[0])]
        return df.with_columns(
            window_start=pl.when(pl.col("survey_id") == survey)
            .then(pl.col("window_start").dt.offset_by("-1mo"))
            .otherwise(pl.col("window_start")),
            window_end=pl.when(pl.col("survey_id") == survey)
            .then(pl.col("window_end").dt.offset_by("-1mo"))
            .otherwise(pl.col("window_end")),
        )
    raise ValueError(f"unknown defect {defect!r}")
