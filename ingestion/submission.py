"""One submission, end to end: read, map, validate, pseudonymise, land, record.

`submit_files` takes several files at once (one organisation's new exports) because the
cost of a Great Expectations run does not depend on rows; each file still gets its own
verdict, report and history row. Nothing of a rejected file is written to the lake; an
accepted file becomes visible only when its history row (the commit point) is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import mmap
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from . import data_docs, overlap
from .atomic import StagedParquet, file_lock, write_bytes, write_parquet
from .contract import CONTRACT_VERSION, DATASETS, columns
from .errors import FileUnreadable, Finding, UsageError
from .history import SubmissionRecord, latest_accepted, load_history
from .lake import CHECKS_SCHEMA, LAKE_SCHEMAS, SUBMISSIONS_SCHEMA, ensure_layout
from .mapping import MappedTable, map_to_contract, rename_columns
from .overlap import InOrder, Prefetch
from .paths import Home
from .pseudonymise import hash_series, pseudonym_key
from .readers import NotStreamable, csv_pieces, read_table, release
from .registry import Organisation, Registry, load_registry
from .suites import suite_name
from .validation import OBSERVATION_KEY, CheckResult, suite_rules, validate_files


@dataclass(frozen=True)
class SubmissionRequest:
    org_id: str
    dataset: str
    period: str  # YYYY-MM
    path: Path
    received_at: dt.datetime  # timezone-aware or naive UTC


@dataclass
class SubmissionOutcome:
    request: SubmissionRequest
    status: str  # accepted | rejected | duplicate
    submission_id: str
    rows: int
    failures: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    duplicate_of: str | None = None
    # the verdict that counts: the status, or for a duplicate the verdict on the original
    # bytes (a rejected file sent again stays rejected: exit code 3, HTTP 422)
    verdict: str = ""
    row_label: str = "row"  # what `examples` count: "line" (CSV, JSON Lines) or "row"

    def __post_init__(self) -> None:
        if not self.verdict:
            self.verdict = self.status if self.status != "duplicate" else "accepted"

    @property
    def rejected(self) -> bool:
        return self.verdict == "rejected"

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "submission_id": self.submission_id,
            "org_id": self.request.org_id,
            "dataset": self.request.dataset,
            "period": self.request.period,
            "file": str(self.request.path),
            "rows": self.rows,
            "failures": [_public(f) for f in self.failures],
            "warnings": [_public(f) for f in self.warnings],
            "verdict": self.verdict,
            "row_numbers": ROW_NUMBERS[self.row_label],
            **({"duplicate_of": self.duplicate_of} if self.duplicate_of else {}),
        }


def _public(f: Finding) -> dict[str, Any]:
    return {
        "rule": f.rule,
        "column": f.column,
        "rows_failing": f.rows_failing,
        "examples": f.examples,
        "example_values": f.example_values,
        "message": f.message,
    }


def _utc_naive(ts: dt.datetime) -> dt.datetime:
    if ts.tzinfo is not None:
        ts = ts.astimezone(dt.UTC).replace(tzinfo=None)
    return ts.replace(microsecond=ts.microsecond)


def check_request(registry: Registry, req: SubmissionRequest) -> Organisation:
    """Usage errors: unknown organisation, wrong dataset for it, malformed period."""
    if not registry.has_org(req.org_id):
        raise UsageError(f"unknown organisation {req.org_id!r} (not in config/members.yml)")
    org = registry.org(req.org_id)
    if req.dataset not in DATASETS:
        raise UsageError(f"unknown dataset {req.dataset!r}: use takedowns or monitoring")
    if req.dataset not in org.datasets():
        raise UsageError(f"{req.org_id} is a {org.kind}: it submits {', '.join(org.datasets())}")
    try:
        dt.date.fromisoformat(f"{req.period}-01")
        if len(req.period) != 7:
            raise ValueError
    except ValueError as exc:
        raise UsageError(f"period must be YYYY-MM, got {req.period!r}") from exc
    return org


@dataclass
class _Work:
    request: SubmissionRequest
    org: Organisation
    data: bytes
    sha256: str
    submission_id: str
    size_bytes: int = 0
    read_error: Finding | None = None
    mapped: MappedTable | None = None
    unknown: list[Finding] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    duplicate_of: str | None = None  # the original submission of the same bytes
    original_index: int | None = None  # ... when it is in the same batch
    row_label: str | None = None  # "line" or "row", from the type the reader detected
    raw: pl.DataFrame | None = None  # the text as read, kept only for a quarantine copy
    run: Any = None  # the GX run that validated the file (for Data Docs)
    staged: StagedParquet | None = None  # lake rows of a file read in pieces, not yet in the lake
    file: mmap.mmap | None = None  # a file larger than a piece, memory-mapped instead of read

    def let_go(self) -> None:
        """The file's content is no longer needed."""
        self.data = b""
        if self.file is not None:
            self.file.close()
            self.file = None


