"""Benchmark: full `ewto build --full-refresh` versus the incremental build after one month.

    .venv/bin/python benchmarks/bench_build.py --scale 0.1 [--workdir DIR] [--seed 42]

1. simulate the coalition 2012-01..2021-11 at --scale (SYNTHETIC data) and ingest it into a
   base $EWTO_HOME (kept in --workdir and reused by later runs with the same scale and seed);
2. copy the base home, run `dbt parse` once (untimed, reported: both timed builds then start
   from the same partial-parse state), time `ewto build --full-refresh`;
3. simulate 2021-12 alone (the simulator's output for one month does not depend on the
   range), ingest those files, time the incremental `ewto build`;
4. print both times, the published row counts, the ratio (target: incremental <= 1/4 of
   full) and where the time went: dbt's nodes (run_results.json), dbt's own start and
   artifacts (dbt.log), the dbt process's start before that (imports), and the rest (the
   ewto process, the registry export and publishing marts.duckdb).

Iterating on the incremental build: `--save-state DIR` keeps a copy of the home as it is just
before the incremental build (after the full build and the 2021-12 ingest); a later run with
`--from-state DIR` copies it back and times only the incremental build (no base, no full
build, no ingest: about 30 s instead of 3-4 min; an untimed `dbt parse` first, so that the
timed build parses nothing), so several variants of the code can be compared on the same
state. The saved state holds the tables the full build wrote, so it
fits code whose models have the same columns.

As in a real monthly run, the evaluation date moves: the full build is evaluated as of
--as-of (default 2021-12-31), the incremental one a month later (2022-01-31). `ewto build`
passes it to dbt in the environment (EWTO_AS_OF_DATE), which the macros read only when dbt
executes, so the new date re-parses nothing. Both builds leave dbt's unit tests out, as
`ewto build` does (--unit-tests runs them in both).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO))


UNIT_TESTS: tuple[str, ...] = ()  # --unit-tests: ("--unit-tests",) on both builds


def _env(home: Path, as_of: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "EWTO_HOME": str(home),
            "EWTO_AS_OF": as_of,
            "EWTO_PSEUDONYM_KEY": env.get("EWTO_PSEUDONYM_KEY", "bench-key-0123456789abcdef0123456789"),
            "PATH": f"{BIN}:{env.get('PATH', '')}",
        }
    )
    return env


CPU_SECONDS: dict[str, float] = {}  # ewto command -> CPU seconds of it and its children (dbt)


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def ewto(home: Path, as_of: str, *args: str) -> tuple[float, str]:
    """Run `ewto ARGS`: wall seconds and stdout. Its CPU seconds (user + system, dbt's
    included: ewto waits for it) go to CPU_SECONDS; on a shared machine they vary far less
    with the load than wall time does."""
    t0, c0 = time.perf_counter(), _children_cpu()
    proc = subprocess.run(
        [str(BIN / "ewto"), *args], env=_env(home, as_of), capture_output=True, text=True, cwd=REPO
    )
    seconds = time.perf_counter() - t0
    CPU_SECONDS[" ".join(args)] = round(_children_cpu() - c0, 1)
    if proc.returncode != 0:
        sys.exit(f"ewto {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return seconds, proc.stdout


def mart_rows(home: Path) -> dict[str, int]:
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{home / 'marts.duckdb'}' AS m (READ_ONLY)")
        names = [
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where database_name = 'm' "
                "and schema_name = 'marts' order by 1"
            ).fetchall()
        ]
        return {n: con.execute(f'select count(*) from m.marts."{n}"').fetchone()[0] for n in names}
    finally:
        con.close()


def dbt_command_seconds(home: Path) -> float | None:
    """dbt's own duration of its last command (process start to end), from its log."""
    last = None
    for line in (home / "build" / "logs" / "dbt.log").read_text(errors="replace").splitlines():
        if "Command `dbt build` succeeded" in line and " after " in line:
            last = float(line.rsplit(" after ", 1)[1].split()[0])
    return last


def dbt_process_seconds(stdout: str) -> float | None:
    """Wall time of the dbt subprocess as `ewto build` reports it ("build ok in N s")."""
    m = re.search(r"build ok in ([0-9.]+) s", stdout)
    return float(m.group(1)) if m else None


