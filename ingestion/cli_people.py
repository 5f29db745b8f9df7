"""Subcommands for the people who use ewto: `serve`, `token`, `sql`, `report`.

Each `add_parser` call wires a command to a function that imports its heavy modules
lazily, so `ewto --help` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys

from .errors import EXIT_OK, EXIT_USAGE, UsageError


def _home():  # noqa: ANN202
    from .paths import Home

    return Home.from_env()


# ------------------------------------------------------------------------------------ serve
def cmd_serve(args: argparse.Namespace) -> int:
    from .api import create_app

    app = create_app(_home())
    if args.openapi:
        print(json.dumps(app.openapi(), indent=2, ensure_ascii=False))
        return EXIT_OK
    import uvicorn

    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        server_header=False,
        timeout_graceful_shutdown=10,
    )
    return EXIT_OK


# ------------------------------------------------------------------------------------ token
def cmd_token_create(args: argparse.Namespace) -> int:
    from .tokens import create_token, tokens_path

    home = _home()
    token, record = create_token(home, args.org, args.label)
    print(token)
    print(
        f"token {record.token_id} created for {record.org_id}; it is shown only once "
        f"(only its SHA-256 is kept in {tokens_path(home)})",
        file=sys.stderr,
    )
    return EXIT_OK


def cmd_token_revoke(args: argparse.Namespace) -> int:
    from .tokens import revoke

    revoked = revoke(_home(), org_id=args.org, token_id=args.id)
    if not revoked:
        what = f"token {args.id}" if args.id else f"organisation {args.org}"
        print(f"ewto: error: no active token for {what}", file=sys.stderr)
        return EXIT_USAGE
    for t in revoked:
        print(f"revoked token {t.token_id} of {t.org_id}")
    return EXIT_OK


def cmd_token_list(args: argparse.Namespace) -> int:
    from .tokens import load_tokens

    tokens = [t for t in load_tokens(_home()) if args.org is None or t.org_id == args.org]
    if args.json:
        print(json.dumps([t.public() for t in tokens], indent=2))
        return EXIT_OK
    if not tokens:
        print("no tokens")
    for t in tokens:
        state = f"revoked {t.revoked_at}" if t.revoked_at else "active"
        label = f"  ({t.label})" if t.label else ""
        print(f"{t.token_id}  {t.org_id:<22} created {t.created_at}  {state}{label}")
    return EXIT_OK


# -------------------------------------------------------------------------------------- sql
def cmd_sql(args: argparse.Namespace) -> int:
    from .sql_shell import interactive, run_query

    if args.max_rows < 1:
        raise UsageError("--max-rows must be >= 1")
    home = _home()
    if args.query is None or args.query == "-":
        return interactive(home, args.format, args.max_rows)
    return run_query(home, args.query, args.format, args.max_rows)


# ----------------------------------------------------------------------------------- report
def cmd_report(args: argparse.Namespace) -> int:
    import datetime as dt
    from pathlib import Path

    from .report import write_report

    home = _home()
    if not home.marts.exists():
        raise UsageError(f"no published marts at {home.marts}: run `ewto build` first")
    as_of = dt.date.fromisoformat(args.as_of + "-01") if args.as_of else None
    written = write_report(home, Path(args.out), as_of)
    print(
        f"wrote {written.report} and {len(written.scorecards)} member scorecards in {written.scorecards_dir}"
    )
    return EXIT_OK


def add_commands(sub: argparse._SubParsersAction) -> None:  # noqa: SLF001
    """Register the people-facing subcommands on the `ewto` parser."""
    from .cli import _month

    s = sub.add_parser("serve", help="run the upload API (FastAPI on uvicorn)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    s.add_argument("--openapi", action="store_true", help="print the OpenAPI document and exit")
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("token", help="create, revoke or list upload API tokens")
    tsub = s.add_subparsers(dest="token_command", required=True)
    t = tsub.add_parser("create", help="create a token for an organisation and print it once")
    t.add_argument("--org", required=True)
    t.add_argument("--label", default=None, help="a note, e.g. who holds the token")
    t.set_defaults(func=cmd_token_create)
    t = tsub.add_parser("revoke", help="revoke an organisation's tokens, or one token by id")
    g = t.add_mutually_exclusive_group(required=True)
    g.add_argument("--org")
    g.add_argument("--id", help="token id (the 8 characters after 'ewto_')")
    t.set_defaults(func=cmd_token_revoke)
    t = tsub.add_parser("list", help="list tokens (ids, organisations, state; never the tokens)")
    t.add_argument("--org", default=None)
    t.add_argument("--json", action="store_true")
    t.set_defaults(func=cmd_token_list)

    s = sub.add_parser(
        "sql",
        help="read-only SQL on the published marts (no query: interactive prompt)",
        description="Run SQL on $EWTO_HOME/marts.duckdb, read-only. Without a query (or with '-'), "
        "read statements ending with ';' from the terminal or from stdin.",
    )
    s.add_argument("query", nargs="?", default=None)
    s.add_argument("--format", choices=["table", "csv", "json"], default="table")
    s.add_argument("--max-rows", type=int, default=1000, help="rows shown by --format table (default 1000)")
    s.set_defaults(func=cmd_sql)

    s = sub.add_parser("report", help="write the KPI report (one HTML file) and member scorecards")
    s.add_argument("--out", required=True, help="folder to write ewto-kpi-report.html and members/ into")
    s.add_argument("--as-of", type=_month, default=None, help="last month shown, YYYY-MM (default: latest)")
    s.set_defaults(func=cmd_report)
