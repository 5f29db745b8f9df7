"""The intake end to end: every export format of the contract (docs/contracts.md), time
zones, spellings, duplicates, resubmission, privacy and the `ewto submit --json` output.

Most submissions go through `submit_files` in one batch (importing Great Expectations and
starting a GX run cost seconds, whatever the rows); the command-line behaviour (exit
codes, JSON output, production key check, duplicate) is checked with the real `ewto`
subprocess. Files are built in tmp_path from the row builders of tests/corpus/make_corpus.py.
All data are SYNTHETIC.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from ingestion import submission
from ingestion.drops import ingest
from ingestion.paths import Home
from ingestion.registry import Registry, load_registry, parse_registry
from ingestion.submission import SubmissionOutcome, SubmissionRequest, submit_files

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
KEY = "intake-test-key-0123456789abcdef0123456789"
CLEAR = (b"-REC-", b"-SELLER-")


def _make_corpus() -> Any:
    name = "ewto_make_corpus"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "tests" / "corpus" / "make_corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


MC = _make_corpus()
RECEIVED = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)


class Case:
    """Just enough of make_corpus.Case for its builders (period and identifier tag)."""

    def __init__(self, period: str, tag: str) -> None:
        self.period = period
        self.tag = tag


def rows(n: int, period: str, tag: str) -> list[dict[str, str]]:
    return MC.takedown_rows(n, period, tag)


# ------------------------------------------------------------------ the files

# name -> (org, period, bytes builder, file name, expected rows)
FORMATS: dict[str, tuple[str, str, Any, str, int]] = {
    "canonical_csv": ("ruby_lane", "2020-01", lambda: MC.csv_bytes(rows(12, "2020-01", "A01")), "x.csv", 12),
    "utf8_bom": (
        "pinterest",
        "2020-01",
        lambda: b"\xef\xbb\xbf" + MC.csv_bytes(rows(7, "2020-01", "A02")),
        "x.csv",
        7,
    ),
    "utf16_bom": ("facebook", "2020-01", lambda: MC.b_utf16(Case("2020-01", "A03"), "le-bom"), "x.csv", 5),
    "gb18030_alibaba": ("alibaba", "2020-01", lambda: MC.b_alibaba(Case("2020-01", "A04")), "x.csv", 6),
    "gbk_tencent": ("tencent", "2020-01", lambda: MC.b_tencent_gbk(Case("2020-01", "A05")), "x.csv", 6),
    "semicolon_mall_for_africa": (
        "mall_for_africa",
        "2020-01",
        lambda: MC.b_mall_for_africa(Case("2020-01", "A06")),
        "x.csv",
        5,
    ),
    "tab_etsy": ("etsy", "2020-01", lambda: MC.b_etsy(Case("2020-01", "A07")), "x.tsv", 4),
    "quoted_newlines": (
        "instagram",
        "2020-01",
        lambda: MC.b_quoted_newlines(Case("2020-01", "A08"), True),
        "x.csv",
        10,
    ),
    "xlsx_ebay": (
        "ebay",
        "2020-01",
        lambda: MC.xlsx_bytes([("Takedowns", MC.ebay_table(Case("2020-01", "A09"), 9))]),
        "x.xlsx",
        9,
    ),
    "xlsx_named_sheet": (
        "synthetic_10",
        "2020-01",
        lambda: MC.xlsx_bytes(
            [("Notes", [["SYNTHETIC export"]]), ("Takedowns", MC.ebay_table(Case("2020-01", "A10"), 4))]
        ),
        "x.xlsx",
        4,
    ),
    "jsonl_google": (
        "google",
        "2020-01",
        lambda: MC.jsonl_bytes(MC.google_records(Case("2020-01", "A11"))),
        "x.jsonl",
        6,
    ),
    "parquet_microsoft": (
        "microsoft",
        "2020-01",
        lambda: MC.parquet_bytes(MC.microsoft_frame(Case("2020-01", "A12"), 8)),
        "x.parquet",
        8,
    ),
}
EXPECTED_STATUS = {"quoted_newlines": "rejected"}  # its row 5 has an unknown commodity, on line 10


def _registry() -> Registry:
    """config/members.yml with synthetic_10's XLSX export naming its sheet `Takedowns`."""
    raw = yaml.safe_load((REPO / "config" / "members.yml").read_text(encoding="utf-8"))
    for org in raw["organisations"]:
        if org["id"] == "synthetic_10":
            org["export"] = {"format": "xlsx", "sheet": "Takedowns"}
    return parse_registry(raw)


@pytest.fixture(scope="module", autouse=True)
def _intake_env(tmp_path_factory: pytest.TempPathFactory) -> Any:
    mp = pytest.MonkeyPatch()
    mp.setenv("EWTO_PSEUDONYM_KEY", KEY)
    mp.delenv("EWTO_ENV", raising=False)
    mp.setenv("EWTO_HOME", str(tmp_path_factory.mktemp("intake_home")))
    yield
    mp.undo()


@pytest.fixture(scope="module")
def home(_intake_env: None) -> Home:
    assert "pytest" in os.environ["EWTO_HOME"], "never the real $EWTO_HOME"
    return Home.from_env()


@pytest.fixture(scope="module")
def registry() -> Registry:
    return _registry()


