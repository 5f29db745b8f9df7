"""Where ewto keeps its state: everything lives under one folder, $EWTO_HOME (default ./var).

Layout (documented in docs/operations.md):
  lake/<dataset>/org_id=<org>/period=<YYYY-MM>/<submission_id>.parquet   landed rows
  lake/<dataset>/_schema.parquet                   zero-row file fixing the schema
  history/submissions/<submission_id>.parquet      one row per submission (the commit point)
  history/checks/<submission_id>.parquet           one row per file and rule
  reports/<submission_id>.json                     the report the submitter gets
  registry/{organisations,platforms}.parquet       the registry as of the last build
  build/warehouse.duckdb                           dbt's file (dbt is its only writer)
  marts.duckdb                                     the analysts' published copy
  inbox/<org>/<dataset>/                           files fetched by the collection DAG
  headline.txt, operator_alerts.jsonl              last KPI headline; failures for the operator
  auth/tokens.json, incoming/                      upload API tokens (hashes) and uploads in flight
  quarantine/<org>/<submission_id>.parquet         opt-in (EWTO_QUARANTINE=1): rejected rows, ids hashed
  data_docs/                                       GX Data Docs of the validation runs (ids redacted)
  staging/<submission_id>.<pid>.tmp                a large file's lake rows while it is read in pieces
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Home:
    root: Path

    @classmethod
    def from_env(cls) -> Home:
        return cls(Path(os.environ.get("EWTO_HOME", "var")).resolve())

    @property
    def lake(self) -> Path:
        return self.root / "lake"

    def lake_dataset(self, dataset: str) -> Path:
        return self.lake / dataset

    def lake_partition(self, dataset: str, org_id: str, period: str) -> Path:
        return self.lake / dataset / f"org_id={org_id}" / f"period={period}"

    @property
    def submissions(self) -> Path:
        return self.root / "history" / "submissions"

    @property
    def checks(self) -> Path:
        return self.root / "history" / "checks"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def registry(self) -> Path:
        return self.root / "registry"

    @property
    def build_dir(self) -> Path:
        return self.root / "build"

    @property
    def warehouse(self) -> Path:
        return self.build_dir / "warehouse.duckdb"

    @property
    def marts(self) -> Path:
        return self.root / "marts.duckdb"

    @property
    def locks(self) -> Path:
        return self.root / "locks"

    @property
    def quarantine(self) -> Path:
        """Opt-in (EWTO_QUARANTINE=1) pseudonymised copies of rejected files."""
        return self.root / "quarantine"

    @property
    def staging(self) -> Path:
        """Lake files being written in pieces (renamed into the lake when accepted)."""
        return self.root / "staging"

    @property
    def data_docs(self) -> Path:
        """Great Expectations Data Docs of the validation runs (redacted)."""
        return self.root / "data_docs"
