"""Benchmark of the intake: how fast one big export goes through `submit_files`.

    .venv/bin/python benchmarks/bench_intake.py                 # 5,000,000 rows (+ GB18030, 1M-row XLSX)
    .venv/bin/python benchmarks/bench_intake.py --rows 500000 --xlsx-rows 100000
    .venv/bin/python benchmarks/bench_intake.py --rows 200000 --only csv --profile

Scenarios, each measured in a child process of its own (wall time and the child's peak
resident memory, ru_maxrss from wait4; tracemalloc would miss polars' and Arrow's memory):
- csv:      canonical CSV (UTF-8), a member with the default export (`ruby_lane`, UTC);
- gb18030:  the same rows encoded as GB18030 with Chinese text in a column, for a member
            declaring `encoding: gb18030` (decoded and re-encoded to UTF-8 on read);
- xlsx:     an XLSX of --xlsx-rows rows (`ebay`'s format);
- floor:    polars reading the same CSV (all columns as text) and writing Parquet: what
            any intake must at least pay; the intake's ratio to it is printed.
The intake child also reports its stages (read, map, validate, hash, land) by wrapping
the functions `submit_files` calls. Data are SYNTHETIC.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import importlib.util
import io
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _make_corpus() -> Any:
    spec = importlib.util.spec_from_file_location(
        "ewto_make_corpus", REPO / "tests" / "corpus" / "make_corpus.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


PERIOD = "2020-03"
KEY = "benchmark-key-not-secret-0123456789abcdef"


# ------------------------------------------------------------------ files


def write_csv(path: Path, rows: int) -> None:
    _make_corpus().canonical_frame(rows, PERIOD).write_csv(path)


def write_gb18030(path: Path, rows: int) -> None:
    import polars as pl

    frame = _make_corpus().canonical_frame(rows, PERIOD)
    names = pl.Series(["象牙", "犀牛角", "穿山甲", "虎骨", "豹", "熊胆", "玳瑁", "盔犀鸟"])
    frame = frame.with_columns(
        pl.concat_str(
            [pl.lit(names).gather(pl.int_range(0, rows) % len(names)), pl.col("species_scientific_name")],
            separator=" ",
        ).alias("species_scientific_name")
    )
    buf = io.BytesIO()
    frame.write_csv(buf)
    path.write_bytes(buf.getvalue().decode("utf-8").encode("gb18030"))


def write_xlsx(path: Path, rows: int) -> None:
    """A one-sheet workbook of `rows` takedowns, all cells inline strings.

    Written as SpreadsheetML directly (row XML built by polars): xlsxwriter needs about
    10 minutes for a million rows of 18 columns, this a few seconds."""
    import zipfile

    import polars as pl

    frame = _make_corpus().canonical_frame(rows, PERIOD)

    letters = [chr(ord("A") + k) for k in range(len(frame.columns))]
    row = pl.int_range(2, rows + 2).cast(pl.String)

    def cell(name: str, letter: str) -> pl.Expr:
        text = pl.col(name)
        for a, b in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
            text = text.str.replace_all(a, b, literal=True)
        ref = pl.concat_str([pl.lit(f'<c r="{letter}'), row, pl.lit('" t="inlineStr"><is><t>')])
        return (
            pl.when(pl.col(name) == "")
            .then(pl.lit(""))
            .otherwise(pl.concat_str([ref, text, pl.lit("</t></is></c>")]))
        )

    header = "".join(
        f'<c r="{x}1" t="inlineStr"><is><t>{c}</t></is></c>'
        for x, c in zip(letters, frame.columns, strict=True)
    )
    body = frame.select(
        pl.concat_str(
            [
                pl.lit('<row r="'),
                row,
                pl.lit('">'),
                *[cell(c, x) for c, x in zip(frame.columns, letters, strict=True)],
                pl.lit("</row>"),
            ]
        ).alias("xml")
    )["xml"]
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook {ns} xmlns:r="{rel}">'
            '<sheets><sheet name="Takedowns" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>"
        ),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, text in parts.items():
            z.writestr(name, text)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write(
                f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet {ns}><sheetData>'.encode()
            )
            fh.write(f'<row r="1">{header}</row>'.encode())
            for start in range(0, rows, 200_000):
                fh.write("".join(body.slice(start, 200_000).to_list()).encode())
            fh.write(b"</sheetData></worksheet>")


# ------------------------------------------------------------------ children


def child_intake(path: Path, org: str, encoding: str | None, profile: bool) -> dict[str, Any]:
    """Submit one file; time the stages `submit_files` goes through."""
    import yaml

    from ingestion import submission
    from ingestion.paths import Home
    from ingestion.registry import parse_registry

    t_import = time.perf_counter()
    from ingestion.validation import _gx

    _gx()  # GX import (seconds): paid once per process, reported apart
    gx_import = time.perf_counter() - t_import

    stages: dict[str, float] = {}
    stages_cpu: dict[str, float] = {}  # CPU seconds of all threads: steadier than wall on a busy machine
    peak_after: dict[str, float] = {}  # the process's peak RSS (MB) when the stage last ended
    import resource

    peak_after["GX import"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    running: set[str] = set()  # a stage inside the same stage (read_table -> read_csv_bytes) counts once

    def timed(name: str, fn: Any) -> Any:
        def wrapper(*a: Any, **k: Any) -> Any:
            if name in running:
                return fn(*a, **k)
            running.add(name)
            t, c = time.perf_counter(), time.process_time()
            try:
                return fn(*a, **k)
            finally:
                running.discard(name)
                stages[name] = stages.get(name, 0.0) + time.perf_counter() - t
                stages_cpu[name] = stages_cpu.get(name, 0.0) + time.process_time() - c
                peak_after[name] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        return wrapper

    submission.read_table = timed("read", submission.read_table)
    # a large CSV is read in pieces (`csv_pieces`): each piece's parse is timed as "read"
    from ingestion import atomic, overlap, readers

    readers.read_csv_bytes = timed("read", readers.read_csv_bytes)
    atomic.StagedParquet.write = timed("land+history", atomic.StagedParquet.write)  # type: ignore[method-assign]
    atomic.StagedParquet.commit = timed("land+history", atomic.StagedParquet.commit)  # type: ignore[method-assign]
    submission.map_to_contract = timed("map", submission.map_to_contract)
    submission.validate_files = timed("validate", submission.validate_files)
    submission.hash_series = timed("hash", submission.hash_series)
    submission.write_parquet = timed("land+history", submission.write_parquet)
    submission.data_docs.publish = timed("data docs", submission.data_docs.publish)

    raw = yaml.safe_load((REPO / "config" / "members.yml").read_text(encoding="utf-8"))
    if encoding:
        for o in raw["organisations"]:
            if o["id"] == org:
                o["export"] = {**(o.get("export") or {}), "encoding": encoding}
    registry = parse_registry(raw)
    home = Home(Path(tempfile.mkdtemp(prefix="bench_home_")))
    req = submission.SubmissionRequest(org, "takedowns", PERIOD, path, dt.datetime.now(dt.UTC))
    prof = cProfile.Profile() if profile else None
    t, c = time.perf_counter(), time.process_time()
    if prof:
        prof.enable()
    [outcome] = submission.submit_files([req], home, registry)
    if prof:
        prof.disable()
    seconds = time.perf_counter() - t
    cpu = time.process_time() - c
    shutil.rmtree(home.root, ignore_errors=True)
    if prof:
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(30)
        print(out.getvalue(), file=sys.stderr)
    return {
        "status": outcome.status,
        "rows": outcome.rows,
        "failures": [f.rule for f in outcome.failures],
        "seconds": seconds,
        "intake_cpu_seconds": cpu,
        "gx_import_seconds": gx_import,
        "stages": stages,
        "stages_cpu": stages_cpu,
        "overlap": overlap.enabled(),
        "peak_after_mb": peak_after,
    }


def child_floor(path: Path) -> dict[str, Any]:
    import polars as pl

    out = Path(tempfile.mkdtemp(prefix="bench_floor_")) / "floor.parquet"
    t = time.perf_counter()
    frame = pl.read_csv(path, infer_schema=False)
    frame.write_parquet(out, compression="zstd")
    seconds = time.perf_counter() - t
    shutil.rmtree(out.parent, ignore_errors=True)
    return {"status": "ok", "rows": frame.height, "seconds": seconds, "stages": {}}


def run_child(args: list[str]) -> dict[str, Any]:
    """Run this script as a child; its JSON result plus wall time and peak RSS (wait4)."""
    env = dict(os.environ, EWTO_PSEUDONYM_KEY=KEY, GX_ANALYTICS_ENABLED="False")
    env.pop("EWTO_ENV", None)
    t = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", *args], stdout=subprocess.PIPE, stderr=None, env=env, cwd=REPO
    )
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"child {args} failed with {proc.returncode}")
    result = json.loads(out.decode().strip().splitlines()[-1])
    result["process_wall_seconds"] = wall
    result["peak_rss_mb"] = usage.ru_maxrss / 1024  # kilobytes on Linux
    result["cpu_seconds"] = usage.ru_utime + usage.ru_stime
    return result


GENERATORS = {"csv": write_csv, "gb18030": write_gb18030, "xlsx": write_xlsx}


def generate(what: str, path: Path, rows: int) -> None:
    """Write a test file in a child: Linux keeps a process's peak RSS across fork and exec
    (ru_maxrss), so a parent that built a 5 M-row frame would inflate every child's peak."""
    subprocess.run(
        [sys.executable, __file__, "--child", "gen", what, str(path), str(rows)],
        check=True,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
    )


