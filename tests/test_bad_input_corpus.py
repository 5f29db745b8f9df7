"""The intake against its bad-input corpus (tests/corpus/manifest.yml, tests/corpus/files/).

Every manifest case is submitted with `ingestion.submission.submit_files` in a few batches
(one Great Expectations run per organisation and column set: a GX run costs about a
second whatever the rows, and importing GX costs more than the whole corpus); the cases
marked `cli: true` also go through the real `ewto submit --json` subprocess. For each case
we check status, row count, every failing rule with its column, rows_failing, example row
numbers and example values, warnings, that a rejected file leaves nothing in the lake, that
accepted files land what they say, and that no identifier is ever written in clear.

The 1 MB cases are built into tmp_path at test time; the 5-million-row file too, in a
separate test marked `slow` (it still runs by default: `make test` runs it).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from ingestion.paths import Home
from ingestion.registry import Registry, load_registry, parse_registry
from ingestion.submission import SubmissionOutcome, SubmissionRequest, submit_files

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "corpus"
BIN = Path(sys.executable).parent
KEY = "corpus-test-key-0123456789abcdef0123456789"
CLEAR_MARKERS = (b"-REC-", b"-SELLER-")  # every record/seller id of the corpus has one


def _load_make_corpus() -> Any:
    spec = importlib.util.spec_from_file_location("ewto_make_corpus", CORPUS / "make_corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


MC = _load_make_corpus()
MANIFEST: list[dict[str, Any]] = yaml.safe_load((CORPUS / "manifest.yml").read_text(encoding="utf-8"))[
    "cases"
]
FAST = [c for c in MANIFEST if not c.get("slow")]
CLI_CASES = [c for c in MANIFEST if c.get("cli")]


def _registry_with(export: dict[str, Any] | None, org_id: str) -> Registry:
    """The registry of config/members.yml, with one organisation's `export:` replaced."""
    raw = yaml.safe_load((REPO / "config" / "members.yml").read_text(encoding="utf-8"))
    if export:
        for org in raw["organisations"]:
            if org["id"] == org_id:
                org["export"] = export
    return parse_registry(raw)


def _case_path(case: dict[str, Any], tmp: Path) -> Path:
    if case["file"]:
        return CORPUS / "files" / case["file"]
    built = MC.by_name()[case["case"]]
    path = tmp / case["case"]
    path.write_bytes(built.build(built))
    return path


def _request(case: dict[str, Any], path: Path, k: int) -> SubmissionRequest:
    received = dt.datetime(2024, 6, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=k)
    return SubmissionRequest(case["org"], case["dataset"], case["period"], path, received)


@pytest.fixture(scope="module", autouse=True)
def _env(tmp_path_factory: pytest.TempPathFactory) -> Any:
    mp = pytest.MonkeyPatch()
    mp.setenv("EWTO_PSEUDONYM_KEY", KEY)
    mp.delenv("EWTO_ENV", raising=False)
    mp.setenv("EWTO_HOME", str(tmp_path_factory.mktemp("corpus_home")))
    yield
    mp.undo()


@pytest.fixture(scope="module")
def home(_env: None) -> Home:
    assert "pytest" in os.environ["EWTO_HOME"], "never the real $EWTO_HOME"
    return Home.from_env()


@pytest.fixture(scope="module")
def outcomes(home: Home, tmp_path_factory: pytest.TempPathFactory) -> dict[str, SubmissionOutcome]:
    """Every fast case submitted: one batch per registry (cases with an `export` override
    get a registry of their own), each batch one submit_files call."""
    tmp = tmp_path_factory.mktemp("generated")
    batches: dict[str, list[tuple[dict[str, Any], SubmissionRequest]]] = {}
    for k, case in enumerate(FAST):
        key = json.dumps([case["org"], case.get("export")], sort_keys=True) if case.get("export") else ""
        batches.setdefault(key, []).append((case, _request(case, _case_path(case, tmp), k)))
    out: dict[str, SubmissionOutcome] = {}
    started = time.perf_counter()
    for key, items in batches.items():
        registry = load_registry() if not key else _registry_with(items[0][0]["export"], items[0][0]["org"])
        results = submit_files([r for _, r in items], home, registry)
        for (case, _), outcome in zip(items, results, strict=True):
            out[case["case"]] = outcome
    print(f"\ncorpus: {len(FAST)} cases in {len(batches)} batches, {time.perf_counter() - started:.1f} s")
    return out


