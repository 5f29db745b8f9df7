"""Read a member's file, whatever its type and encoding, into a frame of text columns.

Everything is read as text: typing is the mapper's job, so a bad value becomes a finding
with its row number instead of a parser exception. `source_row` carries the row number a
person finds the record at: the line number in a CSV or JSON Lines file (header = line 1,
counting the lines of fields that hold line breaks), the spreadsheet row in XLSX, the
1-based row in Parquet. Blank lines (and spreadsheet rows without any value) are skipped.

A file that cannot be read raises `FileUnreadable` with a rule name and a message for the
submitter. Messages never quote the file's content (it may hold identifiers in clear):
they say where (line, sheet) and what, not which values.
"""

from __future__ import annotations

import codecs
import csv
import html
import io
import json
import mmap
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import polars as pl

from .contract import DATASETS, columns
from .errors import FileUnreadable
from .registry import ExportFormat

EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
}
DELIMITERS = (",", ";", "\t", "|")
MAX_HEADER_CHARS = 200  # a longer "column name" means the first line is not a header
NON_BLANK = re.compile(rb"\S")
LEADING_BREAKS = re.compile(rb"[\r\n]*")
BOM_UTF8 = codecs.BOM_UTF8
BOMS_UTF16 = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


@dataclass(frozen=True)
class RawTable:
    frame: pl.DataFrame  # text columns as delivered, plus `source_row`
    file_type: str
    encoding: str | None
    row_label: str  # "line" or "row": what `source_row` counts


def detect_type(path: Path, data: bytes, declared: ExportFormat) -> str:
    """The file type from its content first (magic bytes), then extension, then registry."""
    if data[:4] == b"PAR1":
        return "parquet"
    if data[:4] == b"PK\x03\x04":
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile as exc:
            raise FileUnreadable("file_type", "the file looks like a ZIP archive but is damaged") from exc
        if "xl/workbook.xml" in names:
            return "xlsx"
        raise FileUnreadable(
            "file_type", "the file is a ZIP archive, not a CSV/XLSX/JSON Lines/Parquet export"
        )
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise FileUnreadable(
            "file_type", "the file is an old Excel (.xls) or other OLE document: save it as .xlsx or CSV"
        )
    ext = EXTENSIONS.get(path.suffix.lower())
    return ext or declared.format


# ------------------------------------------------------------------------ encodings


def _utf16_without_bom(data: bytes) -> str | None:
    """'utf-16-le' / 'utf-16-be' when NUL bytes sit at one parity only (text of mostly
    ASCII characters written as UTF-16 without a byte order mark), else None."""
    sample = data[:65536]
    if len(sample) < 4:
        return None
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    half = len(sample) // 2
    if odd > 0.3 * half and even < 0.02 * half:
        return "utf-16-le"
    if even > 0.3 * half and odd < 0.02 * half:
        return "utf-16-be"
    return None


def decode_bytes(data: bytes, declared: str) -> tuple[bytes, str]:
    """The file's text as UTF-8 bytes (BOM removed) and the encoding it was read in.

    A BOM wins; NUL bytes mean UTF-16 without a BOM (if their pattern says so) or binary;
    otherwise the declared encoding, then UTF-8, then GB18030 (a superset of GBK).
    Pure-ASCII and UTF-8 files are passed through without a copy of their text.
    """
    if data.startswith(BOM_UTF8):
        body = data[3:]
        if not body.isascii():
            try:
                body.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise FileUnreadable(
                    "encoding",
                    f"the file starts with a UTF-8 BOM but is not valid UTF-8 (byte {exc.start + 3})",
                ) from exc
        return body, "utf-8-sig"
    if data.startswith(BOMS_UTF16):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise FileUnreadable("encoding", f"not valid UTF-16 despite its BOM: {exc.reason}") from exc
        if "\x00" in text:
            raise FileUnreadable("encoding", "the file holds NUL characters: it is binary, not text")
        return text.encode("utf-8"), "utf-16"
    if b"\x00" in data:
        enc = _utf16_without_bom(data)
        if enc is not None:
            try:
                text = data.decode(enc)
            except UnicodeDecodeError:
                text = "\x00"
            if "\x00" not in text:
                return text.encode("utf-8"), enc
        raise FileUnreadable(
            "encoding",
            "the file is not text in UTF-8, UTF-16 or GB18030/GBK (it holds NUL bytes); it may be binary",
        )
    enc = (declared or "utf-8").lower().replace("_", "-")
    order = ["utf-8", "gb18030"]
    if enc not in ("detect", "utf-8", "utf8", "utf-16", "utf16"):
        order = [enc] + [e for e in order if e != enc]
    for candidate in order:
        if candidate in ("utf-8", "utf8"):
            if data.isascii():
                return data, "utf-8"
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                continue
            return data, "utf-8"
        try:
            text = data.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
        return text.encode("utf-8"), candidate
    raise FileUnreadable(
        "encoding",
        "the file is not text in UTF-8, UTF-16 (with BOM) or GB18030/GBK; it may be binary",
    )