# ------------------------------------------------------------------ report


def line(name: str, rows: int, r: dict[str, Any], floor: float | None) -> str:
    rate = rows / r["seconds"] if r["seconds"] else float("inf")
    ratio = f"{r['seconds'] / floor:6.1f}x" if floor else "      -"
    return (
        f"{name:10s} {rows:>11,} {r['seconds']:9.1f} {rate:>12,.0f} {r['peak_rss_mb']:>10,.0f} "
        f"{r['cpu_seconds']:8.1f} {ratio}  {r['status']} {' '.join(r.get('failures', []))}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=5_000_000, help="rows of the CSV scenarios")
    ap.add_argument("--xlsx-rows", type=int, default=1_000_000, help="rows of the XLSX scenario")
    ap.add_argument("--only", action="append", choices=["csv", "gb18030", "xlsx", "floor"], help="scenarios")
    ap.add_argument("--profile", action="store_true", help="cProfile the intake children (to stderr)")
    ap.add_argument("--workdir", default=None, help="where the generated files go (default: a temp dir)")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child:
        kind, *rest = args.child
        if kind == "gen":
            what, path, rows = rest
            GENERATORS[what](Path(path), int(rows))
            result = {"status": "ok"}
        elif kind == "intake":
            path, org, enc, prof = rest
            result = child_intake(Path(path), org, enc or None, prof == "1")
        else:
            result = child_floor(Path(rest[0]))
        print(json.dumps(result))
        return 0

    only = set(args.only or ["csv", "gb18030", "xlsx", "floor"])
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="bench_intake_"))
    work.mkdir(parents=True, exist_ok=True)
    prof = "1" if args.profile else "0"
    load = os.getloadavg()
    print(
        f"ewto intake benchmark, {dt.datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} CPUs, load {load[0]:.1f}"
    )
    results: dict[str, tuple[int, dict[str, Any]]] = {}
    try:
        csv_path = work / f"takedowns_{PERIOD}.csv"
        if only & {"csv", "floor"}:
            t = time.perf_counter()
            generate("csv", csv_path, args.rows)
            print(
                f"generated {csv_path.name}: {args.rows:,} rows, {csv_path.stat().st_size / 1e6:,.0f} MB "
                f"in {time.perf_counter() - t:.1f} s"
            )
        if "floor" in only:
            results["floor"] = (args.rows, run_child(["floor", str(csv_path)]))
        if "csv" in only:
            results["csv"] = (args.rows, run_child(["intake", str(csv_path), "ruby_lane", "", prof]))
        if "gb18030" in only:
            gb = work / f"takedowns_{PERIOD}_gb18030.csv"
            generate("gb18030", gb, args.rows)
            print(f"generated {gb.name}: {gb.stat().st_size / 1e6:,.0f} MB")
            results["gb18030"] = (args.rows, run_child(["intake", str(gb), "ruby_lane", "gb18030", prof]))
            gb.unlink()
        if "xlsx" in only:
            xl = work / f"takedowns_{PERIOD}.xlsx"
            t = time.perf_counter()
            generate("xlsx", xl, args.xlsx_rows)
            print(
                f"generated {xl.name}: {args.xlsx_rows:,} rows, {xl.stat().st_size / 1e6:,.0f} MB "
                f"in {time.perf_counter() - t:.1f} s"
            )
            results["xlsx"] = (args.xlsx_rows, run_child(["intake", str(xl), "ebay", "", prof]))
            xl.unlink()
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)

    floor = results.get("floor")
    floor_rate = floor[1]["seconds"] / floor[0] if floor else None
    print()
    print(
        f"{'scenario':10s} {'rows':>11s} {'seconds':>9s} {'rows/s':>12s} {'peak MB':>10s} {'cpu s':>8s} "
        f"{'/floor':>7s}"
    )
    for name, (rows, r) in results.items():
        print(line(name, rows, r, floor_rate * rows if floor_rate and name != "floor" else None))
    print()
    for name, (_, r) in results.items():
        if r.get("stages"):
            cpu = r.get("stages_cpu", {})
            parts = ", ".join(f"{k} {v:.1f} s ({cpu.get(k, 0.0):.1f} cpu)" for k, v in r["stages"].items())
            print(
                f"{name}: {parts}; intake cpu {r.get('intake_cpu_seconds', 0.0):.1f} s; "
                f"GX import {r['gx_import_seconds']:.1f} s (not in 'seconds')"
            )
            if r.get("overlap"):
                print(
                    f"{name}: a file read in pieces runs its stages on three threads at once "
                    "(ingestion/overlap.py): stage seconds overlap and a stage's cpu is the whole "
                    "process's while it ran; compare 'seconds' and 'intake cpu'"
                )
            peaks = ", ".join(f"{k} {v:,.0f}" for k, v in r.get("peak_after_mb", {}).items())
            print(f"{name}: peak RSS (MB) when each stage ended: {peaks}")
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