# ------------------------------------------------------------------ the corpus itself


def test_corpus_is_large_enough_and_reproducible() -> None:
    files = sorted((CORPUS / "files").iterdir())
    assert len(files) >= 40
    listed = {c["file"] for c in MANIFEST if c["file"]}
    assert listed == {p.name for p in files}, "every committed file is in the manifest and back"
    assert MC.check() == [], "tests/corpus drifted from make_corpus.py: run it and commit the result"
    for case in MANIFEST:
        assert {"org", "dataset", "period", "expected"} <= case.keys()
        exp = case["expected"]
        assert exp["status"] in ("accepted", "rejected")
        assert exp["status"] == "accepted" or exp["failures"], f"{case['case']}: a rejection names its rules"


def test_committed_files_are_small() -> None:
    for path in (CORPUS / "files").iterdir():
        assert path.stat().st_size < 64 * 1024, f"{path.name} is too big to commit"


# ------------------------------------------------------------------ every case


def _match(expected: list[dict[str, Any]], actual: list[dict[str, Any]], what: str, name: str) -> None:
    got = {(f["rule"], f["column"]): f for f in actual}
    want = {(f["rule"], f["column"]) for f in expected}
    assert set(got) == want, f"{name}: {what} {sorted(got, key=str)} != expected {sorted(want, key=str)}"
    for exp in expected:
        f = got[(exp["rule"], exp["column"])]
        for field in ("rows_failing", "examples", "example_values"):
            if field in exp:
                assert f[field] == exp[field], f"{name}: {exp['rule']}/{exp['column']} {field}"
        if "message_contains" in exp:
            assert exp["message_contains"] in f["message"], f"{name}: message {f['message']!r}"


def _lake_file(home: Home, case: dict[str, Any], submission_id: str) -> Path:
    return home.lake_partition(case["dataset"], case["org"], case["period"]) / f"{submission_id}.parquet"


def _as_plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


@pytest.mark.parametrize("case", FAST, ids=[c["case"] for c in FAST])
def test_case(case: dict[str, Any], outcomes: dict[str, SubmissionOutcome], home: Home) -> None:
    outcome = outcomes[case["case"]]
    result = outcome.as_dict()
    exp = case["expected"]
    name = case["case"]
    assert result["status"] == exp["status"], f"{name}: {json.dumps(result, ensure_ascii=False)[:2000]}"
    if "rows" in exp:
        assert result["rows"] == exp["rows"], name
    _match(exp["failures"], result["failures"], "failures", name)
    _match(exp["warnings"], result["warnings"], "warnings", name)
    for f in result["failures"] + result["warnings"]:
        assert f["message"], name
        if f["rows_failing"] and f["rule"] not in ("required_column", "unknown_column"):
            assert f["examples"], f"{name}: {f['rule']} names example rows"
    report = json.loads((home.reports / f"{outcome.submission_id}.json").read_text(encoding="utf-8"))
    assert report["status"] == exp["status"] and report["failures"] == result["failures"]
    lake_file = _lake_file(home, case, outcome.submission_id)
    if exp["status"] == "rejected":
        assert not lake_file.exists(), f"{name}: a rejected file reached the lake"
        return
    assert lake_file.exists(), f"{name}: accepted but not landed"
    landed = pl.read_parquet(lake_file).sort("source_row")
    assert landed.height == result["rows"]
    if case["dataset"] == "takedowns" and landed.height:
        assert landed["record_id"].str.len_chars().unique().to_list() == [64], "record_id is a keyed hash"
        assert landed["seller_id"].str.len_chars().unique().to_list() == [64], "seller_id is a keyed hash"
        assert landed["platform_id"].null_count() == 0
    for column, values in (case.get("lake") or {}).items():
        got = [_as_plain(v) for v in landed[column].to_list()]  # a list: the first rows
        if isinstance(values, dict):
            rows = landed["source_row"].to_list()
            for row, value in values.items():
                assert got[rows.index(int(row))] == value, f"{name}: {column} at row {row}"
        else:
            assert got[: len(values)] == values, f"{name}: {column}"


