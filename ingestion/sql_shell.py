"""`ewto sql`: read-only SQL on the published marts, for analysts.

The connection is an in-memory DuckDB database that ATTACHes $EWTO_HOME/marts.duckdb as
`ewto` (READ_ONLY) and runs `USE ewto.marts`, so both `kpi_member_monthly` and
`marts.kpi_member_monthly` resolve (opening the file directly would name its catalog
`marts`, the same as its schema). External access (files, URLs, extensions) is switched
off after the ATTACH, and only reading statements are run: anything else is refused
before it reaches DuckDB, in one line, with exit code 2.

The marts file is replaced atomically after each build (warehouse.publish), so a query
sees one published version or the next, never a half-built table; an interactive session
reconnects by itself when a newer version has been published.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
import math
import os
import sys
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

import duckdb

from .errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError
from .paths import Home

# Statement types that only read (SELECT covers DESCRIBE, SHOW, SUMMARIZE, PRAGMA show_*).
READING = {"SELECT", "EXPLAIN", "CALL", "SET", "TRANSACTION"}
FORMATS = ("table", "csv", "json")
SYNTHETIC_LINE = "(SYNTHETIC demo data: simulator output, not real platform measurements)"


class WriteRefused(Exception):
    """A statement that would write (or reach outside the marts)."""


class SqlError(Exception):
    """A DuckDB error, reduced to one line."""


@dataclass
class Result:
    columns: list[str]
    rows: Iterator[tuple[Any, ...]]


def one_line(exc: BaseException) -> str:
    """DuckDB's message without the LINE/caret block, on one line."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    keep: list[str] = []
    for ln in lines:
        if ln.startswith("LINE ") or set(ln) <= {"^", " "}:
            break
        keep.append(ln)
    return " ".join(keep) or type(exc).__name__