def decode_text(data: bytes, declared: str) -> tuple[str, str]:
    """Decoded text and the encoding it was read in (see `decode_bytes`)."""
    body, enc = decode_bytes(data, declared)
    return body.decode("utf-8"), enc


# ------------------------------------------------------------------------ helpers


def _all_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as text; timestamps in ISO 8601 (with the offset when they carry one)."""
    exprs = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if dtype == pl.String:
            continue
        if isinstance(dtype, pl.Datetime):
            fmt = "%Y-%m-%dT%H:%M:%S%.f" + ("%:z" if dtype.time_zone else "")
            if dtype.time_zone:
                col = col.dt.convert_time_zone("UTC")
            exprs.append(col.dt.strftime(fmt).alias(name))
        elif dtype == pl.Date:
            exprs.append(col.dt.strftime("%Y-%m-%d").alias(name))
        elif isinstance(dtype, pl.Struct):
            exprs.append(col.struct.json_encode().alias(name))
        elif isinstance(dtype, pl.List | pl.Array):
            exprs.append(
                col.map_elements(
                    lambda v: json.dumps(v.to_list(), default=str), return_dtype=pl.String
                ).alias(name)
            )
        else:
            exprs.append(col.cast(pl.String).alias(name))
    return frame.with_columns(exprs) if exprs else frame


def _normalise(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lstrip("\ufeff")).lower()


def _check_header(names: list[str], declared: ExportFormat, where: str = "the header line") -> None:
    """Reject headers that cannot be a header, or that name one column twice."""
    for name in names:
        if len(name) > MAX_HEADER_CHARS:
            raise FileUnreadable(
                "header",
                f"{where} has a column name of {len(name):,} characters: the first line is not a "
                "header of column names (a CSV export starts with one line of column names)",
            )
    # only columns of the contract (by name or by the registry's mapping) must be unambiguous:
    # two "Notes" columns are both ignored, two "commodity" columns cannot be told apart
    own = {_normalise(k): v for k, v in declared.columns.items()}
    contract = {c.name for ds in DATASETS for c in columns(ds)}
    seen: dict[str, str] = {}
    for name in names:
        base = re.sub(r"_duplicated_\d+$", "", name)
        key = _normalise(base)
        target = own.get(key, key)
        if target not in contract:
            continue
        if base != name and base in names:
            raise FileUnreadable("duplicate_column", f"{where} names the column {base!r} more than once")
        if target in seen and seen[target] != name:
            raise FileUnreadable(
                "duplicate_column",
                f"{where} has two columns for {target!r}: {seen[target]!r} and {name!r}",
            )
        seen[target] = name


def _unnamed(name: str) -> bool:
    """A column the file gives no name (polars/calamine invent one)."""
    base = re.sub(r"_duplicated_\d+$", "", name)
    return not base.strip() or re.fullmatch(r"__UNNAMED__\d+", base) is not None


def _strip_headers(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.rename({c: c.strip().lstrip("\ufeff") for c in frame.columns})


def _drop_unnamed_empty(frame: pl.DataFrame) -> pl.DataFrame:
    """Columns without a name and without a value (a trailing delimiter) are not data."""
    drop = [
        c
        for c in frame.columns
        if c != "source_row" and _unnamed(c) and frame[c].null_count() == frame.height
    ]
    return frame.drop(drop) if drop else frame


def _drop_blank_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """Without the rows that hold no value (blank lines, rows of delimiters only)."""
    cols = [c for c in frame.columns if c != "source_row"]
    if not cols or frame.height == 0:
        return frame
    if len(cols) > 1:  # cheap first: a blank row has no value after the first column
        if min(frame[c].null_count() for c in cols[1:]) == 0:
            return frame
        rest = frame.select(pl.all_horizontal([pl.col(c).is_null() for c in cols[1:]])).to_series()
        if not rest.any():
            return frame
    first = pl.col(cols[0])
    blank = first.is_null() | (first.str.strip_chars() == "")
    if len(cols) > 1:
        blank = blank & pl.all_horizontal([pl.col(c).is_null() for c in cols[1:]])
    mask = frame.select(blank).to_series()
    return frame.filter(~mask) if mask.any() else frame


# ------------------------------------------------------------------------ CSV


def _locate_csv_problem(body: bytes, sep: str, n_fields: int) -> str:
    """Where the CSV parser gave up: the line a person should look at (no content quoted)."""
    text = body.decode("utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    start = 1
    try:
        for record in reader:
            if len(record) > n_fields:
                return f"line {start} has {len(record)} fields, the header has {n_fields}"
            start = reader.line_num + 1
    except csv.Error:
        return f"a quoted field that starts on line {start} is not closed (is the file cut short?)"
    return "the structure is not valid CSV"


def _first_short_row(body: bytes, sep: str, n_fields: int) -> str | None:
    """The first record with fewer fields than the header (blank lines aside), if any."""
    text = body.decode("utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    start = 1
    header = True
    for record in reader:
        if header:
            header = not record  # blank lines before the header
        elif record and not (len(record) == 1 and not record[0].strip()) and len(record) < n_fields:
            return (
                f"line {start} has {len(record)} field{'s' if len(record) > 1 else ''}, the header has "
                f"{n_fields} (is the file cut short, or a delimiter missing?)"
            )
        start = reader.line_num + 1
    return None


@dataclass
class ByteTally:
    """The counts of a CSV's bytes that the checks after the parse need, made in one pass.

    Why: the line breaks (line numbers), the delimiters and the quote characters (field
    count, `_check_field_counts`) were counted one pass each, and the quotes twice more (the
    end of a piece, `_record_end`, and the even-runs test below), each pass a read of the whole
    piece. Here they are counted together, a cache-sized slice at a time (numpy), while a
    piece's end is looked for in the memory map, and passed down to `read_csv_bytes`.

    `even_quote_runs`: every run of quote characters has an even length, so every quoted
    field is empty (`""`) and no value (nor header name) holds a delimiter. Writers quote
    empty strings (`,"",`), which alone would send the field count (`_check_field_counts`)
    to a scan of every column for delimiters; a quoted field with a value starts with a run
    of odd length (its opening quote alone, or before the doubled quotes of a value that
    starts with one). The quotes are paired in order, first with second, third with fourth...; every
    run is even exactly when each pair is two adjacent bytes. A quote whose partner is not
    yet fed waits in `pending`, so data may be fed in consecutive parts (header, then piece).
    `sep` is the one-byte delimiter counted, None when the delimiters are not counted.
    """

    sep: int | None
    line_breaks: int = 0
    quotes: int = 0
    separators: int = 0
    even_quote_runs: bool = True
    pending: int = -1  # the position of a quote not yet paired (-1: none)
    fed: int = 0  # bytes fed so far (positions are counted over all of them)

    STEP = 1 << 20  # a slice stays in the CPU's cache for its three comparisons

    def feed(self, data: bytes | mmap.mmap, start: int, end: int) -> None:
        """Count data[start:end] (a memory map is read in place, not copied)."""
        if end <= start:
            return
        arr = np.frombuffer(data, dtype=np.uint8, count=end - start, offset=start)
        for i in range(0, arr.size, self.STEP):
            part = arr[i : i + self.STEP]
            self.line_breaks += int(np.count_nonzero(part == 10))
            if self.sep is not None:
                self.separators += int(np.count_nonzero(part == self.sep))
            if not self.even_quote_runs:
                self.quotes += int(np.count_nonzero(part == 34))
                continue
            at = np.flatnonzero(part == 34)
            self.quotes += at.size
            if self.pending >= 0:
                at = np.concatenate((np.array([self.pending - self.fed - i]), at))
            if at.size % 2:
                self.pending = self.fed + i + int(at[-1])
                at = at[:-1]
            else:
                self.pending = -1
            if at.size and not bool(np.all(at[1::2] - at[0::2] == 1)):
                self.even_quote_runs = False
        self.fed += arr.size

    @property
    def no_quoted_value(self) -> bool:
        """Every run of quote characters in the data fed is even (`even_quote_runs`)."""
        return self.even_quote_runs and self.pending < 0

    @classmethod
    def of(cls, data: bytes, sep: str) -> ByteTally:
        encoded = sep.encode()
        tally = cls(encoded[0] if len(encoded) == 1 else None)
        tally.feed(data, 0, len(data))
        return tally


def _check_field_counts(body: bytes, sep: str, frame: pl.DataFrame, tally: ByteTally) -> None:
    """Reject rows with fewer fields than the header (the parser fills them with empty values).

    Counted without a pass over the records: every record has (fields - 1) delimiters, plus
    those inside quoted values; a deficit not explained by blank lines means a short row,
    which the csv module then locates (rare path). `tally`: the body's bytes counted
    (`ByteTally`), with `sep`'s if it counted those.
    """
    n = frame.width
    if n <= 1 or frame.height == 0:
        return
    encoded = sep.encode()
    found = (
        tally.separators if tally.sep is not None and bytes([tally.sep]) == encoded else body.count(encoded)
    )
    if tally.quotes and not tally.no_quoted_value:
        found -= sum(c.count(sep) for c in frame.columns)
        # counted only in the columns that hold one (a quick scan first: most hold none)
        holding = frame.select(pl.col(c).str.contains(sep, literal=True).any() for c in frame.columns).row(0)
        quoted = [c for c, has in zip(frame.columns, holding, strict=True) if has]
        if quoted:
            found -= frame.select(
                pl.sum_horizontal(
                    [pl.col(c).str.count_matches(sep, literal=True).fill_null(0) for c in quoted]
                ).sum()
            ).item()
    deficit = (n - 1) * (1 + frame.height) - found
    if deficit <= 0:
        return
    if deficit % (n - 1) == 0:
        first = pl.col(frame.columns[0])
        blank = (first.is_null() | (first.str.strip_chars() == "")) & pl.all_horizontal(
            [pl.col(c).is_null() for c in frame.columns[1:]]
        )
        if deficit // (n - 1) <= frame.select(blank.sum()).item():
            return  # blank lines: no delimiter, and no row either once dropped
    where = _first_short_row(body, sep, n)
    if where is not None:
        raise FileUnreadable("csv_structure", f"the CSV cannot be parsed: {where}")


def _separator(first: str, delimiter: str) -> str:
    """The delimiter of a CSV whose first line is `first`: the declared one if the line
    holds it, else the first of DELIMITERS it holds, else the declared one."""
    if delimiter not in first:
        for candidate in DELIMITERS:
            if candidate in first:
                return candidate
    return delimiter


def read_csv_bytes(
    body: bytes,
    delimiter: str,
    declared: ExportFormat | None = None,
    tally: ByteTally | None = None,
) -> tuple[pl.DataFrame, str]:
    """A CSV (UTF-8 bytes, no BOM) as text columns plus `source_row` (line numbers).

    `tally`: the body's line breaks, delimiters and quotes, when the caller has counted them
    already (`ByteTally`: a piece of a large file, `_pieces`); else they are counted here.
    """
    if NON_BLANK.search(body) is None:
        raise FileUnreadable(
            "empty_file", "the file is empty (0 bytes or blank lines): not even a header line"
        )
    if b"\n" not in body and b"\r" in body:  # classic Mac line ends
        body = body.replace(b"\r", b"\n")
        tally = None
    lead = LEADING_BREAKS.match(body).end()  # type: ignore[union-attr]  # (no copy of the file)
    leading_lines = body.count(b"\n", 0, lead)
    end = body.find(b"\n", lead)
    first = body[lead : end if end >= 0 else len(body)].decode("utf-8", errors="replace")
    sep = _separator(first, delimiter)
    try:
        frame = pl.read_csv(
            body,
            separator=sep,
            infer_schema=False,
            truncate_ragged_lines=False,
            raise_if_empty=True,
        )
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError, pl.exceptions.ShapeError) as exc:
        header_fields = len(next(csv.reader([first], delimiter=sep), []))
        where = _locate_csv_problem(body, sep, header_fields)
        raise FileUnreadable("csv_structure", f"the CSV cannot be parsed: {where}") from exc
    _check_header(frame.columns, declared or ExportFormat())
    if tally is None:  # one pass for the field count and the line numbers
        tally = ByteTally.of(body, sep)
    _check_field_counts(body, sep, frame, tally)
    # Line numbers: a record spans 1 + (line breaks inside its quoted fields) lines; the
    # parser returns a blank line as a row without values, so the count stays aligned.
    header_breaks = sum(c.count("\n") for c in frame.columns)
    first_line = leading_lines + 1 + header_breaks + 1
    physical = tally.line_breaks + (0 if body.endswith(b"\n") else 1)
    if physical == first_line - 1 + frame.height:
        source_row = pl.int_range(first_line, first_line + frame.height, dtype=pl.Int64)
    else:
        breaks = pl.sum_horizontal(
            [pl.col(c).str.count_matches("\n", literal=True).fill_null(0) for c in frame.columns]
        ).cast(pl.Int64)
        source_row = first_line + (breaks + 1).cum_sum() - (breaks + 1)
    frame = frame.with_columns(source_row.alias("source_row"))
    return _drop_blank_rows(frame), sep


def read_csv_text(text: str, delimiter: str) -> tuple[pl.DataFrame, list[int]]:
    """Compatibility helper: a CSV given as text; the frame and each row's line number."""
    frame, _ = read_csv_bytes(text.encode("utf-8"), delimiter)
    return frame.drop("source_row"), frame["source_row"].to_list()