def dbt_profile(home: Path, seconds: float, stdout: str = "") -> dict[str, object]:
    """Where the time of the last `ewto build` went: dbt (run_results.json, dbt.log), the dbt
    process's start (imports, before dbt's own clock starts) and the rest (the ewto process,
    registry export, publishing marts.duckdb)."""
    rr = json.loads((home / "build" / "target" / "run_results.json").read_text())
    dbt_seconds = dbt_command_seconds(home)
    process = dbt_process_seconds(stdout)
    by_type: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for r in rr["results"]:
        kind = r["unique_id"].split(".")[0]
        by_type[kind] += r["execution_time"]
        counts[kind] += 1
    top = sorted(rr["results"], key=lambda r: -r["execution_time"])[:6]
    return {
        "command_seconds": round(seconds, 1),
        "dbt_command_seconds": dbt_seconds,
        "dbt_nodes_wall_seconds": round(rr["elapsed_time"], 1),
        "dbt_startup_and_artifacts_seconds": round(dbt_seconds - rr["elapsed_time"], 1)
        if dbt_seconds
        else None,
        "outside_dbt_seconds": round(seconds - dbt_seconds, 1) if dbt_seconds else None,
        "dbt_process_start_seconds": round(process - dbt_seconds, 1) if process and dbt_seconds else None,
        "ewto_registry_publish_seconds": round(seconds - process, 1) if process else None,
        "node_seconds_by_type": {k: round(v, 1) for k, v in sorted(by_type.items())},
        "nodes_by_type": dict(sorted(counts.items())),
        "slowest_nodes": [(r["unique_id"].split(".")[-1], round(r["execution_time"], 2)) for r in top],
    }


def copy_home(src: Path, dst: Path) -> None:
    """A fresh copy of a home at `dst`, written back to disk now (`os.sync`): otherwise the
    copy's dirty pages would be written back during the timed build that follows."""
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    os.sync()


def time_incremental(home: Path, as_of: str, result: dict[str, object]) -> tuple[float, dict[str, int]]:
    """Time the incremental `ewto build`: its seconds and the marts' rows after it; its
    profile, CPU, load and rows also go into `result`."""
    inc_s, inc_out = ewto(home, as_of, "build", *UNIT_TESTS)
    result["incremental"] = dbt_profile(home, inc_s, inc_out)
    result["incremental"]["cpu_seconds"] = CPU_SECONDS[" ".join(("build", *UNIT_TESTS))]
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    result["rows_incremental"] = rows = mart_rows(home)
    return inc_s, rows


