"""The `ewto` command: the same library functions the DAGs call, for people and scripts.

Exit codes: 0 ok (a submission accepted, warnings allowed), 1 a step failed (e.g. the
dbt build or its tests), 2 usage or configuration error, 3 a submitted file was rejected.
No traceback reaches a user unless EWTO_DEBUG=1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import traceback
from pathlib import Path

from .errors import EXIT_FAILED, EXIT_OK, EXIT_REJECTED, EXIT_USAGE, UsageError


def _month(value: str) -> str:
    try:
        dt.date.fromisoformat(value + "-01")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM, got {value!r}") from exc
    if len(value) != 7:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM, got {value!r}")
    return value


def _timestamp(value: str) -> dt.datetime:
    try:
        ts = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected an ISO 8601 timestamp, got {value!r}") from exc
    return ts if ts.tzinfo else ts.replace(tzinfo=dt.UTC)


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {value!r}") from exc


def cmd_simulate(args: argparse.Namespace) -> int:
    from .simulate import simulate

    if args.scale < 0:
        raise UsageError("--scale must be >= 0")
    summary = simulate(Path(args.out), start=args.start, end=args.end, scale=args.scale, seed=args.seed)
    print(summary.as_text())
    return EXIT_OK


def _print_outcome(outcome, as_json: bool) -> None:  # noqa: ANN001
    if as_json:
        print(json.dumps(outcome.as_dict(), ensure_ascii=False))
        return
    req = outcome.request
    print(
        f"{outcome.status.upper()}: {req.path} ({req.org_id} {req.dataset} {req.period}), {outcome.rows} rows"
    )
    print(f"  submission_id: {outcome.submission_id}")
    if outcome.duplicate_of:
        print(f"  the same bytes were already submitted as {outcome.duplicate_of}; nothing changed")
        if outcome.rejected:
            print(f"  {outcome.duplicate_of} was REJECTED, and so are these bytes again:")
    for f in outcome.failures:
        rows = f"{f.rows_failing} rows" if f.rows_failing else "file"
        where = f"column {f.column}" if f.column else "file"
        ex = f"; e.g. {outcome.row_label}s {', '.join(map(str, f.examples))}" if f.examples else ""
        vals = f" (values {', '.join(repr(v) for v in f.example_values[:5])})" if f.example_values else ""
        print(f"  REJECTED BY rule {f.rule} on {where}: {f.message} [{rows}]{ex}{vals}")
    for w in outcome.warnings:
        where = f"column {w.column}" if w.column else "file"
        print(f"  warning: rule {w.rule} on {where}: {w.message} [{w.rows_failing} rows]")


def cmd_submit(args: argparse.Namespace) -> int:
    from .submission import SubmissionRequest, submit_files

    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    received = args.received_at or dt.datetime.now(dt.UTC)
    [outcome] = submit_files([SubmissionRequest(args.org, args.dataset, args.period, path, received)])
    _print_outcome(outcome, args.json)
    return EXIT_REJECTED if outcome.rejected else EXIT_OK


def cmd_ingest(args: argparse.Namespace) -> int:
    from .drops import ingest

    drop = Path(args.source)
    if not drop.is_dir():
        raise UsageError(f"drop folder {drop} does not exist")
    outcomes, skipped = ingest(drop, org_id=args.org)
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
        if o.rejected:
            _print_outcome(o, False)
    for s in skipped:
        print(f"skipped {s.path}: {s.reason}")
    total = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "no new files"
    print(f"ingest: {len(outcomes)} new files from {drop}: {total}")
    return EXIT_OK


def cmd_build(args: argparse.Namespace) -> int:
    from .warehouse import as_of_date, build

    result = build(
        as_of=as_of_date(args.as_of),
        full_refresh=args.full_refresh,
        unit_tests=getattr(args, "unit_tests", False),
    )
    if not result.ok:
        print("build FAILED; the published marts were left unchanged. dbt said:", file=sys.stderr)
        print(result.log_tail, file=sys.stderr)
        return EXIT_FAILED
    rows = ", ".join(f"{k} {v:,}" for k, v in result.marts.items())
    print(f"build ok in {result.seconds:.1f} s; published marts: {rows}")
    return EXIT_OK


def cmd_kpi(args: argparse.Namespace) -> int:
    from .kpi import headline, render
    from .paths import Home

    home = Home.from_env()
    if not home.marts.exists():
        raise UsageError(f"no published marts at {home.marts}: run `ewto build` first")
    month = dt.date.fromisoformat(args.as_of + "-01") if args.as_of else None
    h = headline(home, month)
    print(json.dumps(h.as_dict(), default=str) if args.json else render(h))
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    args.source = args.source
    args.org = None
    cmd_ingest(args)
    code = cmd_build(argparse.Namespace(as_of=args.as_of, full_refresh=False))
    if code != EXIT_OK:
        return code
    month = (args.as_of or os.environ.get("EWTO_AS_OF") or "")[:7] or None
    return cmd_kpi(argparse.Namespace(as_of=month, json=False))


def cmd_suites(args: argparse.Namespace) -> int:
    from .suites import write_suites

    for path in write_suites():
        print(f"wrote {path}")
    return EXIT_OK


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ewto", description="ewto: the coalition's data warehouse")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("simulate", help="write SYNTHETIC member and NGO exports into drop folders")
    s.add_argument("--out", required=True)
    s.add_argument("--start", type=_month, default="2012-01")
    s.add_argument("--end", type=_month, default="2021-12")
    s.add_argument("--scale", type=float, default=0.01)
    s.add_argument("--seed", type=int, default=42)
    s.set_defaults(func=cmd_simulate)

    s = sub.add_parser("submit", help="validate and land one export file")
    s.add_argument("--org", required=True)
    s.add_argument("--dataset", required=True, choices=["takedowns", "monitoring"])
    s.add_argument("--period", required=True, type=_month)
    s.add_argument("--received-at", type=_timestamp, default=None)
    s.add_argument("--json", action="store_true")
    s.add_argument("file")
    s.set_defaults(func=cmd_submit)

    s = sub.add_parser("ingest", help="submit every new file of the drop folders")
    s.add_argument("--from", dest="source", default=os.environ.get("EWTO_DROP_DIR", "drops"))
    s.add_argument("--org", default=None, help="only this organisation's folder")
    s.set_defaults(func=cmd_ingest)

    s = sub.add_parser("build", help="dbt build the warehouse and publish the marts")
    s.add_argument("--as-of", default=None, help="evaluation date YYYY-MM-DD (default EWTO_AS_OF or today)")
    s.add_argument("--full-refresh", action="store_true")
    s.add_argument(
        "--unit-tests",
        action="store_true",
        help="also run dbt's unit tests (CI does; they test the SQL, not the data)",
    )
    s.set_defaults(func=cmd_build)

    s = sub.add_parser("kpi", help="print the KPI headline")
    s.add_argument("--as-of", type=_month, default=None)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_kpi)

    s = sub.add_parser("run", help="ingest, build and report")
    s.add_argument("--from", dest="source", default=os.environ.get("EWTO_DROP_DIR", "drops"))
    s.add_argument("--as-of", default=None)
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("suites", help="regenerate the GX suites in expectations/ from the contract")
    s.set_defaults(func=cmd_suites)

    # Commands for people (serve, token, sql, report) live in their own module, which
    # must import nothing heavy at module level: `ewto --help` stays fast.
    from .cli_people import add_commands

    add_commands(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except UsageError as exc:
        print(f"ewto: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("ewto: interrupted", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback for users
        if os.environ.get("EWTO_DEBUG") == "1":
            traceback.print_exc()
        print(
            f"ewto: internal error: {type(exc).__name__}: {exc} (set EWTO_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
