"""Run the contract's Great Expectations suite on a mapped file and turn results into findings.

GX is imported lazily (it costs seconds) and its context is built once per process, so
the CLI starts fast and a DAG worker validating many files pays the import once.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import polars as pl

from .errors import Finding
from .mapping import MappedTable
from .suites import suite_path

RESULT_FORMAT = {"result_format": "COMPLETE"}
# a run that only says which expectations fail: about 0.1 s of GX's fixed cost per run
# instead of 0.23 s (measured with the takedowns suite), and no failing rows collected
QUICK_FORMAT = {"result_format": "BOOLEAN_ONLY"}
# a monitoring observation: the same key twice in one file is a (non-blocking) duplicate
OBSERVATION_KEY = ("platform_id", "keyword_id", "window_start", "window_end")

RULE_TEXT = {
    "required_column": "a required column is missing",
    "required_value": "a required value is empty",
    "type": "a value cannot be read as the column's type",
    "domain": "a value is not one of the allowed values",
    "unique": "values must be unique within the file",
    "ordering": "a later timestamp/date is before the earlier one",
    "period": "the row falls outside the submitted period",
    "future": "the row is dated after the file was received",
    "platform": "the platform is not one of the registry's platforms for this organisation",
    "range": "a number is out of its allowed range",
    "format": "a value does not have the required format",
    "referred_le_found": "adverts_referred is larger than new_adverts_found",
    "outlier": "an unusually large value (check it)",
    "cites_consistency": "the CITES appendix is unusual for the commodity (check it)",
    "duplicate_observation": "the same platform, keyword and window appear more than once",
}


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one rule on one file: stored in the warehouse, one row per rule."""

    rule: str
    column: str | None
    severity: str  # blocking | warning
    success: bool
    rows_checked: int
    rows_failing: int
    examples: list[int]
    example_values: list[str]

    def finding(self) -> Finding:
        return Finding(
            rule=self.rule,
            column=self.column,
            severity=self.severity,  # type: ignore[arg-type]
            rows_failing=self.rows_failing,
            message=RULE_TEXT.get(self.rule, self.rule),
            examples=self.examples,
            example_values=self.example_values,
        )


@lru_cache(maxsize=1)
def _gx() -> tuple[Any, Any]:
    """Import GX and build one ephemeral context with a pandas batch definition."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.execution_engine import pandas_execution_engine

    # GX fingerprints every pandas batch (a hash of the whole frame, only for its metadata)
    # below this size: a quarter of the validation time, for nothing the intake uses
    pandas_execution_engine.HASH_THRESHOLD = 0

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = ctx.data_sources.add_pandas("ewto_intake").add_dataframe_asset("submitted_file")
    return gx, asset.add_batch_definition_whole_dataframe("whole_file")


@lru_cache(maxsize=4)
def load_suite_json(dataset: str) -> dict[str, Any]:
    with open(suite_path(dataset), encoding="utf-8") as fh:
        return json.load(fh)


def _columns_of(kwargs: dict[str, Any]) -> list[str]:
    cols = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
    return cols + list(kwargs.get("column_list", []))


@lru_cache(maxsize=16)
def _referenced(dataset: str, rules: frozenset[str] | None = None) -> frozenset[str]:
    """The columns the dataset's suite looks at, or its `rules`' expectations (the others
    need not reach pandas)."""
    return frozenset(
        c
        for e in load_suite_json(dataset)["expectations"]
        if rules is None or (e.get("meta") or {}).get("rule") in rules
        for c in _columns_of(e["kwargs"])
    )


@lru_cache(maxsize=4)
def suite_rules(dataset: str) -> frozenset[str]:
    """The rules of the dataset's suite (the `rules` that `validate_files` can select)."""
    return frozenset((e.get("meta") or {}).get("rule") for e in load_suite_json(dataset)["expectations"])


def _to_pandas(frame: pl.DataFrame) -> Any:
    """A pandas frame for GX: text as Arrow-backed strings (no Python object per value)."""
    import pandas as pd
    import pyarrow as pa

    text = pd.StringDtype("pyarrow")
    mapping = {pa.large_string(): text, pa.string(): text, pa.string_view(): text}
    return frame.to_pandas(types_mapper=mapping.get, self_destruct=True, split_blocks=True)


def _forget_batch(batch: Any) -> None:
    """Drop GX's cached reference to the batch's frame (it would live until the next run)."""
    try:
        manager = batch.data.execution_engine.batch_manager
        manager.reset_batch_cache()
        manager.batch_data_cache.clear()
    except AttributeError:  # pragma: no cover - another GX version: only memory is at stake
        pass


def _suite_for(dataset: str, frame_columns: set[str], rules: frozenset[str] | None = None) -> Any:
    """The dataset's suite restricted to expectations whose columns the file has (and, with
    `rules`, to the expectations of those rules)."""
    gx, _ = _gx()
    doc = load_suite_json(dataset)
    kept = [
        e
        for e in doc["expectations"]
        if (
            e["type"] == "expect_column_to_exist" or all(c in frame_columns for c in _columns_of(e["kwargs"]))
        )
        and (rules is None or (e.get("meta") or {}).get("rule") in rules)
    ]
    return gx.ExpectationSuite(name=doc["name"], expectations=kept, meta=doc.get("meta"))