def incremental_only(
    saved: Path, home: Path, as_of: str, result: dict[str, object], json_path: str | None
) -> int:
    """--from-state: time the incremental build alone on a fresh copy of a saved state."""
    if not (saved / "build" / "warehouse.duckdb").exists():
        sys.exit(f"{saved} holds no saved state (run once with --save-state {saved})")
    copy_home(saved, home)
    # the saved partial-parse state is the saving code's: parse this code's project first
    # (untimed, as before the full build), or a changed model would be parsed in the timed build
    from ingestion.paths import Home
    from ingestion.warehouse import run_dbt

    os.environ.update(_env(home, as_of))
    proc = run_dbt(Home(home), ["parse"], dt.date.fromisoformat(as_of))
    if proc.returncode != 0:
        sys.exit(proc.stdout[-3000:])
    inc_s, _ = time_incremental(home, as_of, result)
    print(f"load at start {result['load_average_at_start']}, at end {result['load_average_at_end']}")
    print(f"incremental build (+2021-12, from {saved}): {inc_s:7.1f} s")
    print(f"  incremental: {json.dumps(result['incremental'])}")
    if json_path:
        Path(json_path).write_text(json.dumps(result, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument(
        "--workdir", default=None, help="keeps the simulated base between runs (default: a temp dir)"
    )
    p.add_argument("--as-of", default="2021-12-31", help="evaluation date of the full build")
    p.add_argument("--next-as-of", default="2022-01-31", help="evaluation date of the incremental build")
    p.add_argument("--json", default=None, help="also write the results to this file")
    p.add_argument(
        "--unit-tests", action="store_true", help="run dbt's unit tests in both builds (CI's build)"
    )
    p.add_argument(
        "--save-state",
        default=None,
        help="copy the home here just before the incremental build (for --from-state)",
    )
    p.add_argument(
        "--from-state",
        default=None,
        help="time only the incremental build, on a copy of a --save-state folder",
    )
    args = p.parse_args(argv)
    global UNIT_TESTS
    UNIT_TESTS = ("--unit-tests",) if args.unit_tests else ()

    from ingestion.paths import Home
    from ingestion.simulate import simulate
    from ingestion.warehouse import run_dbt

    work = Path(args.workdir or tempfile.mkdtemp(prefix="ewto-bench-")).resolve()
    tag = f"scale{args.scale:g}-seed{args.seed}"
    base, drops, nxt = work / f"base-{tag}", work / f"drops-{tag}", work / f"next-{tag}"
    home = work / f"home-{tag}"
    result: dict[str, object] = {
        "scale": args.scale,
        "seed": args.seed,
        "as_of": args.as_of,
        "next_as_of": args.next_as_of,
        "unit_tests": args.unit_tests,
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }

    if args.from_state:
        return incremental_only(Path(args.from_state), home, args.next_as_of, result, args.json)

    if not (base / ".ingested").exists():
        shutil.rmtree(base, ignore_errors=True)
        t0 = time.perf_counter()
        s = simulate(drops, "2012-01", "2021-11", args.scale, args.seed)
        result["simulate_base_seconds"] = round(time.perf_counter() - t0, 1)
        print(f"simulated 2012-01..2021-11: {s.files_written} files, {s.takedown_rows:,} takedown rows")
        secs, _ = ewto(base, args.as_of, "ingest", "--from", str(drops))
        result["ingest_base_seconds"] = round(secs, 1)
        (base / ".ingested").write_text(dt.datetime.now(dt.UTC).isoformat())
        print(f"ingested the base in {secs:.0f} s")
    copy_home(base, home)

    os.environ.update(_env(home, args.as_of))
    h = Home(home)
    h.build_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    proc = run_dbt(h, ["parse"], dt.date.fromisoformat(args.as_of))
    result["dbt_full_parse_seconds"] = round(time.perf_counter() - t0, 1)
    if proc.returncode != 0:
        sys.exit(proc.stdout[-3000:])
    print(f"dbt parse (warm-up, untimed in the builds): {result['dbt_full_parse_seconds']} s")

    full_s, full_out = ewto(home, args.as_of, "build", "--full-refresh", *UNIT_TESTS)
    full_rows = mart_rows(home)
    result["full"] = dbt_profile(home, full_s, full_out)
    result["full"]["cpu_seconds"] = CPU_SECONDS[" ".join(("build", "--full-refresh", *UNIT_TESTS))]
    print(f"full build (--full-refresh): {full_s:.1f} s")

    if not (nxt / "README.txt").exists():
        simulate(nxt, "2021-12", "2021-12", args.scale, args.seed)
    secs, out = ewto(home, args.next_as_of, "ingest", "--from", str(nxt))
    result["ingest_new_month_seconds"] = round(secs, 1)
    result["ingest_new_month"] = out.strip().splitlines()[-1]
    print(f"ingested 2021-12 in {secs:.0f} s: {result['ingest_new_month']}")

    if args.save_state:
        copy_home(home, Path(args.save_state))
        print(f"state before the incremental build saved in {args.save_state}")

    inc_s, inc_rows = time_incremental(home, args.next_as_of, result)
    ratio = inc_s / full_s
    result["ratio"] = round(ratio, 3)
    result["rows_full"] = full_rows

    print()
    print(
        f"scale {args.scale:g}, seed {args.seed}, {os.cpu_count()} CPUs, load at start {result['load_average_at_start']}"
    )
    print(f"{'mart':32} {'rows (full)':>14} {'rows (incr.)':>14}")
    for name in sorted(set(full_rows) | set(inc_rows)):
        print(f"{name:32} {full_rows.get(name, 0):>14,} {inc_rows.get(name, 0):>14,}")
    print(f"full build (--full-refresh):  {full_s:7.1f} s")
    print(f"incremental build (+2021-12): {inc_s:7.1f} s")
    verdict = "meets" if ratio <= 0.25 else "MISSES"
    print(f"incremental / full = {ratio:.3f} ({verdict} the target <= 0.25)")
    fc, ic = result["full"]["cpu_seconds"], result["incremental"]["cpu_seconds"]
    if fc:
        result["ratio_cpu"] = round(ic / fc, 3)
        print(f"CPU seconds (ewto + dbt): full {fc:.1f}, incremental {ic:.1f}, ratio {ic / fc:.3f}")
    fd, idb = result["full"]["dbt_command_seconds"], result["incremental"]["dbt_command_seconds"]
    if fd and idb:
        result["ratio_dbt_only"] = round(idb / fd, 3)
        print(f"dbt alone: full {fd:.1f} s, incremental {idb:.1f} s, ratio {idb / fd:.3f}")
    for k in ("full", "incremental"):
        prof = result[k]
        print(f"  {k}: {json.dumps(prof)}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