def _finding_for_unreadable(exc: FileUnreadable) -> Finding:
    return Finding(exc.rule, None, "blocking", 0, exc.message)


def _lake_frame(work: _Work, key: bytes, frame: pl.DataFrame | None = None) -> pl.DataFrame:
    """The lake's rows of the file (or of `frame`, one piece of it): ids hashed."""
    if frame is None:
        assert work.mapped is not None
        frame = work.mapped.frame
    schema = LAKE_SCHEMAS[work.request.dataset]
    constants = {
        "submission_id": work.submission_id,
        "org_id": work.request.org_id,
        "period": work.request.period,
    }
    exprs: list[pl.Expr] = []
    for name, dtype in schema.items():
        if name in constants:
            exprs.append(pl.lit(constants[name], dtype=dtype).alias(name))
        elif name in frame.columns:
            exprs.append(pl.col(name).cast(dtype))
        else:
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
    out = frame.select(exprs)
    if work.request.dataset == "takedowns":
        platforms = work.org.platforms
        out = out.with_columns(
            hash_series(key, out["record_id"]),
            hash_series(key, out["seller_id"]),
            pl.col("platform_id").fill_null(platforms[0] if len(platforms) == 1 else None),
            pl.col("appealed").fill_null(False),
            pl.col("restored").fill_null(False),
        )
    return out


def _report(work: _Work, outcome: SubmissionOutcome, record: SubmissionRecord) -> dict[str, Any]:
    return {
        **outcome.as_dict(),
        "file": record.file_name,
        "received_at": record.received_at.isoformat() + "Z",
        "processed_at": record.processed_at.isoformat() + "Z",
        "size_bytes": record.size_bytes,
        "sha256": record.sha256,
        "contract_version": CONTRACT_VERSION,
        "row_numbers": ROW_NUMBERS[_row_label(work)],
        "checks": [
            {
                "rule": c.rule,
                "column": c.column,
                "severity": c.severity,
                "success": c.success,
                "rows_failing": c.rows_failing,
            }
            for c in work.checks
        ],
    }


ROW_NUMBERS = {
    "line": "line numbers of the file (header = line 1)",
    "row": "row numbers (spreadsheet row / 1-based record)",
}


def _row_label(work: _Work) -> str:
    """What the example numbers count: from the detected file type, else the file name."""
    if work.row_label in ROW_NUMBERS:
        return work.row_label
    text = (".csv", ".tsv", ".txt", ".jsonl", ".ndjson", ".json")
    return "line" if work.request.path.suffix.lower() in text else "row"


def _checks_frame(submission_id: str, work: _Work, findings: list[Finding]) -> pl.DataFrame:
    rows = [
        {
            "submission_id": submission_id,
            "rule": c.rule,
            "column_name": c.column,
            "severity": c.severity,
            "success": c.success,
            "rows_checked": c.rows_checked,
            "rows_failing": c.rows_failing,
            "examples": json.dumps(c.examples),
        }
        for c in work.checks
    ]
    checked = {(c.rule, c.column) for c in work.checks}
    for f in findings:
        if (f.rule, f.column) not in checked:
            rows.append(
                {
                    "submission_id": submission_id,
                    "rule": f.rule,
                    "column_name": f.column,
                    "severity": f.severity,
                    "success": False,
                    "rows_checked": work.mapped.frame.height if work.mapped is not None else 0,
                    "rows_failing": f.rows_failing,
                    "examples": json.dumps(f.examples),
                }
            )
    return pl.DataFrame(rows, schema=CHECKS_SCHEMA)