def literal(value: Any) -> str:
    """A SQL literal (dates as ISO text, cast by the SQL; strings quoted; lists of them)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.date):
        return f"'{value.isoformat()}'"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return "'" + str(value).replace("'", "''") + "'"


def inline(sql: str, params: list[Any]) -> str:
    """Put the parameters into the SQL as literals.

    DuckDB's Python client imports pandas the first time any parameter is bound (seconds on
    a busy machine); the values here are dates, config values and slugs, quoted safely.
    """
    parts = sql.split("?")
    if len(parts) != len(params) + 1:
        raise ValueError(f"{len(parts) - 1} placeholders for {len(params)} parameters")
    out = [parts[0]]
    for value, rest in zip(params, parts[1:], strict=True):
        out.append(literal(value) + rest)
    return "".join(out)


def connect(home: Home) -> duckdb.DuckDBPyConnection:
    if not home.marts.exists():
        raise UsageError(f"no published marts at {home.marts}: run `ewto build` first")
    con = duckdb.connect(":memory:")
    try:
        path = str(home.marts).replace("'", "''")
        con.execute(f"ATTACH '{path}' AS ewto (READ_ONLY)")
        con.execute("USE ewto.marts")
        con.execute("SET enable_external_access = false")
    except duckdb.Error as exc:
        con.close()
        raise UsageError(f"cannot open {home.marts}: {one_line(exc)}") from exc
    return con


def _identity(home: Home) -> tuple[int, int] | None:
    try:
        st = os.stat(home.marts)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns)


def statements(con: duckdb.DuckDBPyConnection, sql: str) -> list[Any]:
    try:
        stmts = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise SqlError(one_line(exc)) from exc
    for s in stmts:
        kind = str(s.type).rsplit(".", 1)[-1]
        if kind not in READING:
            raise WriteRefused(
                f"refused: {kind} statements are not allowed; ewto sql is read-only "
                "(the marts are published by `ewto build`)"
            )
    return stmts


def execute(con: duckdb.DuckDBPyConnection, sql: str) -> Iterator[Result]:
    """Run the statements of `sql` one by one, yielding each one's rows.

    All statements are checked first, so nothing runs if one would write. Consume each
    Result before asking for the next: the next statement replaces the connection's
    pending result.
    """
    stmts = statements(con, sql)

    def run() -> Iterator[Result]:
        for s in stmts:
            try:
                cur = con.execute(s.query)
            except duckdb.Error as exc:
                raise SqlError(one_line(exc)) from exc
            if cur.description is None:
                continue
            yield Result([d[0] for d in cur.description], _fetch(cur))

    return run()


def _fetch(cur: duckdb.DuckDBPyConnection, size: int = 2048) -> Iterator[tuple[Any, ...]]:
    while True:
        try:
            batch = cur.fetchmany(size)
        except duckdb.Error as exc:
            raise SqlError(one_line(exc)) from exc
        if not batch:
            return
        yield from batch


# --------------------------------------------------------------------------------- output
def _cell(v: Any) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return str(v)
        return f"{v:.6g}" if abs(v) >= 1e6 or (v != 0 and abs(v) < 1e-4) else f"{round(v, 6):g}"
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, dt.date | dt.time | decimal.Decimal | uuid.UUID):
        return str(v)
    if isinstance(v, bytes):
        return v.hex()
    return str(v)


def _json_value(v: Any) -> Any:
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    if isinstance(v, dt.date | dt.time | dt.datetime):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, dict):
        return {str(k): _json_value(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_json_value(x) for x in v]
    return v


def _numeric(values: Iterable[Any]) -> bool:
    return all(isinstance(v, int | float | decimal.Decimal) and not isinstance(v, bool) for v in values)


def write_table(res: Result, out: IO[str], max_rows: int) -> int:
    rows = []
    more = 0
    for r in res.rows:
        if len(rows) < max_rows:
            rows.append(r)
        else:
            more += 1
    cells = [[_cell(v) for v in r] for r in rows]
    widths = [len(c) for c in res.columns]
    for r in cells:
        for i, c in enumerate(r):
            widths[i] = min(max(widths[i], len(c)), 60)
    right = [bool(rows) and _numeric(r[i] for r in rows if r[i] is not None) for i in range(len(widths))]

    def fmt(values: list[str]) -> str:
        parts = []
        for i, v in enumerate(values):
            v = v if len(v) <= widths[i] else v[: widths[i] - 1] + "…"
            parts.append(v.rjust(widths[i]) if right[i] else v.ljust(widths[i]))
        return " | ".join(parts).rstrip()

    out.write(fmt(list(res.columns)) + "\n")
    out.write("-+-".join("-" * w for w in widths) + "\n")
    for r in cells:
        out.write(fmt(r) + "\n")
    n = len(rows) + more
    tail = f"({n:,} row{'s' if n != 1 else ''}"
    if more:
        tail += f"; first {len(rows):,} shown: use --max-rows or --format csv"
    out.write(tail + ")\n")
    return n


def _csv_value(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    value = _json_value(v)
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value


def write_csv(res: Result, out: IO[str]) -> int:
    w = csv.writer(out, lineterminator="\n")
    w.writerow(res.columns)
    n = 0
    for r in res.rows:
        w.writerow([_csv_value(v) for v in r])
        n += 1
    return n


def write_json(res: Result, out: IO[str]) -> int:
    """A JSON array of objects, one object per line."""
    out.write("[")
    n = 0
    for r in res.rows:
        obj = {c: _json_value(v) for c, v in zip(res.columns, r, strict=True)}
        out.write(("\n" if n == 0 else ",\n") + json.dumps(obj, ensure_ascii=False))
        n += 1
    out.write("\n]\n" if n else "]\n")
    return n


def write(res: Result, fmt: str, out: IO[str], max_rows: int) -> int:
    if fmt == "csv":
        return write_csv(res, out)
    if fmt == "json":
        return write_json(res, out)
    return write_table(res, out, max_rows)


# ---------------------------------------------------------------------------------- shell
def run_query(
    home: Home, sql: str, fmt: str = "table", max_rows: int = 1000, out: IO[str] | None = None
) -> int:
    """`ewto sql "..."`: exit 0, 1 (SQL error) or 2 (refused write)."""
    out = out or sys.stdout
    con = connect(home)
    try:
        for res in execute(con, sql):
            write(res, fmt, out, max_rows)
    except WriteRefused as exc:
        print(f"ewto sql: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SqlError as exc:
        print(f"ewto sql: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        con.close()
    if fmt == "table":
        print(SYNTHETIC_LINE, file=sys.stderr)
    return EXIT_OK


HELP = """Statements end with ';'. Commands:
  .tables            list the marts
  .schema TABLE      columns of a mart
  .format table|csv|json
  .help              this text
  .quit / .exit      leave (Ctrl-D too)"""


def interactive(
    home: Home,
    fmt: str = "table",
    max_rows: int = 1000,
    stdin: IO[str] | None = None,
    out: IO[str] | None = None,
) -> int:
    """Read statements until ';' (prompts on a terminal, none when stdin is a pipe)."""
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    tty = stdin.isatty()
    con = connect(home)
    ident = _identity(home)
    worst = EXIT_OK
    if tty:
        try:
            import readline  # noqa: F401 - line editing and history on a terminal
        except ImportError:
            pass
        print(f"ewto sql: read-only marts at {home.marts}", file=sys.stderr)
        print(SYNTHETIC_LINE, file=sys.stderr)
        print("End statements with ';'; .help for commands, .quit to leave.", file=sys.stderr)

    def read_line(prompt: str) -> str | None:
        if tty:
            try:
                return input(prompt)
            except EOFError:
                return None
        line = stdin.readline()
        return None if line == "" else line.rstrip("\n")

    buffer: list[str] = []
    try:
        while True:
            try:
                line = read_line("ewto> " if not buffer else "  ...> ")
            except KeyboardInterrupt:  # Ctrl-C on a terminal drops the statement being typed
                if not tty:
                    raise
                print("^C", file=sys.stderr)
                buffer = []
                continue
            if line is None:
                if tty:
                    print(file=sys.stderr)
                if not "\n".join(buffer).strip():
                    break
                line = ";"  # run what is left at end of input
            stripped = line.strip()
            if not buffer and stripped.startswith("."):
                cmd, _, arg = stripped.partition(" ")
                if cmd in (".quit", ".exit", ".q"):
                    break
                if cmd == ".help":
                    print(HELP, file=out)
                elif cmd == ".format" and arg.strip() in FORMATS:
                    fmt = arg.strip()
                elif cmd == ".tables":
                    buffer = [
                        "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'ewto' "
                        "AND table_schema = 'marts' ORDER BY table_name;"
                    ]
                    line = ""
                elif cmd == ".schema" and arg.strip():
                    name = arg.strip().replace("'", "''")
                    buffer = [
                        "SELECT column_name, data_type FROM information_schema.columns "
                        f"WHERE table_catalog = 'ewto' AND table_schema = 'marts' AND table_name = '{name}' "
                        "ORDER BY ordinal_position;"
                    ]
                    line = ""
                else:
                    print(f"ewto sql: unknown command {stripped!r}; .help lists them", file=sys.stderr)
                    worst = max(worst, EXIT_USAGE)
                if not buffer:
                    continue
            else:
                buffer.append(line)
            if not "\n".join(buffer).rstrip().endswith(";"):
                continue
            sql = "\n".join(buffer)
            buffer = []
            if not sql.strip(" ;\n\t"):
                continue
            now = _identity(home)
            if now is not None and now != ident:  # a build published a newer version
                con.close()
                con = connect(home)
                ident = now
                if tty:
                    print("(a newer build of the marts was published; reconnected)", file=sys.stderr)
            try:
                for res in execute(con, sql):
                    write(res, fmt, out, max_rows)
                out.flush()
            except WriteRefused as exc:
                print(f"ewto sql: {exc}", file=sys.stderr)
                worst = max(worst, EXIT_USAGE)
            except SqlError as exc:
                print(f"ewto sql: error: {exc}", file=sys.stderr)
                worst = max(worst, EXIT_FAILED)
    except KeyboardInterrupt:
        print(file=sys.stderr)
    finally:
        con.close()
    return EXIT_OK if tty else worst
