"""`ewto sql` on the demo marts: output formats, read-only refusal, one-line errors, the
interactive prompt on a pipe, every worked query of docs/analyst-guide.md, and readers
that never fail nor see a half-built mart while a real `ewto build` runs and publishes.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from tests.state_fixture import REPO, demo_state  # noqa: F401

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]

GUIDE = REPO / "docs" / "analyst-guide.md"


def _sql(state, *args: str, home: Path | None = None, stdin: str | None = None):
    return state.ewto("sql", *args, home=home, input=stdin, timeout=300)


def _count(state, table: str) -> int:
    con = duckdb.connect()
    con.execute(f"ATTACH '{state.marts}' AS ewto (READ_ONLY)")
    n = con.execute(f"SELECT count(*) FROM ewto.marts.{table}").fetchone()[0]
    con.close()
    return n


def test_formats_and_both_table_spellings(demo_state):  # noqa: F811
    n = _count(demo_state, "kpi_member_monthly")
    table = _sql(demo_state, "SELECT count(*) AS n FROM kpi_member_monthly")
    assert table.returncode == 0, table.stderr
    assert (
        table.stdout.splitlines()[0].strip() == "n" and f"{n}" in table.stdout and "(1 row)" in table.stdout
    )
    assert "SYNTHETIC" in table.stderr

    out = _sql(demo_state, "--format", "json", "SELECT count(*) AS n FROM marts.kpi_member_monthly")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [{"n": n}]

    out = _sql(
        demo_state,
        "--format",
        "csv",
        "SELECT member_id, month, items_actioned, proactive_rate FROM kpi_member_monthly "
        "ORDER BY member_id, month LIMIT 5",
    )
    assert out.returncode == 0, out.stderr
    rows = list(csv.reader(io.StringIO(out.stdout)))
    assert rows[0] == ["member_id", "month", "items_actioned", "proactive_rate"] and len(rows) == 6
    assert re.fullmatch(r"\d{4}-\d{2}-01", rows[1][1])

    out = _sql(demo_state, "--max-rows", "3", "SELECT * FROM kpi_member_monthly")
    assert out.returncode == 0 and f"({n:,} rows; first 3 shown" in out.stdout


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO kpi_member_monthly SELECT * FROM kpi_member_monthly",
        "DELETE FROM marts.kpi_member_monthly",
        "CREATE TABLE x AS SELECT 1",
        "DROP TABLE kpi_member_monthly",
        "COPY kpi_member_monthly TO '/tmp/ewto-should-not-exist.csv'",
        "ATTACH ':memory:' AS other",
        "INSTALL httpfs",
        "SELECT 1; UPDATE kpi_member_monthly SET items_actioned = 0",
    ],
)
def test_writes_are_refused_in_one_line(demo_state, statement):  # noqa: F811
    before = demo_state.marts.stat().st_mtime_ns
    out = _sql(demo_state, statement)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert out.stdout == ""  # nothing ran, not even the SELECT before the UPDATE
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "read-only" in lines[0], out.stderr
    assert "Traceback" not in out.stderr
    assert demo_state.marts.stat().st_mtime_ns == before
    assert not Path("/tmp/ewto-should-not-exist.csv").exists()


@pytest.mark.parametrize(
    "statement,words",
    [
        ("SELECT * FROM no_such_table", "no_such_table"),
        ("SELEC 1", "syntax error"),
        ("SELECT * FROM read_csv('/etc/passwd')", "disabled"),
    ],
)
def test_sql_errors_are_one_line(demo_state, statement, words):  # noqa: F811
    out = _sql(demo_state, statement)
    assert out.returncode == 1, (out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ewto sql: error:") and words in lines[0], out.stderr
    assert "Traceback" not in out.stderr


def test_no_marts_is_a_usage_error(demo_state, tmp_path):  # noqa: F811
    out = _sql(demo_state, "SELECT 1", home=tmp_path)
    assert out.returncode == 2 and "ewto build" in out.stderr and "Traceback" not in out.stderr


def test_interactive_reads_statements_from_a_pipe(demo_state):  # noqa: F811
    script = textwrap.dedent(
        """\
        SELECT 41 + 1 AS answer;
        .tables
        SELECT
          count(*) AS coalition_rows
        FROM kpi_reduction_progress
        WHERE scope = 'coalition';
        CREATE TABLE t (x INT);
        SELECT 'still running' AS after_refusal;
        .quit
        SELECT 'never' AS after_quit;
        """
    )
    out = _sql(demo_state, stdin=script)
    assert "answer" in out.stdout and "42" in out.stdout
    assert "kpi_submission_compliance" in out.stdout  # .tables
    assert "coalition_rows" in out.stdout and "still running" in out.stdout
    assert "never" not in out.stdout
    assert "read-only" in out.stderr and "Traceback" not in out.stderr
    assert out.returncode == 2  # a refused statement in a script: the worst exit code
    ok = _sql(demo_state, stdin="SELECT 1 AS one;\nSELECT 2 AS two")  # last statement without ';'
    assert ok.returncode == 0 and "one" in ok.stdout and "two" in ok.stdout


# ------------------------------------------------------------------------------ the guide
def _guide_blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.S)


def test_every_worked_query_of_the_guide_runs(demo_state):  # noqa: F811
    from ingestion.paths import Home
    from ingestion.sql_shell import connect, execute

    blocks = _guide_blocks("sql")
    assert len(blocks) >= 6
    con = connect(Home(demo_state.home))
    try:
        for sql in blocks:
            results = list(execute(con, sql))
            assert results, sql
            for res in results:
                rows = list(res.rows)
                assert rows, f"no rows from:\n{sql}"
    finally:
        con.close()
    # and one of them through the command, as an analyst would
    out = _sql(demo_state, "--format", "json", blocks[0])
    assert out.returncode == 0, out.stderr
    assert len(json.loads(out.stdout)) > 0


def test_python_snippet_of_the_guide_runs(demo_state, tmp_path):  # noqa: F811
    [snippet] = _guide_blocks("python")
    script = tmp_path / "snippet.py"
    script.write_text(snippet)
    out = subprocess.run(
        [sys.executable, str(script)], env=demo_state.env(), capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert "datetime.date(" in out.stdout


def test_guide_documents_every_mart_and_column(demo_state):  # noqa: F811
    text = GUIDE.read_text(encoding="utf-8")
    con = duckdb.connect()
    con.execute(f"ATTACH '{demo_state.marts}' AS ewto (READ_ONLY)")
    cols = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_catalog = 'ewto' AND table_schema = 'marts' ORDER BY table_name, ordinal_position"
    ).fetchall()
    con.close()
    sections = dict(re.findall(r"^### `(\w+)`\n(.*?)(?=^### |\Z)", text, flags=re.S | re.M))
    missing = []
    for table, column in cols:
        if table not in sections:
            missing.append(table)
        elif f"| `{column}` |" not in sections[table]:
            missing.append(f"{table}.{column}")
    assert not missing, f"docs/analyst-guide.md does not document: {sorted(set(missing))}"


# -------------------------------------------------------------------- read during a build
# the marts schema's tables: one per model in dbt_project/models/marts (the analyst guide documents each)
MART_TABLES = len(list((REPO / "dbt_project" / "models" / "marts").glob("*.sql")))

# One statement, so one snapshot: the counts of related marts and how many marts exist.
SNAPSHOT = """
SELECT (SELECT count(*) FROM fct_takedowns),
       (SELECT sum(items_actioned) FROM kpi_member_monthly),
       (SELECT sum(items_actioned) FROM kpi_member_monthly_breakdown WHERE dimension = 'commodity'),
       (SELECT count(*) FROM fct_submissions),
       (SELECT count(*) FROM kpi_submission_compliance),
       (SELECT count(*) FROM duckdb_tables() WHERE database_name = 'ewto' AND schema_name = 'marts')