# ------------------------------------------------------------------------ JSON Lines


def _read_jsonl(body: bytes, declared: ExportFormat) -> pl.DataFrame:
    lines = body.split(b"\n")
    numbers = [i for i, ln in enumerate(lines, start=1) if ln.strip()]
    if not numbers:
        raise FileUnreadable("empty_file", "the JSON Lines file holds no records")
    for i in numbers[:1]:
        if lines[i - 1].lstrip().startswith(b"["):
            raise FileUnreadable(
                "jsonl_structure",
                f"line {i} starts a JSON array: send one JSON object per line (JSON Lines), not an array",
            )
    kept = b"\n".join(lines[i - 1] for i in numbers)
    try:
        frame = pl.read_ndjson(kept, infer_schema_length=None)
    except Exception as exc:  # noqa: BLE001 - locate the bad line for the submitter
        for i in numbers:
            try:
                obj = json.loads(lines[i - 1])
            except ValueError as err:
                raise FileUnreadable(
                    "jsonl_structure", f"line {i} is not valid JSON ({err.msg} at character {err.pos + 1})"
                ) from exc
            if not isinstance(obj, dict):
                raise FileUnreadable("jsonl_structure", f"line {i} is not a JSON object") from exc
        raise FileUnreadable(
            "jsonl_structure", "the JSON Lines records cannot be combined into one table (mixed types?)"
        ) from exc
    if frame.height != len(numbers):
        raise FileUnreadable("jsonl_structure", "some lines hold more or less than one JSON object")
    frame = _all_text(frame)
    _check_header(frame.columns, declared, "the JSON keys")
    return frame.with_columns(pl.Series("source_row", numbers, dtype=pl.Int64))