LAKE_ZSTD_LEVEL = 1  # lake files are written once per submission and read by the builds: speed first
PRIVATE_COLUMNS = frozenset(c.name for ds in DATASETS for c in columns(ds) if c.pseudonymised)
# rules whose example values are parsed timestamps, dates or numbers, never raw text
TYPED_VALUE_RULES = frozenset({"period", "future", "ordering", "range", "outlier", "referred_le_found"})
WHOLE_COLUMN_NOTE = (
    "; every row fails, so the column may hold other data (are two headers swapped?): "
    "its values are not shown"
)


def _parts(value: str) -> list[str]:
    """A value and the pieces of it a derived column joins with "/" (`commodity/appendix`)."""
    pieces = value.split("/")
    if len(pieces) == 1:
        return [value]
    joins = ["/".join(pieces[i:j]) for i in range(len(pieces)) for j in range(i + 1, len(pieces) + 1)]
    return [value, *joins[:64]]


def _private_hits(findings: list[Finding], mapped: MappedTable | None) -> set[str]:
    """The example values that occur, whole or as a piece, in the file's identifier columns."""
    if mapped is None:
        return set()
    candidates = sorted({p for f in findings for v in f.example_values for p in _parts(v)})
    if not candidates:
        return set()
    probe = pl.Series(candidates, dtype=pl.String)
    hits: set[str] = set()
    for name in PRIVATE_COLUMNS & set(mapped.frame.columns):
        column = mapped.frame[name].cast(pl.String)
        hits.update(probe.filter(probe.is_in(column.implode())).to_list())
    return {v for f in findings for v in f.example_values if any(p in hits for p in _parts(v))}


def _redact(findings: list[Finding], mapped: MappedTable | None = None) -> list[Finding]:
    """Never echo identifiers back in clear: reports keep row numbers, not the values.

    Example values are dropped (1) for the identifier columns, (2) when a value also occurs
    in the file's identifier columns, and (3) when every row of the file fails the rule: a
    column that fails as a whole is most likely another column under a wrong header (two
    headers swapped), possibly the identifiers, which (2) cannot recognise then. Rules that
    show parsed timestamps, dates or numbers (TYPED_VALUE_RULES) keep their values under (3):
    a value that parsed as a timestamp is not an identifier.
    """
    private = _private_hits(findings, mapped)
    rows = mapped.frame.height if mapped is not None else 0
    out = []
    for f in findings:
        if not f.example_values:
            out.append(f)
        elif f.column in PRIVATE_COLUMNS:
            out.append(Finding(f.rule, f.column, f.severity, f.rows_failing, f.message, f.examples, []))
        elif rows and f.rows_failing >= rows and f.rule not in TYPED_VALUE_RULES:
            message = f.message + WHOLE_COLUMN_NOTE
            out.append(Finding(f.rule, f.column, f.severity, f.rows_failing, message, f.examples, []))
        else:
            kept = [v for v in f.example_values if v not in private]
            out.append(Finding(f.rule, f.column, f.severity, f.rows_failing, f.message, f.examples, kept))
    return out


def _findings_of(report: dict[str, Any], key: str, severity: str) -> list[Finding]:
    return [
        Finding(
            str(f.get("rule")),
            f.get("column"),
            severity,  # type: ignore[arg-type]
            int(f.get("rows_failing") or 0),
            str(f.get("message") or ""),
            [int(x) for x in f.get("examples") or []],
            [str(x) for x in f.get("example_values") or []],
        )
        for f in report.get(key) or []
        if isinstance(f, dict)
    ]


