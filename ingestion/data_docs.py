"""Great Expectations Data Docs of the intake's validation runs, under $EWTO_HOME/data_docs.

Each validated file gets its own validation result (the GX run of a batch of files is split
back per file, as for the reports) with **counts only**: GX keeps the failing values in a
result (`unexpected_list` and friends), which may hold identifiers in clear (validation runs
before pseudonymisation), so none of them is kept. The results are stored by a file-backed
GX context under `data_docs/gx/` and rendered as a static site, `data_docs/site/index.html`.

Rendering costs about half a second per call plus a few tenths per page (and the context
is loaded once per process), so by default only **rejected** files are rendered, the ones a
member or an operator has to read; accepted files have their per-rule counts in the
warehouse (`history/checks`). `EWTO_DATA_DOCS=all` renders every validated file,
`EWTO_DATA_DOCS=off` none. A failure to render never fails a submission: the report and
the history row are the record.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from .atomic import file_lock
from .paths import Home

SITE = "ewto_intake"


@dataclass(frozen=True)
class FileResult:
    """One file's share of a GX run: the expectations and the file's counts per expectation."""

    submission_id: str
    suite_name: str
    run: Any  # the batch's ExpectationSuiteValidationResult (only its configuration is used)
    rows: int
    failing: list[int]  # per expectation of `run.results`, rows failing in this file
    success: list[bool]


def mode() -> str:
    value = os.environ.get("EWTO_DATA_DOCS", "").strip().lower()
    return value if value in ("all", "off") else "needed"


@lru_cache(maxsize=4)
def _context(root: str) -> Any:
    """A file-backed GX context rooted at data_docs/, with one local site in data_docs/site."""
    from .validation import _gx

    gx, _ = _gx()  # imports GX with the intake's settings
    ctx = gx.get_context(mode="file", project_root_dir=root)
    for name in list(ctx.get_config().data_docs_sites or {}):
        ctx.delete_data_docs_site(name)  # GX's default site, or ours with an older config
    ctx.add_data_docs_site(
        SITE,
        {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(Path(root) / "site"),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder", "show_cta_footer": False},
        },
    )
    return ctx


def _file_result(item: FileResult, run_id: Any) -> Any:
    """The file's validation result, with counts and no value of the file."""
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResult,
        ExpectationValidationResult,
    )

    results = []
    for r, failing, ok in zip(item.run.results, item.failing, item.success, strict=True):
        counts: dict[str, Any] = {}
        if r.expectation_config.type != "expect_column_to_exist":
            counts = {
                "element_count": item.rows,
                "unexpected_count": failing,
                "unexpected_percent": 100.0 * failing / item.rows if item.rows else 0.0,
                "missing_count": 0,
                "missing_percent": 0.0,
            }
        crashed = bool(r.exception_info and r.exception_info.get("raised_exception"))
        results.append(
            ExpectationValidationResult(
                success=ok,
                expectation_config=r.expectation_config,
                result=counts,
                exception_info={
                    "raised_exception": crashed,
                    "exception_message": "the expectation could not be evaluated" if crashed else None,
                    "exception_traceback": None,
                },
            )
        )
    evaluated = len(results)
    passed = sum(1 for r in results if r.success)
    return ExpectationSuiteValidationResult(
        success=passed == evaluated,
        results=results,
        suite_name=item.suite_name,
        suite_parameters=dict(item.run.suite_parameters or {}),
        statistics={
            "evaluated_expectations": evaluated,
            "successful_expectations": passed,
            "unsuccessful_expectations": evaluated - passed,
            "success_percent": 100.0 * passed / evaluated if evaluated else None,
        },
        meta={
            "great_expectations_version": item.run.meta.get("great_expectations_version"),
            "run_id": run_id,
            "active_batch_definition": {
                "datasource_name": "ewto_intake",
                "data_connector_name": "fluent",
                "data_asset_name": item.submission_id,
                "batch_identifiers": {"submission_id": item.submission_id},
            },
            "submission_id": item.submission_id,
            "rows": item.rows,
        },
    )


def publish(home: Home, items: list[FileResult], rejected: set[str], when: dt.datetime) -> Path | None:
    """Store and render the results of the rejected submissions (of all with `all`).

    Returns the site's index.html, or None when nothing was rendered. Never raises: a
    warning on stderr instead (the submission is already committed).
    """
    items = [i for i in items if mode() == "all" or (mode() != "off" and i.submission_id in rejected)]
    if not items:
        return None
    try:
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )

        root = home.data_docs
        root.mkdir(parents=True, exist_ok=True)
        with file_lock(home.locks / "data_docs.lock"):
            ctx = _context(str(root))
            keys = []
            for item in items:
                run_id = RunIdentifier(run_name=item.submission_id, run_time=when.replace(tzinfo=dt.UTC))
                key = ValidationResultIdentifier(
                    ExpectationSuiteIdentifier(name=item.suite_name),
                    run_id,
                    batch_identifier=item.submission_id,
                )
                ctx.validation_results_store.set(key, _file_result(item, run_id))
                keys.append(key)
            ctx.build_data_docs(site_names=[SITE], resource_identifiers=keys)
        return root / "site" / "index.html"
    except Exception as exc:  # noqa: BLE001 - documentation must never fail an intake
        print(f"warning: GX Data Docs not rendered: {type(exc).__name__}: {exc}", file=sys.stderr)
        return None
