"""The Great Expectations suites of the export contract, written out to `expectations/`.

The suites are derived from `contract.py` so the contract is stated once; the JSON files
in `expectations/` are what validation loads and what a member can read. `ewto suites`
regenerates them and a test fails when the committed files drift from the contract.
Each expectation's `meta` carries the rule name and column used in reports; GX's own
`severity` says blocking (`critical`) or not (`warning`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .contract import COMMODITIES, CONTRACT_VERSION, columns
from .registry import REPO_ROOT

EXPECTATIONS_DIR = REPO_ROOT / "expectations"

# Which CITES appendix is plausible for which commodity (non-blocking advice).
CITES_BY_COMMODITY: dict[str, tuple[str, ...]] = {
    "ivory": ("I", "II"),
    "rhino_horn": ("I", "II"),
    "pangolin": ("I",),
    "tiger_parts": ("I",),
    "other_big_cat_parts": ("I", "II"),
    "bear_parts": ("I", "II"),
    "marine_turtle": ("I",),
    "hornbill_casque": ("I",),
    "saiga_horn": ("II",),
    "shark_ray": ("II", "none"),
    "live_reptile": ("I", "II", "III", "none"),
    "live_bird": ("I", "II", "III", "none"),
    "live_primate": ("I", "II"),
    "live_big_cat": ("I", "II"),
    "live_other_mammal": ("I", "II", "III", "none"),
    "other": ("I", "II", "III", "none"),
}


FUTURE_TOLERANCE_SECONDS = 86400


def suite_name(dataset: str, version: int = CONTRACT_VERSION) -> str:
    return f"{dataset}.v{version}"


def suite_path(dataset: str, version: int = CONTRACT_VERSION) -> Path:
    return EXPECTATIONS_DIR / f"{suite_name(dataset, version)}.json"


def _exp(kind: str, rule: str, about: str | None, severity: str = "critical", **kwargs: Any) -> dict:
    if (
        about is not None
        and "column" not in kwargs
        and "column_A" not in kwargs
        and "column_list" not in kwargs
    ):
        kwargs["column"] = about
    return {
        "type": kind,
        "kwargs": kwargs,
        "meta": {"rule": rule, "column": about},
        "severity": severity,
    }


def build_suite(dataset: str) -> dict[str, Any]:
    """The suite of a dataset as a GX ExpectationSuite JSON document."""
    exps: list[dict] = []
    for col in columns(dataset):
        if col.required:
            exps.append(_exp("expect_column_to_exist", "required_column", col.name))
            exps.append(
                _exp(
                    "expect_column_values_to_not_be_null",
                    "required_value",
                    col.name,
                    column=col.name if col.kind == "string" else f"{col.name}__text",
                )
            )
        if col.kind != "string":
            exps.append(
                _exp("expect_column_values_to_be_null", "type", col.name, column=f"{col.name}__unparsed")
            )
        if col.domain is not None:
            exps.append(
                _exp("expect_column_values_to_be_in_set", "domain", col.name, value_set=list(col.domain))
            )
    if dataset == "takedowns":
        exps += [
            _exp("expect_column_values_to_be_unique", "unique", "record_id", column="record_id__in_file"),
            _exp(
                "expect_column_pair_values_a_to_be_greater_than_b",
                "ordering",
                "actioned_at",
                column_A="actioned_at",
                column_B="detected_at",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            ),
            _exp(
                "expect_column_values_to_be_between",
                "period",
                "actioned_at",
                column="actioned_at__period_offset",
                min_value=0,
                max_value=0,
            ),
            # actioned after the file arrived (a day is tolerated: clocks and time zones differ)
            _exp(
                "expect_column_values_to_be_between",
                "future",
                "actioned_at",
                column="actioned_at__received_offset",
                max_value=FUTURE_TOLERANCE_SECONDS,
            ),
            _exp(
                "expect_column_values_to_be_in_set",
                "platform",
                "platform_id",
                value_set={"$PARAMETER": "member_platforms"},
            ),
            _exp("expect_column_values_to_be_between", "range", "price", min_value=0),
            _exp("expect_column_values_to_match_regex", "format", "seller_country", regex=r"^[A-Z]{2}$"),
            _exp("expect_column_values_to_match_regex", "format", "currency", regex=r"^[A-Z]{3}$"),
            _exp("expect_column_values_to_be_between", "outlier", "price", "warning", max_value=1_000_000),
            _exp(
                "expect_column_values_to_be_in_set",
                "cites_consistency",
                "cites_appendix",
                "warning",
                column="cites_appendix__pair",
                value_set=[f"{c}/{a}" for c in COMMODITIES for a in (*CITES_BY_COMMODITY[c], "unknown")],
            ),
        ]
    else:
        exps += [
            _exp(
                "expect_column_pair_values_a_to_be_greater_than_b",
                "ordering",
                "window_end",
                column_A="window_end",
                column_B="window_start",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            ),
            _exp(
                "expect_column_values_to_be_between",
                "period",
                "window_start",
                column="window_start__period_offset",
                min_value=0,
                max_value=0,
            ),
            # a survey window that ends after the file arrived (a day for time zones)
            _exp(
                "expect_column_values_to_be_between",
                "future",
                "window_end",
                column="window_end__received_offset",
                max_value=1,
            ),
            _exp(
                "expect_column_values_to_be_in_set",
                "platform",
                "platform_id",
                value_set={"$PARAMETER": "registry_platforms"},
            ),
            _exp("expect_column_values_to_be_between", "range", "queries_run", min_value=1),
            _exp("expect_column_values_to_be_between", "range", "new_adverts_found", min_value=0),
            _exp("expect_column_values_to_be_between", "range", "adverts_referred", min_value=0),
            _exp(
                "expect_column_pair_values_a_to_be_greater_than_b",
                "referred_le_found",
                "adverts_referred",
                column_A="new_adverts_found",
                column_B="adverts_referred",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            ),
            _exp(
                "expect_column_values_to_match_regex",
                "format",
                "language",
                regex=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
            ),
            # one key column per file (validation.py builds it from platform_id, keyword_id,
            # window_start and window_end, prefixed with the file's index in the GX batch),
            # so files validated together never look like duplicates of each other
            _exp(
                "expect_column_values_to_be_unique",
                "duplicate_observation",
                "keyword_id",
                "warning",
                column="observation__in_file",
            ),
        ]
    return {
        "name": suite_name(dataset),
        "id": None,
        "expectations": exps,
        "meta": {
            "contract_version": CONTRACT_VERSION,
            "dataset": dataset,
            "generated_by": "ewto suites (ingestion/suites.py); edit the contract, not this file",
        },
        "notes": None,
    }


def render(dataset: str) -> str:
    return json.dumps(build_suite(dataset), indent=2, ensure_ascii=False) + "\n"


def write_suites() -> list[Path]:
    EXPECTATIONS_DIR.mkdir(parents=True, exist_ok=True)
    written = []
    for dataset in ("takedowns", "monitoring"):
        path = suite_path(dataset)
        path.write_text(render(dataset), encoding="utf-8")
        written.append(path)
    return written