"""

READER = r"""
import json, sys, time
from pathlib import Path
from ingestion.paths import Home
from ingestion.sql_shell import connect
home, stop, mode, snapshot = Home(Path(sys.argv[1])), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
held = connect(home) if mode == "held" else None  # opened before the build, kept across the swap
print(json.dumps({"ready": True}), flush=True)
while not stop.exists():
    t = time.time()
    try:
        con = held or connect(home)
        try:
            row = con.execute(snapshot).fetchone()
        finally:
            if held is None:
                con.close()
        print(json.dumps({"t": t, "row": [int(v) for v in row]}), flush=True)
    except Exception as exc:  # any error, a lock error above all, fails the test
        print(json.dumps({"t": t, "error": f"{type(exc).__name__}: {exc}"}), flush=True)
    time.sleep(0.05)
"""


def _snapshot(path: Path) -> tuple[int, ...]:
    from ingestion.paths import Home
    from ingestion.sql_shell import connect

    con = connect(Home(path))
    try:
        return tuple(int(v) for v in con.execute(SNAPSHOT).fetchone())
    finally:
        con.close()


def test_queries_during_a_real_build_see_one_whole_version(demo_state, tmp_path):  # noqa: F811
    """A real `ewto build` (dbt, then publish) on a state with one more submission, while two
    reader processes query marts.duckdb in a loop the whole time: one through a connection
    opened before the build and kept open across the swap, one through a fresh read-only
    connection per query. No reading fails (no lock error), every reading is one whole
    version (related marts agree, all marts present), the kept connection stays on the old
    version, and fresh connections move from the old to the new."""
    home_dir = demo_state.copy_home(tmp_path)
    before = _snapshot(home_dir)
    # the change the build must publish: etsy sends 2019-03 again without its last 3 items
    source = demo_state.drops / "etsy" / "takedowns" / "etsy_takedowns_2019-03.csv"
    changed = tmp_path / source.name
    changed.write_bytes(b"".join(source.read_bytes().splitlines(keepends=True)[:-3]))
    proc = demo_state.ewto(
        "submit",
        "--org",
        "etsy",
        "--dataset",
        "takedowns",
        "--period",
        "2019-03",
        str(changed),
        home=home_dir,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _snapshot(home_dir) == before  # landed in the lake, not yet in the marts

    stop = tmp_path / "stop"
    # output to files, not pipes: a reader blocked on a full pipe would stop querying
    logs = {
        mode: (tmp_path / f"reader-{mode}.jsonl", tmp_path / f"reader-{mode}.err")
        for mode in ("held", "fresh")
    }
    readers = {}
    for mode, (out, err) in logs.items():
        with open(out, "w") as fo, open(err, "w") as fe:
            readers[mode] = subprocess.Popen(
                [sys.executable, "-c", READER, str(home_dir), str(stop), mode, SNAPSHOT],
                stdout=fo,
                stderr=fe,
                cwd=REPO,
                env=demo_state.env(home_dir),
            )
    deadline = time.monotonic() + 120
    while not all(out.read_text().count("\n") >= 2 for out, _ in logs.values()):  # ready, one reading
        assert time.monotonic() < deadline and all(r.poll() is None for r in readers.values()), [
            e.read_text()[-2000:] for _, e in logs.values()
        ]
        time.sleep(0.1)
    build_start = time.time()
    try:
        proc = demo_state.ewto("build", home=home_dir, timeout=900)
        build_end = time.time()
        time.sleep(1.0)  # readings of the published version
    finally:
        stop.write_text("stop")
        for r in readers.values():
            r.wait(timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    after = _snapshot(home_dir)
    assert after[0] == before[0] - 3 and after[3] == before[3] + 1, (before, after)

    readings = {
        mode: [json.loads(line) for line in out.read_text().splitlines()[1:] if line.strip()]
        for mode, (out, _) in logs.items()
    }
    for mode, lines in readings.items():
        errors = [e["error"] for e in lines if "error" in e]
        assert not errors, f"{mode} reader: {errors[:5]}"
        # the reader kept querying through the whole build: readings before, during (no long
        # gap) and after it
        times = [e["t"] for e in lines]
        assert times[0] < build_start and times[-1] > build_end, (mode, times[0], times[-1])
        during = [t for t in times if build_start <= t <= build_end]
        gaps = [b - a for a, b in zip([build_start, *during], [*during, build_end], strict=True)]
        assert len(during) >= 20 and max(gaps) < 15, (
            f"{mode} reader: {len(during)} readings during the build, longest gap {max(gaps):.1f} s: "
            f"{logs[mode][1].read_text()[-2000:]}"
        )
        for e in lines:
            takedowns, member_items, breakdown_items, _subs, _compliance, tables = e["row"]
            assert tables == MART_TABLES, f"{mode}: a reading saw {tables} marts"
            assert takedowns == member_items == breakdown_items, f"{mode}: related marts disagree: {e['row']}"
            assert tuple(e["row"]) in (before, after), f"{mode}: {e['row']} is neither {before} nor {after}"
    held = {tuple(e["row"]) for e in readings["held"]}
    fresh = [tuple(e["row"]) for e in readings["fresh"]]
    assert held == {before}, "the connection opened before the build keeps its consistent view"
    assert fresh[0] == before and fresh[-1] == after
    switch = fresh.index(after)
    assert all(row == after for row in fresh[switch:]), (
        "once published, fresh readers see only the new version"
    )
    print(
        f"\n[read during build] build {build_end - build_start:.1f} s; readings: held {len(readings['held'])}, "
        f"fresh {len(fresh)} (old until #{switch}); load {os.getloadavg()[0]:.2f}"
    )