# ------------------------------------------------------------------------ XLSX


def _xlsx_sheets(data: bytes) -> list[tuple[str, str]]:
    """(sheet name, worksheet XML path) in workbook order."""
    z = zipfile.ZipFile(io.BytesIO(data))
    book = z.read("xl/workbook.xml").decode("utf-8", errors="replace")
    rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8", errors="replace")
    targets = {}
    for m in re.finditer(r"<Relationship\b[^>]*>", rels):
        tag = m.group(0)
        rid = re.search(r'\bId="([^"]+)"', tag)
        target = re.search(r'\bTarget="([^"]+)"', tag)
        if rid and target:
            t = target.group(1)
            targets[rid.group(1)] = t.lstrip("/") if t.startswith("/") else f"xl/{t}"
    out = []
    for m in re.finditer(r"<(?:\w+:)?sheet\b[^>]*>", book):
        tag = m.group(0)
        name = re.search(r'\bname="([^"]*)"', tag)
        rid = re.search(r'\br:id="([^"]+)"', tag) or re.search(r'\b\w+:id="([^"]+)"', tag)
        if name:
            out.append((html.unescape(name.group(1)), targets.get(rid.group(1), "") if rid else ""))
    return out


def _xlsx_first_row(data: bytes, xml_path: str) -> int:
    """The spreadsheet row number of the first row with a value (where the reader starts)."""
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        with z.open(xml_path) as fh:
            head = fh.read(1 << 20).decode("utf-8", errors="replace")
    except (KeyError, zipfile.BadZipFile, OSError):
        return 1
    for m in re.finditer(r"<(?:\w+:)?row\b[^>]*?\br=\"(\d+)\"[^>]*?(/?)>", head):
        if m.group(2) == "/":
            continue
        end = head.find("</row>", m.end())
        body = head[m.end() : end if end >= 0 else len(head)]
        if re.search(r"<(?:\w+:)?(?:v|is)\b[^>]*>", body):
            return int(m.group(1))
    return 1