def _jsonable(value: Any) -> str:
    """A value as a member reads it: no numpy or pandas reprs, ISO 8601 for times."""
    if isinstance(value, tuple | list):
        return ", ".join(_jsonable(v) for v in value)
    if isinstance(value, np.datetime64):
        value = None if np.isnat(value) else value.astype("datetime64[us]").item()
    elif isinstance(value, np.generic):
        value = value.item()
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep="T")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _local(frame: pl.DataFrame, column: str) -> pl.Series:
    """A column as the member wrote it: local time for timestamps."""
    return frame[f"{column}__local" if f"{column}__local" in frame.columns else column]


def _results(outcome: Any, files: list[MappedTable], offsets: list[int]) -> list[list[CheckResult]]:
    """Split one GX run over several files into each file's results."""
    per_file: list[list[CheckResult]] = [[] for _ in files]
    bounds = offsets + [offsets[-1] + (files[-1].frame.height if files else 0)]
    for r in outcome.results:
        cfg = r.expectation_config
        meta = cfg.meta or {}
        sev = getattr(cfg.severity, "value", cfg.severity)
        severity = "warning" if str(sev) == "warning" else "blocking"
        res = r.result or {}
        gx_column = str(cfg.kwargs.get("column"))
        derived = gx_column.endswith(("__period_offset", "__received_offset"))
        shown = meta.get("column") if derived else None
        pair = (cfg.kwargs["column_A"], cfg.kwargs["column_B"]) if "column_A" in cfg.kwargs else None
        index = [int(i) for i in res.get("unexpected_index_list") or []]
        values = res.get("unexpected_list") or []
        crashed = bool(r.exception_info and r.exception_info.get("raised_exception"))
        for k, mapped in enumerate(files):
            lo, hi = bounds[k], bounds[k + 1]
            if cfg.type == "expect_column_to_exist":
                failing = 0 if r.success else mapped.frame.height
                ex_rows: list[int] = []
                ex_values: list[str] = []
            else:
                mine = [(i, v) for i, v in zip(index, values, strict=False) if lo <= i < hi]
                failing = len(mine) if not crashed else mapped.frame.height
                rows = mapped.frame["source_row"]
                ex_rows = [int(rows[i - lo]) for i, _ in mine[:10]]
                if shown is not None:
                    local = _local(mapped.frame, shown)
                    ex_values = [_jsonable(local[i - lo]) for i, _ in mine[:10]]
                elif pair is not None:  # "actioned_at 07:14 < detected_at 08:14"
                    a, b = _local(mapped.frame, pair[0]), _local(mapped.frame, pair[1])
                    ex_values = [
                        f"{pair[0]} {_jsonable(a[i - lo])} < {pair[1]} {_jsonable(b[i - lo])}"
                        for i, _ in mine[:10]
                    ]
                else:
                    ex_values = [_jsonable(v).split("\x1f")[-1] for _, v in mine[:10]]
            per_file[k].append(
                CheckResult(
                    rule=meta.get("rule", cfg.type),
                    column=meta.get("column"),
                    severity=severity,
                    success=failing == 0 and (r.success or cfg.type != "expect_column_to_exist"),
                    rows_checked=mapped.frame.height,
                    rows_failing=failing,
                    examples=ex_rows,
                    example_values=ex_values,
                )
            )
    return per_file


def _rule_key(kind: str, meta: dict[str, Any] | None) -> tuple[str, Any, Any]:
    """An expectation of a suite: its type, rule and column (unique within a suite)."""
    meta = meta or {}
    return (kind, meta.get("rule"), meta.get("column"))


def _with_details(outcome: Any, suite: Any, batch: Any, parameters: dict[str, Any]) -> None:
    """Complete a quick run's failed results: those expectations run again on the same
    batch with RESULT_FORMAT and their results replace the quick ones, in place. An
    expectation that passes has no failing row, so its quick result says all there is."""
    gx, _ = _gx()
    failed = {
        _rule_key(r.expectation_config.type, r.expectation_config.meta)
        for r in outcome.results
        if not r.success
    }
    again = [e for e in suite.expectations if _rule_key(e.expectation_type, e.meta) in failed]
    detail = batch.validate(
        gx.ExpectationSuite(name=suite.name, expectations=again, meta=suite.meta),
        expectation_parameters=parameters,
        result_format=RESULT_FORMAT,
    )
    full = {_rule_key(r.expectation_config.type, r.expectation_config.meta): r for r in detail.results}
    for k, r in enumerate(outcome.results):
        if not r.success:
            outcome.results[k] = full.get(_rule_key(r.expectation_config.type, r.expectation_config.meta), r)


# rules that check keys for repeats: run on hashed keys, again on the keys when one repeats
KEYED_RULES = frozenset({"unique", "duplicate_observation"})


