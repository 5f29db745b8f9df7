"""Response shapes of the upload API (they make the OpenAPI document precise)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Problem(BaseModel):
    detail: str = Field(description="What went wrong, in one sentence.")


class FindingOut(BaseModel):
    rule: str
    column: str | None = None
    rows_failing: int
    examples: list[int] = Field(default_factory=list, description="Line or row numbers of examples.")
    example_values: list[str] = Field(default_factory=list)
    message: str


class CheckOut(BaseModel):
    rule: str
    column: str | None = None
    severity: Literal["blocking", "warning"]
    success: bool
    rows_failing: int | None = None


class SubmissionReport(BaseModel):
    """The validation report of one submission (the same one `ewto submit --json` prints)."""

    model_config = ConfigDict(extra="allow")

    status: Literal["accepted", "rejected", "duplicate"]
    submission_id: str
    org_id: str
    dataset: Literal["takedowns", "monitoring"]
    period: str = Field(description="Month reported on, YYYY-MM.")
    file: str = Field(description="File name as received.")
    rows: int
    failures: list[FindingOut]
    warnings: list[FindingOut]
    duplicate_of: str | None = Field(
        default=None, description="For a duplicate: the submission with the same bytes."
    )
    verdict: Literal["accepted", "rejected"] | None = Field(
        default=None,
        description="The verdict that counts: the status, or for a duplicate the verdict on the "
        "original bytes (a rejected file sent again stays rejected, with the original's failures).",
    )
    received_at: str | None = None
    processed_at: str | None = None
    size_bytes: int | None = None
    sha256: str | None = None
    contract_version: int | None = None
    row_numbers: str | None = None
    checks: list[CheckOut] | None = None


class SubmissionSummary(BaseModel):
    submission_id: str
    org_id: str
    dataset: str
    period: str
    status: Literal["accepted", "rejected", "duplicate"]
    received_at: dt.datetime
    processed_at: dt.datetime | None = None
    file_name: str | None = None
    size_bytes: int | None = None
    sha256: str | None = None
    rows: int | None = None
    contract_version: int | None = None
    failures: int | None = None
    warnings: int | None = None


class SubmissionList(BaseModel):
    org_id: str
    submissions: list[SubmissionSummary] = Field(description="The caller's submissions, newest first.")


class ComplianceRow(BaseModel):
    org_id: str
    dataset: str
    month: dt.date
    status: Literal["on_time", "late", "rejected", "missing", "pending"]
    due_at: dt.datetime
    first_accepted_at: dt.datetime | None = None


class Compliance(BaseModel):
    org_id: str
    marts_published_at: dt.datetime | None = Field(
        description="When the marts read were published (null: no build yet, no rows)."
    )
    note: str
    rows: list[ComplianceRow]


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    marts_published: bool