@pytest.fixture(scope="module")
def submitted(
    home: Home, registry: Registry, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, SubmissionOutcome]:
    folder = tmp_path_factory.mktemp("formats")
    requests = []
    for k, (name, (org, period, build, file_name, _)) in enumerate(FORMATS.items()):
        path = folder / f"{name}_{period}{Path(file_name).suffix}"
        path.write_bytes(build())
        requests.append(SubmissionRequest(org, "takedowns", period, path, RECEIVED + dt.timedelta(minutes=k)))
    return dict(zip(FORMATS, submit_files(requests, home, registry), strict=True))


def landed(home: Home, org: str, period: str, dataset: str = "takedowns") -> pl.DataFrame:
    files = [p for p in home.lake_partition(dataset, org, period).glob("*.parquet")]
    assert len(files) == 1, files
    return pl.read_parquet(files[0]).sort("source_row")


# ------------------------------------------------------------------ formats


def test_committed_suites_match_the_contract() -> None:
    """expectations/*.json are generated from contract.py (`ewto suites`): no drift."""
    from ingestion.suites import render, suite_path

    for dataset in ("takedowns", "monitoring"):
        assert suite_path(dataset).read_text(encoding="utf-8") == render(dataset), (
            f"{suite_path(dataset)} drifted from the contract: run `ewto suites`"
        )


@pytest.mark.parametrize("name", list(FORMATS))
def test_every_format_is_read_with_its_row_count(name: str, submitted: dict[str, SubmissionOutcome]) -> None:
    outcome = submitted[name]
    org, period, _, _, n = FORMATS[name]
    assert outcome.status == EXPECTED_STATUS.get(name, "accepted"), outcome.as_dict()
    assert outcome.rows == n
    if outcome.status == "accepted":
        assert outcome.failures == []


def test_quoted_newlines_report_names_the_line(submitted: dict[str, SubmissionOutcome], home: Home) -> None:
    outcome = submitted["quoted_newlines"]
    report = json.loads((home.reports / f"{outcome.submission_id}.json").read_text(encoding="utf-8"))
    [failure] = report["failures"]
    # rows 1 and 2 hold 1 and 2 line breaks inside quotes: row 5 starts on line 10
    assert (failure["rule"], failure["column"], failure["rows_failing"]) == ("domain", "commodity", 1)
    assert failure["examples"] == [10]
    assert failure["example_values"] == ["unicorn_horn"]
    assert report["row_numbers"].startswith("line numbers")
    assert not home.lake_partition("takedowns", "instagram", "2020-01").exists() or not list(
        home.lake_partition("takedowns", "instagram", "2020-01").glob("*.parquet")
    )


def test_row_numbers_follow_the_detected_type(home: Home, registry: Registry, tmp_path: Path) -> None:
    """A Parquet file named .csv is numbered by rows (its type is read from its bytes)."""
    bad = MC.mutate(rows(4, "2020-09", "B08"), 2, commodity="unicorn_horn")
    as_parquet = tmp_path / "ruby_lane_2020-09.csv"
    as_parquet.write_bytes(MC.parquet_bytes(pl.DataFrame(bad)))
    as_csv = tmp_path / "ruby_lane_2020-10.csv"
    as_csv.write_bytes(MC.csv_bytes(MC.mutate(rows(4, "2020-10", "B09"), 2, commodity="unicorn_horn")))
    out = submit_files(
        [
            SubmissionRequest("ruby_lane", "takedowns", "2020-09", as_parquet, RECEIVED),
            SubmissionRequest("ruby_lane", "takedowns", "2020-10", as_csv, RECEIVED),
        ],
        home,
        registry,
    )
    labels = []
    for o in out:
        assert o.status == "rejected"
        report = json.loads((home.reports / f"{o.submission_id}.json").read_text(encoding="utf-8"))
        labels.append((report["row_numbers"].split()[0], report["failures"][0]["examples"]))
    assert labels == [("row", [3]), ("line", [4])]
    assert [o.as_dict()["row_numbers"].split()[0] for o in out] == ["row", "line"]


def test_value_spellings_are_mapped(submitted: dict[str, SubmissionOutcome], home: Home) -> None:
    ali = landed(home, "alibaba", "2020-01")
    assert ali["action_type"].to_list() == [
        "removed",
        "blocked",
        "restricted",
        "removed",
        "blocked",
        "restricted",
    ]
    assert ali["detection_stage"].to_list() == ["pre_publication", "post_publication"] * 3
    assert ali["appealed"].to_list() == [False, True, False, True, False, True]
    assert ali["currency"].unique().to_list() == ["CNY"]
    etsy = landed(home, "etsy", "2020-01")
    assert etsy["action_type"].to_list() == ["removed", "blocked", "removed", "removed"]
    mfa = landed(home, "mall_for_africa", "2020-01")
    assert mfa["price"].to_list() == [1234.5, 12.5, 0.99, 2000.0, 7.0]
    tencent = landed(home, "tencent", "2020-01")
    assert tencent["species_scientific_name"][0] == "穿山甲 Loxodonta africana"