def _key(expr: pl.Expr, exact: bool) -> pl.Expr:
    """A key column for a uniqueness rule: the key, or (not `exact`) its 64-bit hash as
    Int64 (GX's pandas check is vectorised for int64), null where the key is null (GX
    ignores nulls; polars hashes a null to a number)."""
    if exact:
        return expr
    return pl.when(expr.is_not_null()).then(expr.hash(seed=0x5EED).reinterpret(signed=True))


def _replace_results(results: list[CheckResult], exact: list[CheckResult]) -> list[CheckResult]:
    """`results` with the exact run's result in place of each of its rules' hashed one."""
    by_rule = {(c.rule, c.column, c.severity): c for c in exact}
    return [by_rule.get((c.rule, c.column, c.severity), c) for c in results]


def validate_files(
    files: list[MappedTable],
    dataset: str,
    parameters: dict[str, Any],
    runs: list[Any] | None = None,
    rules: frozenset[str] | None = None,
    exact: bool = False,
) -> list[list[CheckResult]]:
    """Validate files of one dataset (and one organisation) with the dataset's GX suite.

    GX's per-run overhead is large (about a second for forty expectations) and does not
    depend on rows, so files that carry the same columns are validated in one run and the
    results split back per file: every rule is a row-level rule (the period and the
    uniqueness rules use per-file derived columns), so the split is exact.

    With `runs` (a list), it receives for each file the GX run it was part of, with the
    failing values removed (for Data Docs); `CheckResult`s are in the order of its results.
    With `rules`, only the expectations of those rules run (a file read in pieces checks
    the uniqueness of its record ids on the whole file's ids alone).

    The uniqueness rules (KEYED_RULES) run first on a 64-bit hash of each key (`_key`):
    pandas finds repeated integers some 20 times faster than repeated Arrow strings (3.5
    CPU-s for 5 M record ids). Distinct hashes prove distinct keys; when some hash repeats,
    those rules run again on the keys themselves (`exact`) and their results replace the
    hashed ones, so counts, example rows and values are those of the keys.
    """
    _, batch_definition = _gx()
    out: list[list[CheckResult]] = [[] for _ in files]
    run_of: list[Any] = [None for _ in files]
    groups: dict[frozenset[str], list[int]] = {}
    for i, mapped in enumerate(files):
        groups.setdefault(frozenset(mapped.frame.columns), []).append(i)
    for idxs in groups.values():
        members = [files[i] for i in idxs]
        frames, offsets, start = [], [], 0
        for k, mapped in enumerate(members):
            frame = mapped.frame.drop("source_row")
            if "record_id" in frame.columns and len(members) == 1:  # alone: its own ids
                frame = frame.with_columns(_key(pl.col("record_id"), exact).alias("record_id__in_file"))
            elif "record_id" in frame.columns:
                frame = frame.with_columns(
                    _key(pl.concat_str([pl.lit(str(k)), pl.col("record_id")], separator="\x1f"), exact).alias(
                        "record_id__in_file"
                    )
                )
            if set(OBSERVATION_KEY) <= set(frame.columns):
                frame = frame.with_columns(
                    _key(
                        pl.concat_str(
                            [
                                pl.lit(str(k)),
                                pl.concat_str(
                                    [pl.col(c).cast(pl.String) for c in OBSERVATION_KEY], separator="/"
                                ),
                            ],
                            separator="\x1f",
                        ),
                        exact,
                    ).alias("observation__in_file")
                )
            if {"commodity", "cites_appendix"} <= set(frame.columns):
                frame = frame.with_columns(
                    pl.concat_str(["commodity", "cites_appendix"], separator="/").alias(
                        "cites_appendix__pair"
                    )
                )
            frames.append(frame)
            offsets.append(start)
            start += frame.height
        combined = pl.concat(frames, how="vertical_relaxed")
        del frames
        # the suite is chosen by the columns the file has; only those it reads go to pandas
        suite = _suite_for(dataset, set(combined.columns), rules)
        referenced = _referenced(dataset, rules)
        pdf = _to_pandas(combined.select([c for c in combined.columns if c in referenced]))
        del combined
        batch = batch_definition.get_batch(batch_parameters={"dataframe": pdf})
        del pdf
        # first pass or fail alone (no counts: half GX's fixed cost per run); the failed
        # expectations then run again for their counts, rows and values (`_with_details`)
        outcome = batch.validate(suite, expectation_parameters=parameters, result_format=QUICK_FORMAT)
        if any(not r.success for r in outcome.results):
            _with_details(outcome, suite, batch, parameters)
        _forget_batch(batch)
        del batch
        split = _results(outcome, members, offsets)
        if not exact:  # a repeated hash is a repeated key, or (rarely) two keys alike in 64 bits
            again = frozenset(c.rule for res in split for c in res if c.rule in KEYED_RULES and not c.success)
            if again:
                exact_split = validate_files(members, dataset, parameters, None, again, exact=True)
                split = [_replace_results(res, ex) for res, ex in zip(split, exact_split, strict=True)]
        for i, res in zip(idxs, split, strict=True):
            out[i] = res
        for r in outcome.results:  # the failing values (maybe identifiers) are not kept
            r.result = {}
        for i in idxs:
            run_of[i] = outcome
    if runs is not None:
        runs.extend(run_of)
    return out