def test_nothing_of_a_rejected_file_in_the_lake(outcomes: dict[str, SubmissionOutcome], home: Home) -> None:
    rejected = {o.submission_id for o in outcomes.values() if o.status == "rejected"}
    assert rejected
    landed = [p for p in home.lake.rglob("*.parquet") if p.name != "_schema.parquet"]
    assert landed
    names = {p.stem for p in landed}
    assert not names & rejected
    ids = set(pl.concat([pl.read_parquet(p, columns=["submission_id"]) for p in landed])["submission_id"])
    assert not ids & rejected
    accepted = {o.submission_id for o in outcomes.values() if o.status == "accepted"}
    assert names == accepted, "every accepted case (each in its own partition) stays landed"


def test_no_identifier_in_clear_anywhere(outcomes: dict[str, SubmissionOutcome], home: Home) -> None:
    assert outcomes
    files = [p for p in home.root.rglob("*") if p.is_file()]
    assert any(p.suffix == ".json" for p in files) and any("lake" in p.parts for p in files)
    for path in files:
        data = path.read_bytes()
        for marker in CLEAR_MARKERS:
            assert marker not in data, f"{marker!r} in clear in {path.relative_to(home.root)}"


# ------------------------------------------------------------------ the real command


def _cli_env(home: Path, pycache: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "EWTO_HOME": str(home),
            "EWTO_PSEUDONYM_KEY": KEY,
            # bytecode cached for the session: each `ewto` start is then several seconds faster
            "PYTHONPYCACHEPREFIX": str(pycache),
        }
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("EWTO_ENV", None)
    env.pop("EWTO_DEBUG", None)
    return env