def _looks_like_table(names: list[str], declared: ExportFormat) -> bool:
    known = {c.name for ds in DATASETS for c in columns(ds)} | {_normalise(k) for k in declared.columns}
    return any(_normalise(str(n)) in known for n in names)


def _read_sheet(data: bytes, sheet: str) -> pl.DataFrame:
    return pl.read_excel(
        io.BytesIO(data),
        engine="calamine",
        sheet_name=sheet,
        infer_schema_length=0,
        drop_empty_rows=False,
        drop_empty_cols=False,
        raise_if_empty=False,
    )


def _read_xlsx(data: bytes, declared: ExportFormat) -> pl.DataFrame:
    sheets = _xlsx_sheets(data)
    names = [n for n, _ in sheets]
    if not sheets:
        raise FileUnreadable("sheet", "the workbook has no sheets")
    if declared.sheet:
        if declared.sheet not in names:
            raise FileUnreadable(
                "sheet",
                f"the workbook has no sheet named {declared.sheet!r} (the registry names it for your "
                f"organisation); its sheets are {', '.join(repr(n) for n in names)}",
            )
        chosen = declared.sheet
    else:
        chosen = names[0]
    frame = _read_sheet(data, chosen)
    header = [c for c in frame.columns if not re.fullmatch(r"__UNNAMED__\d+", c)]
    if not declared.sheet and not _looks_like_table(header, declared):
        for other in names[1:]:
            try:
                other_frame = pl.read_excel(
                    io.BytesIO(data),
                    engine="calamine",
                    sheet_name=other,
                    infer_schema_length=0,
                    raise_if_empty=False,
                ).head(0)
            except Exception:  # noqa: BLE001 - a damaged extra sheet does not matter here
                continue
            if _looks_like_table(other_frame.columns, declared):
                state = "is empty" if not header else "holds no table with the contract's columns"
                raise FileUnreadable(
                    "sheet",
                    f"the first sheet {chosen!r} {state}; the data seem to be on sheet {other!r}. "
                    "Put the data on the first sheet, or ask the coalition to name the sheet in "
                    "your registry entry (export: sheet)",
                )
        if not header:
            raise FileUnreadable("empty_file", f"the first sheet {chosen!r} is empty: not even a header row")
    if not header:
        raise FileUnreadable("empty_file", f"the sheet {chosen!r} is empty: not even a header row")
    _check_header([str(c) for c in header], declared, f"the header row of sheet {chosen!r}")
    path = dict(sheets).get(chosen, "")
    first = _xlsx_first_row(data, path) if path else 1
    frame = _all_text(frame).with_columns(
        pl.int_range(first + 1, first + 1 + frame.height, dtype=pl.Int64).alias("source_row")
    )
    return _drop_blank_rows(frame)


