"""A submission killed between any two of its writes leaves the old state or the new one.

Each case submits a first version of a file, then a replacement that is killed (os._exit,
as a SIGKILL would) at one point of its commit sequence, then builds: the marts must hold
exactly the first version or exactly the replacement, never a mix, and the next normal
submission must clean up what the crash left behind.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HEADER = (
    "record_id,content_type,detected_at,actioned_at,detection_source,detection_stage,"
    "action_type,commodity,seller_id\n"
)


def _file(path: Path, n: int) -> Path:
    rows = [
        f"r{i},listing,2019-03-0{1 + i % 5}T10:00:00,2019-03-0{1 + i % 5}T12:00:00,"
        f"user_report,post_publication,removed,ivory,s{i % 3}\n"
        for i in range(n)
    ]
    path.write_text(HEADER + "".join(rows))
    return path


def _run(
    home: Path, *args: str, fault: str | None = None, pieces: int | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, EWTO_HOME=str(home), EWTO_PSEUDONYM_KEY="crash-test-key-0123456789abcdefghij")
    if pieces:
        env["EWTO_INTAKE_PIECE_BYTES"] = str(pieces)
    env["EWTO_AS_OF"] = "2019-06-30"
    env["PATH"] = f"{BIN}:{env['PATH']}"
    if fault:
        env["EWTO_FAULT_INJECT"] = fault
    return subprocess.run([str(BIN / "ewto"), *args], env=env, capture_output=True, text=True, cwd=REPO)


def _submit(
    home: Path, path: Path, received: str, fault: str | None = None, pieces: int | None = None
) -> int:
    proc = _run(
        home,
        "submit",
        "--org",
        "etsy",
        "--dataset",
        "takedowns",
        "--period",
        "2019-03",
        "--received-at",
        received,
        str(path),
        fault=fault,
        pieces=pieces,
    )
    assert "Traceback" not in proc.stderr
    return proc.returncode


def _items(home: Path) -> int:
    build = _run(home, "build")
    assert build.returncode == 0, build.stdout + build.stderr
    con = duckdb.connect()
    con.execute(f"ATTACH '{home / 'marts.duckdb'}' AS ewto (READ_ONLY)")
    n = con.execute(
        "SELECT coalesce(sum(items_actioned), 0) FROM ewto.marts.kpi_member_monthly "
        "WHERE member_id = 'etsy' AND month = DATE '2019-03-01'"
    ).fetchone()[0]
    con.close()
    return int(n)


@pytest.mark.parametrize(
    ("fault", "expected_after_crash"),
    [("after_lake_write", 3), ("before_commit", 3), ("after_commit", 5)],
)
def test_a_crash_leaves_old_or_new_state(tmp_path: Path, fault: str, expected_after_crash: int) -> None:
    home = tmp_path / "home"
    first = _file(tmp_path / "etsy_takedowns_2019-03.csv", 3)
    second = _file(tmp_path / "etsy_takedowns_2019-03_v2.csv", 5)
    assert _submit(home, first, "2019-04-02T10:00:00Z") == 0
    assert _submit(home, second, "2019-04-05T10:00:00Z", fault=fault) == 137
    assert _items(home) == expected_after_crash
    # the next submission of the replacement completes the change and removes leftovers
    code = _submit(home, second, "2019-04-06T10:00:00Z")
    assert code == 0
    partition = home / "lake" / "takedowns" / "org_id=etsy" / "period=2019-03"
    [landed] = list(partition.glob("*.parquet"))
    assert pl.read_parquet(landed).height == 5
    assert not list(partition.glob(".*.tmp"))
    committed = {p.stem for p in (home / "history" / "submissions").glob("*.parquet")}
    assert {p.stem for p in (home / "history" / "checks").glob("etsy_*.parquet")} <= committed


def test_a_crash_while_reading_in_pieces(tmp_path: Path) -> None:
    """A large file is staged piece by piece outside the lake: killed after its first piece,
    the lake still holds the earlier version; the next submission lands the whole file and
    removes the dead process's staged file."""
    home = tmp_path / "home"
    first = _file(tmp_path / "etsy_takedowns_2019-03.csv", 3)
    second = _file(tmp_path / "etsy_takedowns_2019-03_v2.csv", 40)
    assert _submit(home, first, "2019-04-02T10:00:00Z") == 0
    assert _submit(home, second, "2019-04-05T10:00:00Z", fault="after_piece_staged", pieces=600) == 137
    assert len(list((home / "staging").glob("*.tmp"))) == 1
    assert _items(home) == 3
    assert _submit(home, second, "2019-04-06T10:00:00Z", pieces=600) == 0
    partition = home / "lake" / "takedowns" / "org_id=etsy" / "period=2019-03"
    [landed] = list(partition.glob("*.parquet"))
    assert pl.read_parquet(landed).height == 40
    assert pl.read_parquet(landed)["source_row"].to_list() == list(range(2, 42))
    assert not list((home / "staging").glob("*"))