@pytest.mark.parametrize("case", CLI_CASES, ids=[c["case"] for c in CLI_CASES])
def test_case_through_the_cli(
    case: dict[str, Any], tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = _case_path(case, tmp_path)
    home = tmp_path / "home"
    pycache = tmp_path_factory.getbasetemp().parent / "ewto-pycache"  # see test_intake.py
    cmd = [
        str(BIN / "ewto"),
        "submit",
        "--org",
        case["org"],
        "--dataset",
        case["dataset"],
        "--period",
        case["period"],
        "--json",
        str(path),
    ]
    proc = subprocess.run(
        cmd, env=_cli_env(home, pycache), capture_output=True, text=True, cwd=REPO, timeout=300
    )
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    exp = case["expected"]
    assert proc.returncode == exp["exit_code"], proc.stdout + proc.stderr
    result = json.loads(proc.stdout)
    assert result["status"] == exp["status"]
    if "rows" in exp:
        assert result["rows"] == exp["rows"]
    assert {"status", "submission_id", "rows", "failures", "warnings"} <= result.keys()
    _match(exp["failures"], result["failures"], "failures", case["case"])
    _match(exp["warnings"], result["warnings"], "warnings", case["case"])
    for f in result["failures"]:
        assert {"rule", "column", "rows_failing", "examples"} <= f.keys()
    for marker in CLEAR_MARKERS:
        assert marker.decode() not in proc.stdout + proc.stderr
    lake = [p for p in (home / "lake").rglob("*.parquet") if p.name != "_schema.parquet"]
    assert bool(lake) == (exp["status"] == "accepted")


# ------------------------------------------------------------------ large files, read in pieces


PIECE_BYTES = 700  # the corpus's CSV files are ~2 KB: two to four pieces each


def test_reading_in_pieces_changes_nothing(
    outcomes: dict[str, SubmissionOutcome],
    home: Home,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A large CSV is read, checked and landed in pieces (ingestion/submission.py,
    `_read_in_pieces`); with tiny pieces every corpus CSV gives the same outcome as read
    whole: status, rows, rules, counts, example lines and values, messages, the checks
    recorded, and the same landed rows (ids hashed alike). Duplicate record ids in
    different pieces are found (GX checks uniqueness on the whole file's ids)."""
    from ingestion import submission

    streamed: list[str] = []
    real = submission._read_in_pieces

    def spy(h: Home, w: Any, registry: Registry, key: bytes, reading: Any) -> bool:
        done = real(h, w, registry, key, reading)
        if done:
            streamed.append(w.request.path.name)
        return done

    monkeypatch.setattr(submission, "_read_in_pieces", spy)
    monkeypatch.setenv("EWTO_INTAKE_PIECE_BYTES", str(PIECE_BYTES))
    other = Home(tmp_path_factory.mktemp("pieces_home"))
    tmp = tmp_path_factory.mktemp("pieces_files")
    cases = [c for c in FAST if (c["file"] or c["case"]).endswith((".csv", ".tsv"))]
    batches: dict[str, list[tuple[dict[str, Any], SubmissionRequest]]] = {}
    for case in cases:
        k = FAST.index(case)
        key = json.dumps([case["org"], case.get("export")], sort_keys=True) if case.get("export") else ""
        batches.setdefault(key, []).append((case, _request(case, _case_path(case, tmp), k)))
    for key, items in batches.items():
        registry = load_registry() if not key else _registry_with(items[0][0]["export"], items[0][0]["org"])
        results = submit_files([r for _, r in items], other, registry)
        for (case, _), outcome in zip(items, results, strict=True):
            whole = outcomes[case["case"]].as_dict()
            piecewise = outcome.as_dict()
            whole.pop("file"), piecewise.pop("file")
            assert piecewise == whole, case["case"]
            sid = outcome.submission_id
            for folder, name in ((home.checks, f"{sid}.parquet"), (home.submissions, f"{sid}.parquet")):
                a = pl.read_parquet(folder / name).drop("processed_at", strict=False)
                b = pl.read_parquet(Path(str(folder).replace(str(home.root), str(other.root))) / name)
                assert b.drop("processed_at", strict=False).equals(a), f"{case['case']}: {folder.name}"
            lake_a, lake_b = _lake_file(home, case, sid), _lake_file(other, case, sid)
            assert lake_a.exists() == lake_b.exists(), case["case"]
            if lake_a.exists():
                assert pl.read_parquet(lake_b).equals(pl.read_parquet(lake_a)), case["case"]
    assert len(streamed) >= 30, f"only {len(streamed)} files were read in pieces"
    assert "duplicate_record_id.csv" in streamed
    assert "gb18030_alibaba.csv" in streamed  # declared GB18030: each piece decoded on its own
    assert "undeclared_gbk_tencent.csv" not in streamed  # not UTF-8 as declared: read whole
    assert "quoted_newlines_valid.csv" in streamed  # pieces end only outside quoted values
    assert "quoted_newlines_with_error.csv" in streamed
    assert not list(other.staging.glob("*")), "nothing left in staging"


# ------------------------------------------------------------------ 5 million rows


@pytest.mark.slow
def test_five_million_rows(tmp_path: Path) -> None:
    case = next(c for c in MANIFEST if c["case"] == "five_million_rows.csv")
    path = tmp_path / "five_million_rows.csv"
    t0 = time.perf_counter()
    MC.write_five_million(path, case["period"], case["expected"]["rows"])
    t1 = time.perf_counter()
    home = Home(tmp_path / "home")
    [outcome] = submit_files([_request(case, path, 0)], home, load_registry())
    t2 = time.perf_counter()
    print(
        f"\n5M rows: file {path.stat().st_size / 1e6:.0f} MB written in {t1 - t0:.1f} s, "
        f"submitted in {t2 - t1:.1f} s ({case['expected']['rows'] / (t2 - t1):,.0f} rows/s)"
    )
    assert outcome.status == "accepted", outcome.as_dict()
    assert outcome.rows == case["expected"]["rows"]
    landed = list(home.lake_partition("takedowns", case["org"], case["period"]).glob("*.parquet"))
    assert len(landed) == 1
    assert pl.scan_parquet(landed[0]).select(pl.len()).collect().item() == case["expected"]["rows"]
