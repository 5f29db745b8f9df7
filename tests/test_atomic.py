"""The staged Parquet file of a large export: parts reach the disk as they are written."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from ingestion.atomic import StagedParquet


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _part(start: int, rows: int = 50_000) -> pl.DataFrame:
    return pl.DataFrame(
        {"n": pl.int_range(start, start + rows, eager=True), "s": [f"id-{i}" for i in range(rows)]}
    )


def test_each_part_is_in_the_file_and_flushed_before_the_commit(tmp_path: Path) -> None:
    staged = StagedParquet(tmp_path / "staging" / "x.tmp", 1)
    sizes = []
    for k in range(3):
        staged.write(_part(k * 50_000))
        # the part's bytes are in the file itself (not held by the writer until the commit),
        # and were flushed to disk by the writing thread
        sizes.append(staged.tmp.stat().st_size)
        assert staged.flushed_parts == k + 1
    assert sizes[0] > 0 and sizes[0] < sizes[1] < sizes[2]
    target = tmp_path / "lake" / "x.parquet"
    staged.commit(target)
    assert not staged.tmp.exists()
    assert pl.read_parquet(target)["n"].to_list() == list(range(150_000))


def test_commit_and_discard_release_the_file(tmp_path: Path) -> None:
    before = _open_fds()
    kept = StagedParquet(tmp_path / "a.tmp")
    kept.write(_part(0))
    dropped = StagedParquet(tmp_path / "b.tmp")
    dropped.write(_part(0))
    assert _open_fds() > before
    kept.commit(tmp_path / "a.parquet")
    dropped.discard()
    assert _open_fds() == before
    assert not (tmp_path / "b.tmp").exists()
    dropped.discard()  # twice is harmless (a failed piece, then the caller's cleanup)


def test_the_staged_file_reads_as_text_in_duckdb_beside_a_polars_file(tmp_path: Path) -> None:
    """Parts are written from polars' string views as they are (no copy to large strings):
    the Parquet file holds plain UTF-8 strings, which the warehouse's DuckDB globs together
    with files written by polars' own writer (the lake's `_schema.parquet`, small files)."""
    import duckdb

    staged = StagedParquet(tmp_path / "a.tmp", 1)
    staged.write(_part(0, 1_000).with_columns(pl.lit("é 象牙").alias("t")))
    staged.commit(tmp_path / "lake" / "a.parquet")
    _part(5_000, 10).with_columns(pl.lit(None, dtype=pl.String).alias("t")).write_parquet(
        tmp_path / "lake" / "b.parquet"
    )
    con = duckdb.connect()
    rows = con.sql(
        f"select typeof(s), typeof(t), count(*), count(t), min(t) "
        f"from read_parquet('{tmp_path}/lake/*.parquet', union_by_name=true) group by all"
    ).fetchall()
    assert rows == [("VARCHAR", "VARCHAR", 1_010, 1_000, "é 象牙")]