# ------------------------------------------------------------------------ CSV in pieces


class NotStreamable(Exception):
    """The file cannot be read in pieces with the same result as whole: read it whole."""


def csv_pieces(
    path: Path, data: bytes | mmap.mmap, declared: ExportFormat, piece_bytes: int
) -> Iterator[RawTable] | None:
    """A large CSV as consecutive pieces of whole lines, each read like a file of its own.

    Why: a file read whole holds every text column of every row at once (about 2.5x the
    file's size), and everything after the read multiplies that. Read in pieces, the intake
    holds one piece at a time. `data` may be a memory map of the file: each piece is copied
    out of it and its pages are then dropped from the process's memory (`release`), so the
    file itself is never resident whole either. Each piece is the header line plus whole
    lines of the file, decoded on its own (a line break byte is never part of another
    character in UTF-8 or GB18030/GBK) and parsed by `read_csv_bytes` (same checks, same
    typing), its `source_row` shifted to the file's line numbers.

    None when reading in pieces could differ from reading whole, and the caller reads the
    file whole: not a CSV, not larger than one piece, a BOM, an encoding other
    than UTF-8 or GB18030/GBK first in line (`decode_bytes`), classic-Mac line ends, or no
    line after the header. A quoted field may hold a line break, so a piece ends only at a
    line break preceded by an even number of quote characters (outside any quoted field; an
    escaped quote is two); should a quote inside an unquoted value upset that count, the
    piece then ends inside a quoted field, which the parser rejects (unclosed quote), and
    the file is read whole. The generator raises `NotStreamable` when a piece does not
    decode in that encoding or holds a NUL byte (the whole file will be read in the next
    one: binary, or UTF-16 without a BOM, is found there) or shows a
    column without a name (whether it holds values is a whole-file question), and
    `FileUnreadable` for a bad piece: the caller then reads the file whole, which gives the
    authoritative message and line.
    """
    head = data[:8]
    if len(data) <= piece_bytes or head.startswith(BOM_UTF8) or head.startswith(BOMS_UTF16):
        return None
    if head[:4] in (b"PAR1", b"PK\x03\x04") or head == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return None
    if detect_type(path, head, declared) != "csv":
        return None
    if data.find(b"\n") < 0:
        return None
    enc = (declared.encoding or "utf-8").lower().replace("_", "-")
    first = "utf-8" if enc in ("detect", "utf-8", "utf8", "utf-16", "utf16") else enc
    if first not in ("utf-8", "gb18030", "gbk"):
        return None
    lead = LEADING_BREAKS.match(data).end()  # type: ignore[union-attr, call-overload]
    end = _record_end(data, lead, lead)
    if end >= len(data):
        return None
    # a piece to transcode is held three times over (bytes, str, UTF-8): half-size pieces
    return _pieces(
        data, lead, end, first, declared, piece_bytes if first == "utf-8" else max(1, piece_bytes // 2)
    )


def release(data: bytes | mmap.mmap, start: int, end: int) -> None:
    """Drop a range of a memory-mapped file from the process's resident memory (the pages
    are read again from the page cache if touched again); nothing for bytes."""
    if isinstance(data, mmap.mmap) and end > start:
        low = start - start % mmap.PAGESIZE
        data.madvise(mmap.MADV_DONTNEED, low, end - low)


def _count(data: bytes | mmap.mmap, byte: bytes, start: int, end: int) -> int:
    """How often a single byte occurs in data[start:end] (a memory map in 64 MB slices)."""
    if isinstance(data, bytes):
        return data.count(byte, start, end)
    step = 1 << 26
    return sum(data[i : min(i + step, end)].count(byte) for i in range(start, end, step))


def _record_end(data: bytes | mmap.mmap, start: int, at: int, tally: ByteTally | None = None) -> int:
    """Just after the first line break at or after `at` that ends a record begun at `start`
    (an even number of quote characters since `start`), or the end of the data.

    `tally`: counts data[start:end] too (it has been fed up to `start`), counting the
    quotes of data[start:at] for this in the same pass."""
    if tally is None:
        quotes = _count(data, b'"', start, at)
    else:
        quotes = tally.quotes
        tally.feed(data, start, at)
        quotes = tally.quotes - quotes
    tail = at
    while True:
        nl = data.find(b"\n", at)
        if nl < 0:
            end = len(data)
            break
        quotes += _count(data, b'"', at, nl)
        if quotes % 2 == 0:
            end = nl + 1
            break
        at = nl + 1
    if tally is not None:
        tally.feed(data, tail, end)
    return end


def _as_utf8(piece: bytes, enc: str) -> bytes:
    """A piece of the file as UTF-8; NotStreamable when it is not text in `enc`."""
    if piece.isascii():
        return piece  # the same text in UTF-8, GB18030 and GBK
    try:
        if enc == "utf-8":
            piece.decode("utf-8")  # checked only: the bytes are UTF-8 already
            return piece
        return piece.decode(enc).encode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotStreamable(f"not {enc}") from exc


def _pieces(
    data: bytes | mmap.mmap, lead: int, start: int, enc: str, declared: ExportFormat, piece_bytes: int
) -> Iterator[RawTable]:
    header = _as_utf8(data[lead:start], enc)
    header_lines = header.count(b"\n")  # more than one when a column name holds a line break
    first = header[: header.find(b"\n")].decode("utf-8", errors="replace")
    sep = _separator(first, declared.delimiter).encode()
    # a piece's bytes are counted in the file, as the piece's end is looked for; in GB18030
    # or GBK a delimiter byte (`|`) may be the second byte of a character: not counted there
    # (quotes and line breaks never are, and a character's bytes stay together in UTF-8)
    counted = ByteTally(sep[0] if enc == "utf-8" and len(sep) == 1 else None)
    counted.feed(header, 0, len(header))
    line = _count(data, b"\n", 0, start) + 1  # the file's line number of the piece's first line
    size = max(1, piece_bytes // 4)  # a short first piece: the later stages start sooner
    while start < len(data):
        at = min(start + size, len(data) - 1)
        size = piece_bytes
        tally = replace(counted)  # the header's counts, then the piece's
        cut = _record_end(data, start, at, tally)
        if enc == "utf-8":  # checked, not converted: the header and the piece in one copy
            with memoryview(data) as view:  # (a slice of a map would be one more copy)
                body = b"".join((header, view[start:cut]))
            body = _as_utf8(body, enc)  # the header is UTF-8: the whole is, or the piece is not
        else:
            body = header + _as_utf8(data[start:cut], enc)
        release(data, start, cut)
        if body.find(b"\x00") >= 0:  # looked for piece by piece, not in the whole file first:
            raise NotStreamable("NUL bytes")  # reading starts at once (binary: read whole)
        lines = tally.line_breaks - header_lines  # the piece's own lines (it ends with one)
        frame, _ = read_csv_bytes(body, declared.delimiter, declared, tally=tally)
        del body
        frame = _strip_headers(frame)
        if any(_unnamed(c) for c in frame.columns if c != "source_row"):
            raise NotStreamable("a column without a name")
        # in the piece the header takes the first lines, its first record starts after them
        frame = frame.with_columns(pl.col("source_row") + (line - 1 - header_lines))
        yield RawTable(frame, "csv", enc, "line")
        line += lines
        start = cut


# ------------------------------------------------------------------------ entry point


def read_table(path: Path, data: bytes, declared: ExportFormat) -> RawTable:
    """Read `data` (the bytes of `path`) as delivered. Raises FileUnreadable, never more."""
    if len(data) == 0:
        raise FileUnreadable("empty_file", "the file is empty (0 bytes): not even a header line")
    file_type = detect_type(path, data, declared)
    try:
        if file_type == "csv":
            body, enc = decode_bytes(data, declared.encoding)
            frame, _ = read_csv_bytes(body, declared.delimiter, declared)
            return RawTable(_drop_unnamed_empty(_strip_headers(frame)), "csv", enc, "line")
        if file_type == "jsonl":
            body, enc = decode_bytes(data, declared.encoding)
            return RawTable(_strip_headers(_read_jsonl(body, declared)), "jsonl", enc, "line")
        if file_type == "xlsx":
            frame = _read_xlsx(data, declared)
            return RawTable(_drop_unnamed_empty(_strip_headers(frame)), "xlsx", None, "row")
        if file_type == "parquet":
            frame = _all_text(pl.read_parquet(data))
            _check_header(frame.columns, declared, "the Parquet columns")
            frame = frame.with_columns(pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias("source_row"))
            return RawTable(_strip_headers(frame), "parquet", None, "row")
    except (FileUnreadable, TypeError, AttributeError, NameError):
        raise  # our own findings, or programming errors that must not pass as bad input
    except Exception as exc:  # noqa: BLE001 - any parser failure is a property of the file
        # the parser's message may quote the file's content: quoted parts are left out
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        msg = re.sub(r"`[^`]*`?|'[^']*'?|\"[^\"]*\"?", "(...)", msg)[:200]
        raise FileUnreadable(
            "file_readable",
            f"the {file_type.upper()} file cannot be read (is it damaged or cut short?): {msg}",
        ) from exc
    raise FileUnreadable("file_type", f"unsupported file type {file_type!r}")