def _duplicate_outcome(home: Home, w: _Work, original: str, original_status: str) -> SubmissionOutcome:
    """Bytes already submitted: nothing is redone; the verdict and findings are the original's."""
    try:
        report = json.loads((home.reports / f"{original}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        report = {}
    if not isinstance(report, dict):
        report = {}
    return SubmissionOutcome(
        w.request,
        "duplicate",
        w.submission_id,
        0,
        _findings_of(report, "failures", "blocking"),
        _findings_of(report, "warnings", "warning"),
        duplicate_of=original,
        verdict="rejected" if original_status == "rejected" else "accepted",
    )


def quarantine_enabled() -> bool:
    """EWTO_QUARANTINE=1: keep a pseudonymised copy of each rejected file's rows."""
    return os.environ.get("EWTO_QUARANTINE", "").strip().lower() in ("1", "true", "yes", "on")


def _quarantine_frame(w: _Work, outcome: SubmissionOutcome, key: bytes) -> pl.DataFrame | None:
    """The rejected file's rows as delivered (text, contract column names), safe to keep.

    Identifiers are hashed like the lake's (HMAC-SHA256): the record_id and seller_id
    columns, any value of another column that is one of the file's identifiers, and every
    column that fails a rule on every row (it may be the identifiers under a swapped
    header, see `_redact`). Columns outside the contract are left out: nobody knows what
    they hold. A file that could not be read as a table has no copy.
    """
    if w.raw is None or w.mapped is None:
        return None
    frame = rename_columns(w.raw, w.request.dataset, w.org.export)
    rows = frame.height
    ids = [c for c in frame.columns if c in PRIVATE_COLUMNS]
    whole = {
        f.column
        for f in outcome.failures + outcome.warnings
        if f.column and rows and f.rows_failing >= rows and f.rule not in TYPED_VALUE_RULES
    }
    id_values = (
        pl.concat([frame[c].cast(pl.String) for c in ids]).drop_nulls().unique()
        if ids
        else pl.Series([], dtype=pl.String)
    )
    out: list[pl.Series] = []
    for name in frame.columns:
        column = frame[name]
        if name == "source_row":
            out.append(column)
        elif name in ids or name in whole:
            out.append(hash_series(key, column.cast(pl.String)))
        else:
            text = column.cast(pl.String)
            clear = text.is_in(id_values.implode()).fill_null(False)
            out.append(hash_series(key, text).zip_with(clear, text) if clear.any() else text)
    return pl.DataFrame(out)


PIECE_BYTES = 128 << 20  # a large CSV is read, checked and landed this many bytes at a time


def piece_bytes() -> int:
    """Bytes of a large CSV handled at a time (EWTO_INTAKE_PIECE_BYTES; tests use small pieces)."""
    try:
        value = int(os.environ.get("EWTO_INTAKE_PIECE_BYTES", "") or PIECE_BYTES)
    except ValueError:
        value = PIECE_BYTES
    return max(value, 1)


# rules across rows, checked once on the whole file's keys (record ids, observation keys), not per piece
WHOLE_FILE_RULES = frozenset({"unique", "duplicate_observation"})


def _merge(total: list[CheckResult], part: list[CheckResult]) -> list[CheckResult]:
    """The results of consecutive pieces of one file, as one run over the whole file gives
    them: counts added, the first ten examples (in file order) kept. `part` may lack the
    WHOLE_FILE_RULES (checked on the whole file afterwards): `total`'s results stand for them.
    """
    out = []
    rest = iter(part)
    b = next(rest, None)
    for a in total:
        if b is not None and (a.rule, a.column, a.severity) == (b.rule, b.column, b.severity):
            out.append(
                CheckResult(
                    a.rule,
                    a.column,
                    a.severity,
                    a.success and b.success,
                    a.rows_checked + b.rows_checked,
                    a.rows_failing + b.rows_failing,
                    (a.examples + b.examples)[:10],
                    (a.example_values + b.example_values)[:10],
                )
            )
            b = next(rest, None)
        elif a.rule in WHOLE_FILE_RULES:
            out.append(a)
        else:
            raise NotStreamable("the pieces ran different expectations")
    if b is not None:
        raise NotStreamable("the pieces ran different expectations")
    return out


def _validation_parameters(registry: Registry, org_id: str) -> dict[str, Any]:
    return {
        "member_platforms": list(registry.org(org_id).platforms),
        "registry_platforms": sorted(registry.platform_ids()),
    }


def _identify(w: _Work, sha256: str) -> None:
    """Name the submission after its content (the same bytes again are a duplicate)."""
    req = w.request
    w.sha256 = sha256
    w.submission_id = f"{req.org_id}_{req.dataset}_{req.period}_{sha256[:12]}"


SHA_STEP = 64 << 20  # a memory-mapped file is hashed, and its pages let go, this much at a time


def _sha256_of_map(data: mmap.mmap) -> str:
    """The SHA-256 of a memory-mapped file, without keeping the whole file resident."""
    digest = hashlib.sha256()
    with memoryview(data) as view:
        for start in range(0, len(data), SHA_STEP):
            with view[start : start + SHA_STEP] as part:
                digest.update(part)  # hashlib lets go of Python's lock for large buffers
            release(data, start, min(start + SHA_STEP, len(data)))
    return digest.hexdigest()


def _start_pieces(w: _Work) -> Prefetch[MappedTable] | None:
    """Start reading and mapping a large CSV's pieces on a thread (`_read_in_pieces` takes
    them), or None when it cannot be read in pieces with the same outcome (`csv_pieces`)."""
    req = w.request
    assert w.file is not None
    pieces = csv_pieces(req.path, w.file, w.org.export, piece_bytes())
    if pieces is None:
        return None
    received = _utc_naive(req.received_at)

    def mapped_pieces() -> Iterator[MappedTable]:  # on the reading thread
        for raw in pieces:
            yield map_to_contract(raw.frame, req.dataset, w.org.export, w.org.timezone, req.period, received)
            del raw

    return Prefetch(mapped_pieces(), depth=1, name="ewto-read", threaded=overlap.enabled())


def _read_in_pieces(
    home: Home, w: _Work, registry: Registry, key: bytes, reading: Prefetch[MappedTable]
) -> bool:
    """Read, map, validate, hash and stage a large CSV one piece at a time.

    Why: read whole, a 1 GB export needs over 5 GB of memory (text, typed columns and GX's
    pandas copy at once); in pieces, one piece's worth. Every rule is a row-level rule except
    the uniqueness of `record_id` and of a monitoring observation (WHOLE_FILE_RULES), which
    GX checks once more on the whole file's keys (kept for that and for the redaction of
    reports, `_redact`). Counts and the first ten example
    lines are merged in file order, so verdicts, messages and line numbers are those of a
    whole-file run. Lake rows go to a staged file that the commit renames into the lake
    only when the whole file is accepted; a piece that fails stops the staging.

    The stages overlap (ingestion/overlap.py; EWTO_INTAKE_OVERLAP=0 runs them one after
    another): while GX validates a piece (pure Python, holding the GIL), a thread reads and
    maps the next one and another hashes and stages this one (polars and Arrow, which
    release it). Results are merged in file order whatever the timing, so the outcome is
    the same either way.

    `reading`: the pieces, read and mapped (`_start_pieces`). False (nothing done) when a
    piece cannot be read as it would be in the whole file: the caller reads it whole.
    """
    req = w.request
    params = _validation_parameters(registry, req.org_id)
    staged = StagedParquet(home.staging / f"{w.submission_id}.{os.getpid()}.tmp", LAKE_ZSTD_LEVEL)
    checks: list[CheckResult] | None = None
    meta: MappedTable | None = None
    ids: list[pl.DataFrame] = []
    run: Any = None
    rejected = threading.Event()  # a piece failed a blocking rule: stage nothing more
    streamable = True  # False: read it whole instead (a piece could not be read alike)

    def stage(frame: pl.DataFrame) -> None:  # on the writing thread, pieces in file order
        if not rejected.is_set():
            staged.write(_lake_frame(w, key, frame))
            fault_point("after_piece_staged")

    # three threads: read and map the next piece, validate this one (GX holds the GIL),
    # hash and stage this one (see ingestion/overlap.py)
    writing = InOrder(pending=1, name="ewto-stage", threaded=overlap.enabled())
    try:
        for mapped in reading:
            if meta is None:
                meta = replace(mapped, frame=mapped.frame.clear())
            elif mapped.frame.schema != meta.frame.schema:
                raise NotStreamable("the pieces were typed differently")
            if not rejected.is_set():
                writing.submit(lambda frame=mapped.frame: stage(frame))
            runs: list[Any] = []
            # the first piece runs the whole suite (its run stands for the file in Data Docs),
            # the others all but the whole-file rules
            piece_rules = None if checks is None else suite_rules(req.dataset) - WHOLE_FILE_RULES
            [part] = validate_files([mapped], req.dataset, params, runs, rules=piece_rules)
            run = run if run is not None else runs[0]
            checks = part if checks is None else _merge(checks, part)
            present = set(mapped.frame.columns)
            observation = OBSERVATION_KEY if set(OBSERVATION_KEY) <= present else ()
            kept = [c for c in ("source_row", *sorted(PRIVATE_COLUMNS), *observation) if c in present]
            ids.append(mapped.frame.select(kept))
            if any(not c.success and c.severity == "blocking" for c in checks):
                rejected.set()
            del mapped
        assert meta is not None and checks is not None
        whole = replace(meta, frame=pl.concat(ids))
        del ids
        keys = set(whole.frame.columns)
        if "record_id" in keys or set(OBSERVATION_KEY) <= keys:  # the whole-file rules
            [unique] = validate_files([whole], req.dataset, params, None, rules=WHOLE_FILE_RULES)
            for u in unique:
                for k, c in enumerate(checks):
                    if (c.rule, c.column, c.severity) == (u.rule, u.column, u.severity):
                        checks[k] = u
            if any(not u.success and u.severity == "blocking" for u in unique):
                rejected.set()
        writing.wait()  # the last piece was staged while the ids were checked
    except (FileUnreadable, NotStreamable):
        streamable = False
        rejected.set()
    finally:
        reading.close()  # the threads are stopped before the staged file is discarded
        writing.close()
    if rejected.is_set():
        staged.discard()  # rejected (or to be read whole): nothing of it will land
    if not streamable:
        return False
    w.mapped = whole
    w.checks = checks
    w.run = run
    w.row_label = "line"
    w.unknown = [
        Finding("unknown_column", col, "warning", 0, f"column {col!r} is not in the contract and was ignored")
        for col in whole.unknown_columns
    ]
    w.staged = staged if staged.started else None
    return True


def submit_files(
    requests: list[SubmissionRequest],
    home: Home | None = None,
    registry: Registry | None = None,
) -> list[SubmissionOutcome]:
    """Submit files; each gets its own outcome. Raises UsageError only for bad requests."""
    home = home or Home.from_env()
    registry = registry or load_registry()
    key = pseudonym_key()
    ensure_layout(home)
    history = load_history(home)
    quarantine = quarantine_enabled()
    works: list[_Work] = []
    for req in requests:
        org = check_request(registry, req)
        try:
            large = req.path.stat().st_size > piece_bytes()
            if large:  # mapped, not read: it may be read in pieces (`_read_in_pieces`)
                with open(req.path, "rb") as fh:
                    file: mmap.mmap | None = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
                data = b""
            else:
                file, data = None, req.path.read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read {req.path}: {exc.strerror}") from exc
        work = _Work(req, org, data, "", "", len(file) if file is not None else len(data), file=file)
        if file is None:  # a large file's checksum is taken while its first piece is read
            _identify(work, hashlib.sha256(data).hexdigest())
        works.append(work)
        del data, file, work  # held by the work item only, which lets it go once read

    outcomes: dict[int, SubmissionOutcome] = {}
    to_validate: dict[str, list[int]] = {}
    seen: dict[str, str] = {}
    seen_index: dict[str, int] = {}
    for i, w in enumerate(works):
        reading: Prefetch[MappedTable] | None = None
        if w.file is not None:
            # the first piece is read and mapped (a thread) while the file's checksum is
            # taken here (hashlib lets go of Python's lock): nothing is staged before the
            # checksum names the submission, and a duplicate stops the reading unused
            reading = None if quarantine else _start_pieces(w)
            try:
                _identify(w, _sha256_of_map(w.file))
            except BaseException:
                if reading is not None:
                    reading.close()
                raise
        partition_key = f"{w.request.org_id}|{w.request.dataset}|{w.request.period}|{w.sha256}"
        prior = history.filter(
            (pl.col("org_id") == w.request.org_id)
            & (pl.col("dataset") == w.request.dataset)
            & (pl.col("period") == w.request.period)
            & (pl.col("sha256") == w.sha256)
            & (pl.col("status") != "duplicate")
        )
        if prior.height or partition_key in seen:
            original = prior["submission_id"][0] if prior.height else seen[partition_key]
            n_dups = history.filter(pl.col("submission_id").str.starts_with(original + "_dup")).height
            in_batch = sum(1 for o in outcomes.values() if o.duplicate_of == original)
            w.submission_id = f"{original}_dup{n_dups + in_batch + 1}"
            w.duplicate_of = original
            if reading is not None:
                reading.close()  # its thread is stopped before the map is closed
            w.let_go()  # never read again
            if prior.height:
                outcomes[i] = _duplicate_outcome(home, w, original, prior["status"][0])
            else:
                w.original_index = seen_index[partition_key]
                outcomes[i] = SubmissionOutcome(
                    w.request, "duplicate", w.submission_id, 0, duplicate_of=original
                )
            continue
        seen[partition_key] = w.submission_id
        seen_index[partition_key] = i
        if w.file is not None:
            if reading is not None and _read_in_pieces(home, w, registry, key, reading):
                w.let_go()
                continue
            w.data = w.file[:]  # read whole after all
            w.file.close()
            w.file = None
        try:
            raw = read_table(w.request.path, w.data, w.org.export)
        except FileUnreadable as exc:
            w.read_error = _finding_for_unreadable(exc)
            continue
        finally:
            w.let_go()  # the bytes are read: their memory is needed for what comes next
        w.row_label = raw.row_label
        if quarantine:
            w.raw = raw.frame
        w.mapped = map_to_contract(
            raw.frame,
            w.request.dataset,
            w.org.export,
            w.org.timezone,
            w.request.period,
            _utc_naive(w.request.received_at),
        )
        w.unknown = [
            Finding(
                "unknown_column", col, "warning", 0, f"column {col!r} is not in the contract and was ignored"
            )
            for col in w.mapped.unknown_columns
        ]
        del raw  # only the mapped frame (and a quarantine copy's text) is kept
        to_validate.setdefault(f"{w.org.id}|{w.request.dataset}", []).append(i)

    for group, idxs in to_validate.items():
        org_id, dataset = group.split("|")
        params = _validation_parameters(registry, org_id)
        runs: list[Any] = []
        results = validate_files([works[i].mapped for i in idxs], dataset, params, runs)  # type: ignore[misc]
        for i, res, run in zip(idxs, results, runs, strict=True):
            works[i].checks = res
            works[i].run = run

    processed_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    results_out: list[SubmissionOutcome] = []
    for i, w in enumerate(works):
        if i in outcomes:
            outcome = outcomes[i]
            if w.original_index is not None:  # the original is earlier in this batch
                first = results_out[w.original_index]
                outcome.verdict = first.verdict
                outcome.failures = list(first.failures)
                outcome.warnings = list(first.warnings)
        else:
            failures: list[Finding] = []
            if w.read_error:
                failures.append(w.read_error)
            for c in w.checks:
                if not c.success and c.severity == "blocking":
                    f = c.finding()
                    if c.rule == "required_column" and c.column in (w.mapped.suggestions if w.mapped else {}):
                        f = Finding(
                            f.rule,
                            f.column,
                            f.severity,
                            f.rows_failing,
                            f"{f.message}; did you mean the column {w.mapped.suggestions[c.column]!r}?",
                        )
                    failures.append(f)
            warnings = [
                c.finding() for c in w.checks if not c.success and c.severity == "warning"
            ] + w.unknown
            rows = w.mapped.frame.height if w.mapped is not None else 0
            status = "rejected" if failures else "accepted"
            outcome = SubmissionOutcome(
                w.request,
                status,
                w.submission_id,
                rows,
                _redact(failures, w.mapped),
                _redact(warnings, w.mapped),
            )
        outcome.row_label = _row_label(w)
        _commit(home, w, outcome, processed_at, key, registry)
        results_out.append(outcome)
    _publish_data_docs(home, works, results_out, processed_at)
    return results_out


def _publish_data_docs(
    home: Home, works: list[_Work], outcomes: list[SubmissionOutcome], processed_at: dt.datetime
) -> None:
    """GX Data Docs (counts only) of the rejected files, or of all (ingestion/data_docs.py)."""
    items, rejected = [], set()
    for w, o in zip(works, outcomes, strict=True):
        if w.run is None or w.mapped is None or not w.checks:
            continue
        items.append(
            data_docs.FileResult(
                submission_id=o.submission_id,
                suite_name=suite_name(w.request.dataset),
                run=w.run,
                rows=w.mapped.frame.height,
                failing=[c.rows_failing for c in w.checks],
                success=[c.success for c in w.checks],
            )
        )
        if o.status == "rejected":
            rejected.add(o.submission_id)
        w.run = None
    data_docs.publish(home, items, rejected, processed_at)


def _commit(
    home: Home,
    w: _Work,
    outcome: SubmissionOutcome,
    processed_at: dt.datetime,
    key: bytes,
    registry: Registry,
) -> None:
    """Land (if accepted), then write report, checks and the history row (the commit)."""
    req = w.request
    record = SubmissionRecord(
        submission_id=outcome.submission_id,
        org_id=req.org_id,
        dataset=req.dataset,
        period=req.period,
        status=outcome.status,
        received_at=_utc_naive(req.received_at),
        processed_at=processed_at,
        file_name=req.path.name,
        size_bytes=w.size_bytes,
        sha256=w.sha256,
        rows=outcome.rows,
        contract_version=CONTRACT_VERSION,
        failures=len(outcome.failures),
        warnings=len(outcome.warnings),
    )
    partition = home.lake_partition(req.dataset, req.org_id, req.period)
    lock = home.locks / f"{req.dataset}-{req.org_id}-{req.period}.lock"
    with file_lock(lock):
        target = partition / f"{outcome.submission_id}.parquet"
        if outcome.status == "accepted" and w.staged is not None:
            w.staged.commit(target)  # a file read in pieces: its staged rows, renamed in
        elif outcome.status == "accepted":
            write_parquet(target, _lake_frame(w, key), LAKE_ZSTD_LEVEL)
        elif w.staged is not None:
            w.staged.discard()
        w.staged = None
        if outcome.status == "rejected" and w.raw is not None:
            copy = _quarantine_frame(w, outcome, key)
            if copy is not None:
                write_parquet(home.quarantine / req.org_id / f"{outcome.submission_id}.parquet", copy)
        fault_point("after_lake_write")
        report = _report(w, outcome, record)
        write_bytes(
            home.reports / f"{outcome.submission_id}.json",
            json.dumps(report, indent=2, ensure_ascii=False).encode(),
        )
        if outcome.status != "duplicate":
            write_parquet(
                home.checks / f"{outcome.submission_id}.parquet",
                _checks_frame(outcome.submission_id, w, outcome.failures + outcome.warnings),
            )
        fault_point("before_commit")
        write_parquet(home.submissions / f"{outcome.submission_id}.parquet", record.frame())
        fault_point("after_commit")
        _prune_partition(home, req.dataset, req.org_id, req.period)


def fault_point(name: str) -> None:
    """Crash here (as a killed process would) when EWTO_FAULT_INJECT names this point.

    Used by the crash-consistency tests to stop a submission between its writes; a
    no-op otherwise.
    """
    if os.environ.get("EWTO_FAULT_INJECT") == name:
        os._exit(137)


def _prune_partition(home: Home, dataset: str, org_id: str, period: str) -> None:
    """Remove what no longer counts: replaced lake files and leftovers of crashed writes.

    Runs under the partition lock. A lake file counts only for the latest accepted
    submission; check and report files count only when their history row exists.
    """
    prefix = f"{org_id}_{dataset}_{period}_"
    mine = list(home.submissions.glob(f"{prefix}*.parquet"))
    history = pl.read_parquet(mine, schema=SUBMISSIONS_SCHEMA) if mine else load_history(home).clear()
    committed = set(history["submission_id"].to_list())
    keep = latest_accepted(history, org_id, dataset, period)
    partition = home.lake_partition(dataset, org_id, period)
    if partition.exists():
        for path in partition.glob("*.parquet"):
            if path.stem != keep:
                path.unlink(missing_ok=True)
        for path in partition.glob(".*.tmp"):
            path.unlink(missing_ok=True)
    for path in home.staging.glob(f"{prefix}*.tmp"):  # left by a crashed process
        if not _alive(path.name.rsplit(".", 2)[-2]):
            path.unlink(missing_ok=True)
    quarantined = (home.quarantine / org_id, ".parquet")
    for folder, suffix in ((home.checks, ".parquet"), (home.reports, ".json"), quarantined):
        for path in folder.glob(f"{prefix}*{suffix}"):
            if path.name.removesuffix(suffix) not in committed:
                path.unlink(missing_ok=True)


def _alive(pid: str) -> bool:
    """Whether a process of this id runs (a staged file of a live process is in use)."""
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True