def test_local_times_are_stored_in_utc(submitted: dict[str, SubmissionOutcome], home: Home) -> None:
    """Timestamps without an offset are the member's local time; the lake holds UTC."""
    first = MC.takedown_row(0, "2020-01", "x")  # detected 2020-01-01T06:00:00 local
    local = dt.datetime.fromisoformat(first["detected_at"])
    expected = {
        "alibaba": local - dt.timedelta(hours=8),  # Asia/Shanghai
        "tencent": local - dt.timedelta(hours=8),
        "mall_for_africa": local - dt.timedelta(hours=1),  # Africa/Lagos
        "ebay": local + dt.timedelta(hours=8),  # America/Los_Angeles in January (PST)
        "synthetic_10": local - dt.timedelta(hours=1),  # Europe/Berlin in January (CET)
        "ruby_lane": local,  # UTC
        "google": local,
        "microsoft": local,
    }
    for org, utc in expected.items():
        frame = landed(home, org, "2020-01")
        assert frame["detected_at"][0] == utc, org
        assert frame["detected_at"].dtype == pl.Datetime("us")


def test_sheet_named_in_the_registry_is_read(submitted: dict[str, SubmissionOutcome], home: Home) -> None:
    frame = landed(home, "synthetic_10", "2020-01")
    assert frame.height == 4
    assert frame["source_row"].to_list() == [2, 3, 4, 5]  # spreadsheet rows of sheet "Takedowns"
    # the same workbook without the registry naming the sheet: rejected with a clear message
    org = load_registry().org("synthetic_10")
    assert org.export.sheet is None


def test_landed_rows_follow_the_lake_schema(submitted: dict[str, SubmissionOutcome], home: Home) -> None:
    from ingestion.lake import TAKEDOWNS_SCHEMA

    frame = landed(home, "microsoft", "2020-01")
    assert dict(frame.schema) == TAKEDOWNS_SCHEMA
    assert frame["platform_id"].unique().to_list() == ["microsoft"]
    assert frame["submission_id"].unique().to_list() == [submitted["parquet_microsoft"].submission_id]


# ------------------------------------------------------------------ duplicates and resubmission


def test_resubmission_replaces_the_earlier_file(home: Home, registry: Registry, tmp_path: Path) -> None:
    v1 = tmp_path / "ruby_lane_takedowns_2020-02.csv"
    v2 = tmp_path / "ruby_lane_takedowns_2020-02_v2.csv"
    v1.write_bytes(MC.csv_bytes(rows(10, "2020-02", "B01")))
    v2.write_bytes(MC.csv_bytes(rows(7, "2020-02", "B01")))
    [o1] = submit_files(
        [SubmissionRequest("ruby_lane", "takedowns", "2020-02", v1, RECEIVED)], home, registry
    )
    later = RECEIVED + dt.timedelta(days=2)
    [o2] = submit_files([SubmissionRequest("ruby_lane", "takedowns", "2020-02", v2, later)], home, registry)
    assert (o1.status, o2.status) == ("accepted", "accepted")
    files = list(home.lake_partition("takedowns", "ruby_lane", "2020-02").glob("*.parquet"))
    assert [p.stem for p in files] == [o2.submission_id], "only the latest accepted file remains"
    assert landed(home, "ruby_lane", "2020-02").height == 7
    # a rejected resubmission leaves the accepted one in place
    bad = tmp_path / "ruby_lane_takedowns_2020-02_v3.csv"
    bad.write_bytes(MC.csv_bytes(MC.mutate(rows(7, "2020-02", "B01"), 0, commodity="unicorn_horn")))
    [o3] = submit_files(
        [SubmissionRequest("ruby_lane", "takedowns", "2020-02", bad, later + dt.timedelta(days=1))],
        home,
        registry,
    )
    assert o3.status == "rejected"
    files = list(home.lake_partition("takedowns", "ruby_lane", "2020-02").glob("*.parquet"))
    assert [p.stem for p in files] == [o2.submission_id]


def test_same_bytes_twice_is_a_duplicate(home: Home, registry: Registry, tmp_path: Path) -> None:
    path = tmp_path / "ruby_lane_takedowns_2020-03.csv"
    path.write_bytes(MC.csv_bytes(rows(5, "2020-03", "B02")))
    [first] = submit_files(
        [SubmissionRequest("ruby_lane", "takedowns", "2020-03", path, RECEIVED)], home, registry
    )
    partition = home.lake_partition("takedowns", "ruby_lane", "2020-03")
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in partition.glob("*")}
    copy = tmp_path / "again_2020-03.csv"
    copy.write_bytes(path.read_bytes())
    [again] = submit_files(
        [SubmissionRequest("ruby_lane", "takedowns", "2020-03", copy, RECEIVED + dt.timedelta(days=1))],
        home,
        registry,
    )
    assert first.status == "accepted"
    assert again.status == "duplicate" and again.duplicate_of == first.submission_id
    assert again.rows == 0 and again.failures == []
    after = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in partition.glob("*")}
    assert after == before, "a duplicate changes nothing in the lake"


