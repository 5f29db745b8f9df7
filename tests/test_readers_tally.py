"""The byte counts a large CSV's pieces are checked with (ingestion/readers.py, `ByteTally`).

A piece's line breaks, delimiters and quote characters are counted once, in numpy slices,
while its end is looked for in the file, and handed to `read_csv_bytes`: the counts must be
those of `bytes.count` and `_no_quoted_value` on the piece as parsed, whatever the slices
and parts it was fed in, or a short row (found by counting delimiters) could go unnoticed
or line numbers shift. The second half reads files in pieces and compares with whole.
"""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl
import pytest

from ingestion.errors import FileUnreadable
from ingestion.readers import ByteTally, csv_pieces, read_table
from ingestion.registry import ExportFormat

BODIES = [
    b"",
    b'"',
    b'""',
    b'"""',
    b"a,b\n1,2\n",
    b'a,b\n1,""\n',
    b'a,b\n"1,2",x\n',
    b'a,b\n"""",x\n',  # the value is one quote
    b'a,b\n"""1,2""",x\n',
    b'a,b\nx""y,z\n',
    b'"a,b",c\n1,2\n',  # a header name with the delimiter
    b'a,b\r\n"two\r\nlines",""\r\n3,4\r\n',  # CRLF, a quoted line break
    'a,b\n"é,ü","日本"\n€,""\n'.encode(),  # multi-byte UTF-8
    b'a,b\n"",""""""\n"",x""\n',  # runs of 2, 6 and a doubled quote inside a value
    b'a,b\n""""",x\n',  # a run of 5
]


def _no_quoted_value(data: bytes) -> bool:
    """The reference for `ByteTally.no_quoted_value`: every run of quotes is even, i.e. every
    `"` belongs to a `""` (the test the readers made before the one-pass tally)."""
    return data.count(b'"') == 2 * data.count(b'""')


def _reference(data: bytes, sep: bytes) -> tuple[int, int, int, bool]:
    return data.count(b"\n"), data.count(sep), data.count(b'"'), _no_quoted_value(data)


def _tally(data: bytes, sep: bytes, cuts: list[int]) -> tuple[int, int, int, bool]:
    tally = ByteTally(sep[0])
    for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True):
        tally.feed(data, a, b)
    assert tally.fed == len(data)
    return tally.line_breaks, tally.separators, tally.quotes, tally.no_quoted_value


@pytest.mark.parametrize("step", [1, 2, 3, 1 << 20])
@pytest.mark.parametrize("body", BODIES)
def test_tally_counts_as_bytes_count(body: bytes, step: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fed whole or in two parts split anywhere, in slices of any size: the same counts."""
    monkeypatch.setattr(ByteTally, "STEP", step)
    expected = _reference(body, b",")
    for cut in range(len(body) + 1):
        assert _tally(body, b",", [cut]) == expected, (body, cut)


def test_tally_on_random_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Quotes, delimiters and line breaks in random runs: every count, every split."""
    rng = random.Random(3)
    for _ in range(400):
        monkeypatch.setattr(ByteTally, "STEP", rng.choice([1, 2, 5, 64]))
        body = bytes(rng.choice(b'"""",,\n\rxa\xc3\xa9|') for _ in range(rng.randrange(0, 80)))
        cuts = sorted(rng.randrange(0, len(body) + 1) for _ in range(rng.randrange(0, 4)))
        for sep in (b",", b"|"):
            assert _tally(body, sep, cuts) == _reference(body, sep), (body, cuts)


def test_tally_reads_a_memory_map(tmp_path: Path) -> None:
    """A memory map is counted in place (no copy), and stays closable afterwards."""
    import mmap

    path = tmp_path / "f.csv"
    path.write_bytes(b'a,b\n"x,y",""\n' * 1000)
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as m:
        tally = ByteTally(ord(","))
        tally.feed(m, 3, len(m))
        data = path.read_bytes()[3:]
        assert (tally.line_breaks, tally.separators, tally.quotes, tally.no_quoted_value) == _reference(
            data, b","
        )


# ------------------------------------------------------------------ pieces against whole


def _pieces_frame(path: Path, data: bytes, declared: ExportFormat, piece: int) -> pl.DataFrame:
    pieces = csv_pieces(path, data, declared, piece)
    assert pieces is not None
    return pl.concat([p.frame for p in pieces])


def _rows(n: int, value: str = "x") -> list[str]:
    return [f"R{i},{value}{i},{i}" for i in range(n)]


CASES = {
    # quoted values holding the delimiter, doubled quotes, quoted line breaks, empty quoted strings
    "quotes": "id,name,n\n" + "\n".join(f'R{i},"a, ""b"" {i}\nnext",""' for i in range(40)) + "\n",
    "crlf": "id,name,n\r\n" + "\r\n".join(f'R{i},"x\r\ny{i}",{i}' for i in range(40)) + "\r\n",
    "utf8": "id,name,n\n" + "\n".join(f"R{i},日本語é{i},€{i}" for i in range(40)) + "\n",
    "blank_lines": "id,name,n\n" + "\n\n".join(_rows(40)) + "\n",
    "empty_quoted": "id,name,n\n" + "\n".join(f'R{i},"",{i}' for i in range(40)) + "\n",
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("piece", [40, 97, 300])
def test_pieces_read_as_whole(case: str, piece: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pieces, concatenated, are the file read whole: values and line numbers (slices
    of a few bytes put quote runs and line breaks across slice boundaries)."""
    monkeypatch.setattr(ByteTally, "STEP", 7)
    data = CASES[case].encode()
    path = tmp_path / "f.csv"
    whole = read_table(path, data, ExportFormat()).frame
    assert _pieces_frame(path, data, ExportFormat(), piece).equals(whole)


def test_gb18030_pieces_do_not_count_a_second_byte_as_delimiter(tmp_path: Path) -> None:
    """In GB18030 `亅` is the bytes 0x81 0x7C: its second byte is `|`. With `|` as the
    delimiter, counted in the file's bytes it would hide a short row of the same piece."""
    declared = ExportFormat(encoding="gb18030", delimiter="|")
    rows = [f"R{i}|亅{i}|{i}" for i in range(30)]
    path = tmp_path / "f.csv"
    good = ("id|name|n\n" + "\n".join(rows) + "\n").encode("gb18030")
    assert _pieces_frame(path, good, declared, 120).equals(read_table(path, good, declared).frame)
    rows[20] = "R20|亅20"  # one field short
    bad = ("id|name|n\n" + "\n".join(rows) + "\n").encode("gb18030")
    for piece in (120, 250):
        pieces = csv_pieces(path, bad, declared, piece)
        assert pieces is not None
        with pytest.raises(FileUnreadable, match="has 2 fields, the header has 3"):
            list(pieces)


@pytest.mark.parametrize("piece", [60, 150])
def test_short_row_beside_a_quoted_delimiter_in_a_piece(piece: int, tmp_path: Path) -> None:
    """A value holding the delimiter (one more than the fields) and a short row (one less)
    in one piece: the quote runs tell the field count to look at the values, so the short
    row is still found."""
    rows = _rows(30)
    rows[18] = 'R18,"x,y",18'
    rows[19] = "R19,19"
    data = ("id,name,n\n" + "\n".join(rows) + "\n").encode()
    pieces = csv_pieces(tmp_path / "f.csv", data, ExportFormat(), piece)
    assert pieces is not None
    with pytest.raises(FileUnreadable, match="has 2 fields, the header has 3"):
        list(pieces)
