"""`ewto sql` on the demo marts: output formats, read-only refusal, one-line errors, the
interactive prompt on a pipe, every worked query of docs/analyst-guide.md, and readers
that never see a half-published build while publish() swaps the file.
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


# ------------------------------------------------------------------ publish while reading
READER = r"""
import json, sys, time
from pathlib import Path
from ingestion.paths import Home
from ingestion.sql_shell import connect, execute
home, stop = Home(Path(sys.argv[1])), Path(sys.argv[2])
n = 0
while not stop.exists():
    try:
        con = connect(home)
        try:
            counts = []
            for t in ("kpi_member_monthly", "fct_takedowns", "kpi_submission_compliance"):
                [res] = list(execute(con, f"SELECT count(*) FROM {t}"))
                counts.append(list(res.rows)[0][0])
        finally:
            con.close()
        print(json.dumps({"counts": counts}), flush=True)
    except Exception as exc:  # any error is a failure of the test
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
    n += 1
"""


def test_readers_never_see_a_half_published_build(demo_state, tmp_path):  # noqa: F811
    """publish() swaps marts.duckdb while another process queries in a loop: every reading
    sees the row counts of one published version (A or B), never an error or a mix."""
    from ingestion.paths import Home
    from ingestion.warehouse import publish

    home_dir = demo_state.copy_home(tmp_path)
    home = Home(home_dir)
    wh_a = home_dir / "build" / "warehouse-a.duckdb"
    wh_b = home_dir / "build" / "warehouse-b.duckdb"
    os.replace(home.warehouse, wh_a)
    import shutil

    shutil.copyfile(wh_a, wh_b)
    con = duckdb.connect(str(wh_b))
    for t in ("kpi_member_monthly", "fct_takedowns", "kpi_submission_compliance"):
        con.execute(f"DELETE FROM marts.{t} WHERE month >= DATE '2019-01-01'")
    con.execute("CHECKPOINT")
    con.close()

    def counts(path: Path) -> tuple[int, ...]:
        c = duckdb.connect(str(path), read_only=True)
        try:
            return tuple(
                c.execute(f"SELECT count(*) FROM marts.{t}").fetchone()[0]
                for t in ("kpi_member_monthly", "fct_takedowns", "kpi_submission_compliance")
            )
        finally:
            c.close()

    versions = {counts(wh_a), counts(wh_b)}
    assert len(versions) == 2

    def use(path: Path) -> None:  # point build/warehouse.duckdb at A or B (atomic symlink swap)
        link = home.warehouse.with_name(".next-link")
        link.unlink(missing_ok=True)
        link.symlink_to(path.name)
        os.replace(link, home.warehouse)

    use(wh_a)
    publish(home)
    stop = tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(home_dir), str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=demo_state.env(home_dir),
    )
    try:
        time.sleep(1)
        published = 0
        for i in range(8):
            use(wh_b if i % 2 == 0 else wh_a)
            publish(home)
            published += 1
        time.sleep(0.5)
    finally:
        stop.write_text("stop")
        out, err = reader.communicate(timeout=120)
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    errors = [entry["error"] for entry in lines if "error" in entry]
    assert not errors, errors[:5]
    seen = {tuple(entry["counts"]) for entry in lines}
    assert len(lines) >= 10, f"the reader made only {len(lines)} readings: {err[-2000:]}"
    assert seen <= versions, f"readings {seen - versions} match no published version {versions}"
    print(f"\n[publish race] {published} publishes, {len(lines)} readings, versions seen: {len(seen)}")
    assert len(seen) == 2, "the reader should have seen both versions while they alternated"