def test_a_large_duplicate_stops_its_reading_and_changes_nothing(
    home: Home, registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file read in pieces starts reading before its checksum is known (the checksum is
    taken meanwhile); when the checksum says duplicate, the reading thread is stopped, the
    memory map closed, and nothing is staged or landed."""
    import threading

    monkeypatch.setenv("EWTO_INTAKE_PIECE_BYTES", "600")
    path = tmp_path / "ruby_lane_takedowns_2020-03.csv"
    path.write_bytes(MC.csv_bytes(rows(40, "2020-03", "B09")))
    request = SubmissionRequest("ruby_lane", "takedowns", "2020-03", path, RECEIVED)
    [first] = submit_files([request], home, registry)
    assert first.status == "accepted" and first.rows == 40
    partition = home.lake_partition("takedowns", "ruby_lane", "2020-03")
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in partition.glob("*")}
    started = []
    real = submission._start_pieces
    monkeypatch.setattr(submission, "_start_pieces", lambda w: started.append(w) or real(w))
    [again, third] = submit_files(
        [replace(request, received_at=RECEIVED + dt.timedelta(days=1))] * 2, home, registry
    )
    assert len(started) == 2, "both copies started reading before their checksum was known"
    assert [again.status, third.status] == ["duplicate", "duplicate"]
    assert again.duplicate_of == third.duplicate_of == first.submission_id
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in partition.glob("*")} == before
    assert not any(home.staging.glob("*")), "nothing staged"
    assert not [t for t in threading.enumerate() if t.name.startswith("ewto-")], "reading stopped"
    assert all(w.file is None for w in started), "memory maps closed"


def test_a_nul_byte_late_in_a_large_file_reads_it_whole(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NUL bytes are looked for piece by piece (not in the whole file before reading starts):
    one in a late piece stops the reading in pieces, and the file read whole gives the
    outcome it gives without pieces; nothing of the pieces already read is staged."""
    good = MC.csv_bytes(rows(40, "2020-03", "B10"))
    at = good.rindex(b"B10")  # in the last lines
    path = tmp_path / "ruby_lane_takedowns_2020-03.csv"
    path.write_bytes(good[:at] + b"\x00" + good[at + 1 :])
    request = SubmissionRequest("ruby_lane", "takedowns", "2020-03", path, RECEIVED)
    whole = submit_files([request], Home(tmp_path / "whole"), registry)[0].as_dict()
    monkeypatch.setenv("EWTO_INTAKE_PIECE_BYTES", "600")
    pieces_home = Home(tmp_path / "pieces")
    piecewise = submit_files([request], pieces_home, registry)[0].as_dict()
    assert whole["status"] == "rejected"
    assert piecewise == whole
    assert not any(pieces_home.staging.glob("*")), "nothing staged"


def test_drop_folder_ingest(home: Home, registry: Registry, tmp_path: Path) -> None:
    drop = tmp_path / "drops"
    folder = drop / "ruby_lane" / "takedowns"
    folder.mkdir(parents=True)
    (folder / "export for 2020-04 (final).csv").write_bytes(MC.csv_bytes(rows(3, "2020-04", "B03")))
    (folder / "no period here.csv").write_bytes(MC.csv_bytes(rows(3, "2020-04", "B03")))
    outcomes, skipped = ingest(drop, home, registry)
    assert [(o.request.period, o.status) for o in outcomes] == [("2020-04", "accepted")]
    assert [s.path.name for s in skipped] == ["no period here.csv"]
    again, _ = ingest(drop, home, registry)
    assert again == [], "re-running ingest submits nothing new"


def test_duplicate_observation_is_per_file(home: Home, registry: Registry, tmp_path: Path) -> None:
    rows_ = MC.monitoring_rows(6, "2020-05", "B04")
    a = tmp_path / "traffic_monitoring_2020-05.csv"
    b = tmp_path / "traffic_monitoring_2020-06.csv"
    a.write_bytes(MC.csv_bytes(rows_))
    # the same observations submitted (by mistake) for the next month: rejected by the period
    # rule, and must not make the first file's observations look duplicated
    b.write_bytes(MC.csv_bytes(rows_ + [{**rows_[0], "survey_id": "x"}]))
    out = submit_files(
        [
            SubmissionRequest("traffic", "monitoring", "2020-05", a, RECEIVED),
            SubmissionRequest("traffic", "monitoring", "2020-06", b, RECEIVED),
        ],
        home,
        registry,
    )
    assert out[0].status == "accepted"
    assert out[0].warnings == [], out[0].as_dict()["warnings"]
    # within one file the same observation twice is still a warning
    assert [(w.rule, w.rows_failing) for w in out[1].warnings] == [("duplicate_observation", 2)]


def test_duplicate_observation_across_pieces_is_found(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file read in pieces (submission.py, `_read_in_pieces`) checks the duplicate
    observation rule on the whole file's keys, as when read whole: a duplicate whose rows
    fall in different pieces is found, with the same count and lines."""
    rows_ = MC.monitoring_rows(30, "2020-05", "B05")
    path = tmp_path / "traffic_monitoring_2020-05.csv"
    path.write_bytes(MC.csv_bytes(rows_ + [{**rows_[0], "survey_id": "again"}]))
    results = {}
    for label, piece in (("whole", None), ("pieces", "400")):
        if piece:
            monkeypatch.setenv("EWTO_INTAKE_PIECE_BYTES", piece)
        [out] = submit_files(
            [SubmissionRequest("traffic", "monitoring", "2020-05", path, RECEIVED)],
            Home(tmp_path / f"home_{label}"),
            registry,
        )
        results[label] = out.as_dict()
        results[label].pop("submission_id")
    assert results["pieces"] == results["whole"]
    [warning] = results["pieces"]["warnings"]
    assert (warning["rule"], warning["rows_failing"], warning["examples"]) == (
        "duplicate_observation",
        2,
        [2, 32],
    )


def test_identifiers_in_the_wrong_column_are_not_echoed(registry: Registry, tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    path = tmp_path / "ruby_lane_takedowns_2020-07.csv"
    header = [
        {"commodity": "seller_id", "seller_id": "commodity"}.get(h, h) for h in MC.TAKEDOWN_COLUMNS
    ]  # the header names the two columns the wrong way round
    path.write_bytes(
        MC.csv_bytes(rows(4, "2020-07", "B05"), MC.TAKEDOWN_COLUMNS).replace(
            b",".join(h.encode() for h in MC.TAKEDOWN_COLUMNS), b",".join(h.encode() for h in header), 1
        )
    )
    [out] = submit_files(
        [SubmissionRequest("ruby_lane", "takedowns", "2020-07", path, RECEIVED)], home, registry
    )
    assert out.status == "rejected"
    assert "-SELLER-" not in json.dumps(out.as_dict())
    for report in home.reports.glob("*.json"):
        assert b"-SELLER-" not in report.read_bytes()
    [commodity] = [f for f in out.failures if f.column == "commodity"]
    assert commodity.examples == [2, 3, 4, 5] and commodity.example_values == []
    assert "headers swapped" in commodity.message
    assert not home.quarantine.exists(), "no copy of a rejected file unless the operator opts in"


def test_data_docs_of_a_rejected_file(registry: Registry, tmp_path: Path) -> None:
    """GX Data Docs under $EWTO_HOME name the failed expectation, with counts and no values."""
    home = Home(tmp_path / "home")
    data = MC.mutate(rows(6, "2021-01", "B12"), 2, commodity="unicorn_horn")
    data = MC.mutate(data, 4, record_id=data[0]["record_id"])
    path = tmp_path / "ruby_lane_2021-01.csv"
    path.write_bytes(MC.csv_bytes(data))
    [out] = submit_files(
        [SubmissionRequest("ruby_lane", "takedowns", "2021-01", path, RECEIVED)], home, registry
    )
    assert out.status == "rejected"
    index = home.data_docs / "site" / "index.html"
    assert index.is_file()
    assert out.submission_id in index.read_text(encoding="utf-8")
    [page] = [
        p for p in (home.data_docs / "site" / "validations").rglob("*.html") if out.submission_id in str(p)
    ]
    html = page.read_text(encoding="utf-8")
    assert "commodity" in html and "record_id__in_file" in html
    assert "unicorn_horn" not in html, "failing values are not rendered"
    later = tmp_path / "ruby_lane_2021-02.csv"
    later.write_bytes(MC.csv_bytes(MC.mutate(rows(3, "2021-02", "B13"), 0, commodity="dragon")))
    [out2] = submit_files(
        [SubmissionRequest("ruby_lane", "takedowns", "2021-02", later, RECEIVED)], home, registry
    )
    index_text = index.read_text(encoding="utf-8")
    assert out.submission_id in index_text and out2.submission_id in index_text, "the site accumulates"
    assert "How to Create Expectations" not in index_text  # no GX tutorial buttons
    for path in home.data_docs.rglob("*"):
        if path.is_file():
            assert not any(m in path.read_bytes() for m in CLEAR), path


def test_quarantine_copy_is_pseudonymised(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """EWTO_QUARANTINE=1 keeps the rejected rows, never an identifier in clear."""
    from ingestion.pseudonymise import hash_value

    monkeypatch.setenv("EWTO_QUARANTINE", "1")
    home = Home(tmp_path / "home")
    data = rows(5, "2020-11", "B10")
    data = MC.mutate(data, 1, referral_id=data[0]["record_id"], commodity="unicorn_horn")
    data = [{**r, "Seller contact": r["seller_id"]} for r in data]
    swapped = [
        {**r, "commodity": r["seller_id"], "seller_id": r["commodity"]} for r in rows(3, "2020-12", "B11")
    ]
    paths = [
        tmp_path / "ruby_lane_2020-11.csv",
        tmp_path / "ruby_lane_2020-12.csv",
        tmp_path / "z_2020-11.csv",
    ]
    paths[0].write_bytes(MC.csv_bytes(data))
    paths[1].write_bytes(MC.csv_bytes(swapped))
    paths[2].write_bytes(b"PK\x03\x04" + bytes(60))
    periods = ["2020-11", "2020-12", "2020-11"]
    out = submit_files(
        [
            SubmissionRequest("ruby_lane", "takedowns", p, f, RECEIVED)
            for p, f in zip(periods, paths, strict=True)
        ],
        home,
        registry,
    )
    assert [o.status for o in out] == ["rejected"] * 3
    copies = sorted(p.name for p in (home.quarantine / "ruby_lane").iterdir())
    assert copies == sorted(f"{o.submission_id}.parquet" for o in out[:2]), "an unreadable file has no copy"
    key = KEY.encode()
    first = pl.read_parquet(home.quarantine / "ruby_lane" / f"{out[0].submission_id}.parquet")
    assert "Seller contact" not in first.columns
    assert first["source_row"].to_list() == [2, 3, 4, 5, 6]
    assert first["record_id"].to_list() == [hash_value(key, r["record_id"]) for r in data]
    assert first["seller_id"].to_list() == [hash_value(key, r["seller_id"]) for r in data]
    assert first["referral_id"][1] == hash_value(key, data[0]["record_id"])
    assert first["commodity"].to_list()[:2] == [data[0]["commodity"], "unicorn_horn"]
    second = pl.read_parquet(home.quarantine / "ruby_lane" / f"{out[1].submission_id}.parquet")
    assert second["commodity"].to_list() == [hash_value(key, r["commodity"]) for r in swapped]
    for path in home.root.rglob("*"):
        if path.is_file():
            assert not any(m in path.read_bytes() for m in CLEAR), path


def test_values_found_in_the_identifier_columns_are_not_echoed(registry: Registry, tmp_path: Path) -> None:
    """A seller id copied into another column (one bad row) is not echoed as its example value."""
    home = Home(tmp_path / "home")
    path = tmp_path / "ruby_lane_takedowns_2020-07.csv"
    data = rows(6, "2020-07", "B06")
    data = MC.mutate(MC.mutate(data, 1, commodity=data[3]["seller_id"]), 4, commodity="unicorn_horn")
    path.write_bytes(MC.csv_bytes(data))
    [out] = submit_files(
        [SubmissionRequest("ruby_lane", "takedowns", "2020-07", path, RECEIVED)], home, registry
    )
    [commodity] = [f for f in out.failures if f.column == "commodity"]
    assert (commodity.rows_failing, commodity.examples) == (2, [3, 6])
    assert commodity.example_values == ["unicorn_horn"]
    assert "-SELLER-" not in json.dumps(out.as_dict())


def test_no_identifier_in_clear_under_ewto_home(submitted: dict[str, SubmissionOutcome], home: Home) -> None:
    assert submitted
    files = [p for p in home.root.rglob("*") if p.is_file()]
    assert any(p.parent == home.reports for p in files)
    for path in files:
        data = path.read_bytes()
        for marker in CLEAR:
            assert marker not in data, f"{marker!r} in clear in {path}"
    # and the hashes are the keyed HMAC of the clear values
    from ingestion.pseudonymise import hash_value

    frame = landed(home, "ruby_lane", "2020-01")
    assert frame["record_id"][0] == hash_value(KEY.encode(), "A01-REC-00000")
    assert frame["seller_id"][1] == hash_value(KEY.encode(), "A01-SELLER-1")


# ------------------------------------------------------------------ the command


def _cli_env(home: Path, pycache: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("EWTO_ENV", "EWTO_DEBUG", "EWTO_PSEUDONYM_KEY", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    env.update({"EWTO_HOME": str(home), "EWTO_PSEUDONYM_KEY": KEY, "PYTHONPYCACHEPREFIX": str(pycache)})
    env.update(extra)
    return {k: v for k, v in env.items() if v != ""}


def ewto(home: Path, pycache: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(BIN / "ewto"), *args],
        env=_cli_env(home, pycache, **extra),
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    for marker in CLEAR:
        assert marker.decode() not in proc.stdout + proc.stderr
    return proc


@pytest.fixture(scope="module")
def pycache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Bytecode of the `ewto` subprocesses, kept across sessions beside pytest's temp dirs
    (the environment sets PYTHONDONTWRITEBYTECODE; without a cache every start compiles GX)."""
    return tmp_path_factory.getbasetemp().parent / "ewto-pycache"


def test_cli_json_accepted_then_duplicate(tmp_path: Path, pycache: Path) -> None:
    home = tmp_path / "home"
    good = tmp_path / "ruby_lane_takedowns_2020-01.csv"
    extra = [{**r, "Internal note": "ok"} for r in rows(6, "2020-01", "C01")]
    good.write_bytes(MC.csv_bytes(extra))
    submit = ["submit", "--org", "ruby_lane", "--dataset", "takedowns", "--period", "2020-01", "--json"]

    proc = ewto(home, pycache, *submit, str(good))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json.loads(proc.stdout)
    assert {"status", "submission_id", "rows", "failures", "warnings"} <= out.keys()
    assert (out["status"], out["rows"], out["failures"]) == ("accepted", 6, [])
    [warning] = out["warnings"]
    assert {"rule", "column", "rows_failing", "examples", "message"} <= warning.keys()
    assert (warning["rule"], warning["column"]) == ("unknown_column", "Internal note")
    assert out["submission_id"].startswith("ruby_lane_takedowns_2020-01_")
    lake = sorted((home / "lake").rglob("ruby_lane_*.parquet"))
    assert [p.stem for p in lake] == [out["submission_id"]]
    assert pl.read_parquet(lake[0]).height == 6
    before = [(p, p.read_bytes()) for p in lake]
    report = json.loads((home / "reports" / f"{out['submission_id']}.json").read_text(encoding="utf-8"))
    assert report["status"] == "accepted" and report["rows"] == 6 and report["sha256"]

    again = ewto(home, pycache, *submit, str(good))
    assert again.returncode == 0
    dup = json.loads(again.stdout)
    assert dup["status"] == "duplicate" and dup["duplicate_of"] == out["submission_id"]
    assert dup["verdict"] == "accepted" and dup["failures"] == []
    assert dup["rows"] == 0
    assert [(p, p.read_bytes()) for p in sorted((home / "lake").rglob("ruby_lane_*.parquet"))] == before

    for path in home.rglob("*"):
        if path.is_file():
            assert not any(m in path.read_bytes() for m in CLEAR), path


def test_cli_text_output_of_a_rejection(tmp_path: Path, pycache: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(b"PK\x03\x04" + bytes(60))
    args = ["submit", "--org", "ruby_lane", "--dataset", "takedowns", "--period", "2020-01", str(path)]
    proc = ewto(tmp_path / "home", pycache, *args)
    assert proc.returncode == 3
    assert proc.stdout.startswith("REJECTED: ")
    assert "REJECTED BY rule file_type on file" in proc.stdout


def test_cli_duplicate_of_a_rejected_file_is_not_exit_0(tmp_path: Path, pycache: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(b"PK\x03\x04" + bytes(60))
    args = [
        "submit",
        "--org",
        "ruby_lane",
        "--dataset",
        "takedowns",
        "--period",
        "2020-01",
        "--json",
        str(path),
    ]
    first = ewto(tmp_path / "home", pycache, *args)
    assert first.returncode == 3
    again = ewto(tmp_path / "home", pycache, *args)
    assert again.returncode == 3
    dup, original = json.loads(again.stdout), json.loads(first.stdout)
    assert (dup["status"], dup["verdict"]) == ("duplicate", "rejected")
    assert dup["duplicate_of"] == original["submission_id"]
    assert dup["failures"] == original["failures"] and dup["failures"][0]["rule"] == "file_type"
    history = pl.read_parquet(tmp_path / "home" / "history" / "submissions" / "*.parquet")
    assert sorted(history["status"].to_list()) == ["duplicate", "rejected"]
    assert history.filter(pl.col("status") == "duplicate")["failures"].to_list() == [1]


def test_duplicate_of_a_rejected_file_in_one_batch(registry: Registry, tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    bad = tmp_path / "a_2020-08.csv"
    bad.write_bytes(MC.csv_bytes(MC.mutate(rows(3, "2020-08", "B07"), 1, commodity="unicorn_horn")))
    copy = tmp_path / "b_2020-08.csv"
    copy.write_bytes(bad.read_bytes())
    req = [SubmissionRequest("ruby_lane", "takedowns", "2020-08", p, RECEIVED) for p in (bad, copy)]
    first, again = submit_files(req, home, registry)
    assert (first.status, first.verdict, first.rejected) == ("rejected", "rejected", True)
    assert (again.status, again.verdict, again.rejected) == ("duplicate", "rejected", True)
    assert again.duplicate_of == first.submission_id
    assert again.failures == first.failures
    [later] = submit_files(
        [SubmissionRequest("ruby_lane", "takedowns", "2020-08", copy, RECEIVED)], home, registry
    )
    assert (later.status, later.verdict, later.duplicate_of) == ("duplicate", "rejected", first.submission_id)
    assert later.failures == first.failures


def test_cli_production_without_key_is_a_usage_error(tmp_path: Path, pycache: Path) -> None:
    path = tmp_path / "ruby_lane_takedowns_2020-01.csv"
    path.write_bytes(MC.csv_bytes(rows(2, "2020-01", "C02")))
    args = [
        "submit",
        "--org",
        "ruby_lane",
        "--dataset",
        "takedowns",
        "--period",
        "2020-01",
        "--json",
        str(path),
    ]
    proc = ewto(tmp_path / "home", pycache, *args, EWTO_ENV="production", EWTO_PSEUDONYM_KEY="")
    assert proc.returncode == 2
    assert "EWTO_PSEUDONYM_KEY" in proc.stderr and "production" in proc.stderr
    assert proc.stdout == ""
    assert not list((tmp_path / "home").rglob("*.parquet")), "nothing is written without a key"
    short = ewto(tmp_path / "home", pycache, *args, EWTO_ENV="production", EWTO_PSEUDONYM_KEY="short")
    assert short.returncode == 2 and "at least 32 characters" in short.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--org", "nobody", "--dataset", "takedowns", "--period", "2020-01"], "unknown organisation"),
        (["--org", "traffic", "--dataset", "takedowns", "--period", "2020-01"], "submits monitoring"),
        (["--org", "ruby_lane", "--dataset", "takedowns", "--period", "2020-13"], "YYYY-MM"),
        (["--org", "ruby_lane", "--dataset", "sales", "--period", "2020-01"], "invalid choice"),
    ],
)
def test_cli_usage_errors(args: list[str], message: str, tmp_path: Path, pycache: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(MC.csv_bytes(rows(2, "2020-01", "C03")))
    proc = ewto(tmp_path / "home", pycache, "submit", *args, "--json", str(path))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr


def test_cli_missing_file(tmp_path: Path, pycache: Path) -> None:
    args = ["submit", "--org", "ruby_lane", "--dataset", "takedowns", "--period", "2020-01"]
    proc = ewto(tmp_path / "home", pycache, *args, str(tmp_path / "nope.csv"))
    assert proc.returncode == 2 and "no such file" in proc.stderr


@pytest.mark.parametrize(
    "key",
    [
        b"k",
        b"benchmark-key-not-secret-0123456789abcdef",
        ("ключ-ü-密钥" * 5).encode(),
        b"x" * 64,
        b"y" * 65,
        b"",
    ],
)
def test_native_hmac_is_bit_identical_to_hmac_module(key: bytes) -> None:
    """hash_series (the polars-hash plugin) = hmac.new(key, value, sha256).hexdigest()."""
    import hashlib
    import hmac

    from ingestion.pseudonymise import hash_series, hash_series_python

    values = ["", "a", "ÄÖÜ", "象牙犀牛角", "x" * 55, "x" * 56, "x" * 64, "x" * 1000, None, "tab\tnl\n", "a"]
    series = pl.Series("record_id", values, dtype=pl.String)
    expected = [None if v is None else hmac.new(key, v.encode(), hashlib.sha256).hexdigest() for v in values]
    native = hash_series(key, series)
    assert native.name == "record_id"
    assert native.to_list() == expected
    assert hash_series_python(key, series).to_list() == expected
    assert hash_series(b"\xff\xfe-not-utf8", series).to_list() == [
        None if v is None else hmac.new(b"\xff\xfe-not-utf8", v.encode(), hashlib.sha256).hexdigest()
        for v in values
    ]


def test_uniqueness_on_hashed_keys_reports_as_on_the_keys(registry: Registry) -> None:
    """validation.py checks the uniqueness rules on 64-bit hashes of the keys, and again on
    the keys when a hash repeats: the results (counts, example rows and values) are those of
    the keys themselves, null keys are not duplicates, and files validated in one GX run do
    not see each other's keys."""
    from ingestion.mapping import map_to_contract
    from ingestion.validation import KEYED_RULES, validate_files

    org = registry.org("ruby_lane")
    rows_ = MC.takedown_rows(8, "2020-03", "U01")
    dup = rows_ + [
        {**rows_[2], "seller_id": "another"},
        {**rows_[5]},
        {**rows_[0], "record_id": ""},
        {**rows_[1], "record_id": " "},
    ]
    frames = [
        pl.DataFrame(r).with_columns(pl.int_range(2, len(r) + 2, dtype=pl.Int64).alias("source_row"))
        for r in (dup, rows_, rows_)
    ]
    mapped = [
        map_to_contract(f, "takedowns", org.export, org.timezone, "2020-03", dt.datetime(2020, 4, 2))
        for f in frames
    ]
    params = {"member_platforms": list(org.platforms), "registry_platforms": sorted(registry.platform_ids())}
    for files in (mapped[:1], mapped):  # one file alone, and three files in one GX run
        hashed = validate_files(files, "takedowns", params)
        exact = validate_files(files, "takedowns", params, exact=True)
        assert hashed == exact
        keyed = [[c for c in res if c.rule in KEYED_RULES] for res in hashed]
        [[first], *others] = keyed
        assert (first.success, first.rows_failing, first.examples) == (False, 4, [4, 7, 10, 11])
        assert all(c.success and c.rows_failing == 0 for [c] in others)


@pytest.mark.parametrize(
    "body, expected",
    [
        (b'a,b\n1,""\n', True),
        (b'a,b\n"1,2",x\n', False),
        (b'a,b\n"""",x\n', True),  # the value is one quote: no delimiter in it
        (b'a,b\n"""1,2""",x\n', False),
        (b'a,b\nx""y,z\n', True),
        (b'"a,b",c\n1,2\n', False),  # a header name with the delimiter
    ],
)
def test_no_quoted_value_means_no_delimiter_inside_values(body: bytes, expected: bool) -> None:
    from ingestion.readers import ByteTally

    assert ByteTally.of(body, ",").no_quoted_value is expected


def test_short_row_found_beside_empty_quoted_fields() -> None:
    """The field count (readers.py, `_check_field_counts`) skips the scan of values for
    delimiters when every quoted field is empty; a short row is still found, and values that
    hold the delimiter still do not look like extra fields."""
    from ingestion.errors import FileUnreadable
    from ingestion.readers import read_csv_bytes

    with pytest.raises(FileUnreadable, match="line 3 has 2 fields"):
        read_csv_bytes(b'a,b,c\n1,"",3\n4,""\n7,8,9\n', ",")
    frame, _ = read_csv_bytes(b'a,b,c\n1,"x,y",3\n4,"",6\n', ",")
    assert (frame["b"].to_list(), frame["source_row"].to_list()) == (["x,y", ""], [2, 3])


@pytest.mark.parametrize("dataset", ["takedowns", "monitoring"])
def test_each_expectation_of_a_suite_has_its_own_key(dataset: str) -> None:
    """validation.py matches results across GX runs by key: a quick run's failed results are
    replaced by the detailed re-run's by (type, rule, column) (`_rule_key`), and the hashed
    uniqueness results by the exact run's by (rule, column, severity). Two expectations of a
    suite under one key would swap or lose results there, so a suite must not have them."""
    from ingestion.validation import _rule_key, load_suite_json

    expectations = load_suite_json(dataset)["expectations"]
    by_type = [_rule_key(e["type"], e.get("meta")) for e in expectations]
    by_rule = [
        ((e.get("meta") or {}).get("rule", e["type"]), (e.get("meta") or {}).get("column"), e.get("severity"))
        for e in expectations
    ]
    assert len(set(by_type)) == len(by_type) == len(set(by_rule))
