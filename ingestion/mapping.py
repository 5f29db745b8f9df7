"""Map a member's own columns, spellings and formats onto the canonical contract.

The output keeps, beside each typed column, the text that failed to parse
(`<column>__unparsed`), so that validation can name the rows and values that are wrong
instead of silently turning them into nulls.

What is read leniently (documented for members in docs/contracts.md):
- headers: case, surrounding spaces, spaces/hyphens for underscores, the registry's names;
- domain values: case, surrounding spaces, spaces/hyphens for underscores, the registry's
  spellings (matched exactly first, then ignoring case); country and currency codes: case;
- numbers: thousands separators in strict groups of three (1,234.50; with a decimal comma
  1.234,50), and `12.0` for an integer;
- timestamps: ISO 8601 with or without `T`, seconds, fraction or offset (`Z`, `+08:00`,
  `+0800`, `+08`), or the organisation's `timestamp_format` (then ISO as a fallback).
  Without an offset a timestamp is the organisation's local time: an ambiguous local time
  (the repeated hour when clocks go back) is read as the first of the two instants; a local
  time inside the hour skipped when clocks go forward is read as the first instant after
  the change (02:30 on the spring-forward day = 03:00 summer time). Both keep the order of
  local times, so the ordering rule never fails because of a clock change.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from .contract import Column, columns
from .registry import ExportFormat

ISO_NAIVE_FORMATS = (
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)
ISO_OFFSET_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%#z",
    "%Y-%m-%dT%H:%M:%S%.f%#z",
    "%Y-%m-%d %H:%M:%S%.f%#z",
    "%Y-%m-%dT%H:%M%#z",
    "%Y-%m-%d %H:%M%#z",
)
# an offset after a time of day (a date alone, 2020-03-01, ends in "-01" but has none)
OFFSET_RE = r"\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$"
DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y/%m/%d")
TRUE_WORDS = ("true", "1", "yes", "y", "t")
FALSE_WORDS = ("false", "0", "no", "n", "f")
INTEGER_RE = r"^[+-]?\d+(\.0*)?$"
GROUPED_POINT = r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$"  # 1,234,567.89
GROUPED_COMMA = r"^[+-]?\d{1,3}(\.\d{3})+(,\d*)?$"  # 1.234.567,89
GROUPED_SPACE = r"^[+-]?\d{1,3}([ \u00a0\u202f']\d{3})+([.,]\d*)?$"  # 1 234 567,89
UPPER_CASE_COLUMNS = ("seller_country", "currency")
LOWER_CASE_COLUMNS = ("platform_id",)
SAMPLE = 200  # values used to decide which timestamp format to try first


@dataclass(frozen=True)
class MappedTable:
    frame: pl.DataFrame  # canonical typed columns, `<c>__unparsed`, `<c>__local`, source_row
    present: frozenset[str]  # canonical columns the file carried
    missing_required: tuple[str, ...]
    unknown_columns: tuple[str, ...]
    suggestions: dict[str, str] = field(default_factory=dict)  # missing column -> close header


def _normalise_header(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lstrip("\ufeff")).lower()


def _rename(frame: pl.DataFrame, dataset: str, fmt: ExportFormat) -> tuple[pl.DataFrame, list[str]]:
    canonical = {c.name for c in columns(dataset)}
    own = {_normalise_header(k): v for k, v in fmt.columns.items()}
    renames: dict[str, str] = {}
    unknown: list[str] = []
    taken: set[str] = set()
    for col in frame.columns:
        if col == "source_row":
            continue
        key = _normalise_header(col)
        target = own.get(key) or (key if key in canonical else None)
        if target is None or target in taken:
            unknown.append(col)
            continue
        taken.add(target)
        renames[col] = target
    frame = frame.select(["source_row", *renames]).rename(renames)
    return frame, unknown


def rename_columns(frame: pl.DataFrame, dataset: str, fmt: ExportFormat) -> pl.DataFrame:
    """The raw text frame with the contract's column names; columns outside it dropped."""
    return _rename(frame, dataset, fmt)[0]


def _trimmed(series: pl.Series) -> pl.Series:
    """`_text` of a column, or the column itself (no copy) when no value needs trimming.

    Stripping and comparing lengths costs half of a regex test (`^\\s|\\s$`) per value, and
    `strip_chars` removes exactly what `\\s` matches (tests/test_mapping.py).
    """
    if series.dtype != pl.String:
        return series.to_frame().select(_text(series.name)).to_series()
    empty = int((series == "").sum())
    if empty and empty + series.null_count() == series.len():  # an optional column left empty
        return _nulls(series.len(), pl.String(), series.name)
    stripped = series.str.strip_chars()
    if not (empty or _padded(series, stripped)):
        return series
    return stripped.replace("", None)


def _padded(series: pl.Series, stripped: pl.Series) -> bool:
    """Whether a value of `series` (`stripped`: the same stripped) has surrounding whitespace."""
    return bool((stripped.str.len_bytes() != series.str.len_bytes()).any())


def _needs_trimming(series: pl.Series, stripped: pl.Series) -> bool:
    """Whether a value of `series` (`stripped`: the same stripped) is padded or ""."""
    return _padded(series, stripped) or bool((series == "").any())


def _may_start_blank(series: pl.Series) -> bool:
    """Whether a value may be "" or start with whitespace; cheap (compares prefixes only).

    The first UTF-8 byte of every whitespace character is below "!" or at least 0xC2 (the
    first byte of U+0080), so a value between the two starts with none.
    """
    return bool(((series < "!") | (series >= "\u0080")).any())


def _parsed_raw_first(
    raw: pl.Series,
    parse: Callable[[pl.Series], list[pl.Series]],
    clean_when_parsed: bool,
) -> tuple[pl.Series, list[pl.Series]]:
    """The column's text (trimmed, "" missing) and `parse` of it, trimming only if needed.

    `parse` returns the typed column first. `clean_when_parsed`: a value that `parse` reads
    cannot end with whitespace. Then a column whose every value parses and none starts
    with whitespace (or is "") is already trimmed, and the trimming test is skipped; else
    it is trimmed and parsed again (as a file with unreadable values needs anyway).
    """
    if clean_when_parsed and raw.dtype == pl.String:
        out = parse(raw)
        if out[0].null_count() == raw.null_count() and not _may_start_blank(raw):
            return raw, out
    text = _trimmed(raw)
    return text, parse(text)


def _text(col: str) -> pl.Expr:
    """Trimmed text; empty strings are missing values."""
    return pl.col(col).str.strip_chars().replace("", None)


def _spelled(col: str, fmt: ExportFormat, spec: Column, text: pl.Series | None = None) -> pl.Expr:
    """Text of a string column, respelled: registry spellings, case, separators.

    `text` (the trimmed values) lets a column whose values are all canonical skip the work.
    """
    expr = pl.col(col)  # already trimmed by `_text`
    mapping = fmt.values.get(col)
    if (
        text is not None
        and not mapping
        and spec.domain is not None
        and col not in UPPER_CASE_COLUMNS + LOWER_CASE_COLUMNS
        and text.drop_nulls().is_in(list(spec.domain)).all()
    ):
        return expr
    if mapping:
        expr = expr.replace(mapping)
    if col in UPPER_CASE_COLUMNS:
        return expr.str.to_uppercase()
    if col in LOWER_CASE_COLUMNS:
        return expr.str.to_lowercase()
    if spec.domain is None:
        return expr
    if col == "cites_appendix":
        low = expr.str.to_lowercase()
        respelled = pl.when(low.is_in(["none", "unknown"])).then(low).otherwise(expr.str.to_uppercase())
        return pl.when(respelled.is_in(list(spec.domain))).then(respelled).otherwise(expr)
    respelled = expr.str.to_lowercase()
    if mapping:
        respelled = respelled.replace({k.lower(): v for k, v in mapping.items()})
    respelled = respelled.str.replace_all(r"[\s\-]+", "_")
    # a value that is not canonical even respelled is kept as written, for the report
    return pl.when(respelled.is_in(list(spec.domain))).then(respelled).otherwise(expr)


def _nulls(n: int, dtype: pl.DataType, name: str) -> pl.Series:
    return pl.repeat(None, n, dtype=dtype, eager=True).alias(name)


def _cascade(text: pl.Series, dtype: pl.DataType, formats: tuple[str, ...]) -> pl.Series:
    """Parse `text` with the first format that fits each value.

    Formats are tried in the order that fits a sample of the values best, each one only on
    the values still unparsed, so a file in one format costs one parse.
    """
    n = text.len()
    out = _nulls(n, dtype, text.name)
    values = text.drop_nulls()
    if values.len() == 0:
        return out
    sample = values.head(SAMPLE)
    hits = {f: sample.str.strptime(dtype, f, strict=False).count() for f in formats}
    # polars' cache of parsed values pays when values repeat (dates) and costs ~60 % more
    # when they do not (timestamps); either way the values are the same
    cache = sample.n_unique() * 2 <= sample.len()
    remaining = text
    for f in sorted(formats, key=lambda f: -hits[f]):
        parsed = remaining.str.strptime(dtype, f, strict=False, cache=cache)
        out = out.fill_null(parsed) if out.null_count() < n else parsed
        still = remaining.is_not_null() & out.is_null()
        if not still.any():
            break
        remaining = remaining.zip_with(still, _nulls(n, pl.String(), text.name))
    return out


def _localise(naive: pl.Series, tz: str) -> pl.Series:
    """Member-local naive timestamps -> naive UTC (see the module docstring for DST)."""
    if tz == "UTC":
        return naive
    utc = naive.dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
    gap = naive.is_not_null() & utc.is_null()
    if gap.any():  # inside the spring-forward gap: the first instant after the change
        shifted = (
            naive.dt.truncate("1h")
            .dt.offset_by("1h")
            .dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
        )
        utc = utc.fill_null(shifted.zip_with(gap, _nulls(naive.len(), utc.dtype, naive.name)))
    return utc.dt.convert_time_zone("UTC").dt.replace_time_zone(None)


def _timestamp(text: pl.Series, fmt: ExportFormat, tz: str, iso_only: bool = False) -> list[pl.Series]:
    """UTC-naive `col`, member-local-naive `col__local`, and the unparsed text.

    `iso_only`: the naive formats are ISO 8601's. A value one of them reads ends in the
    digits of a time of day or a date, so has no offset: when they read every value (tried
    first if the first values have no offset), the search for offsets is skipped.
    """
    name = text.name
    n = text.len()
    own = (fmt.timestamp_format,) if fmt.timestamp_format else ()
    naive_formats = tuple(dict.fromkeys(own + ISO_NAIVE_FORMATS))
    naive: pl.Series | None = None
    if iso_only and not text.drop_nulls().head(SAMPLE).str.contains(OFFSET_RE).any():
        naive = _cascade(text, pl.Datetime("us"), naive_formats)
    if naive is not None and naive.null_count() == text.null_count():
        any_offset = False
    else:
        has_offset = text.str.contains(OFFSET_RE).fill_null(False)
        any_offset = bool(has_offset.any())
        if any_offset:
            naive_text = text.zip_with(~has_offset, _nulls(n, pl.String(), name))
            naive = _cascade(naive_text, pl.Datetime("us"), naive_formats)
        elif naive is None:
            naive = _cascade(text, pl.Datetime("us"), naive_formats)
    utc = _localise(naive, tz)
    local = naive
    if any_offset:
        offset_text = text.zip_with(has_offset, _nulls(n, pl.String(), name))
        aware = _cascade(offset_text, pl.Datetime("us", "UTC"), ISO_OFFSET_FORMATS)
        utc = aware.dt.replace_time_zone(None).zip_with(has_offset, utc)
        local = aware.dt.convert_time_zone(tz).dt.replace_time_zone(None).zip_with(has_offset, naive)
    return [utc.alias(name), local.alias(f"{name}__local"), _unparsed(text, utc)]


def _unparsed(text: pl.Series, value: pl.Series) -> pl.Series:
    """`<col>__unparsed`: the text of the values that did not parse (all null: no zip)."""
    name = f"{text.name}__unparsed"
    if value.null_count() == text.null_count():  # a null text never parses to a value
        return _nulls(text.len(), pl.String(), name)
    return text.zip_with(
        text.is_not_null() & value.is_null(), _nulls(text.len(), pl.String(), text.name)
    ).alias(name)


def _ungroup(text: pl.Expr, decimal_comma: bool) -> pl.Expr:
    """Numbers without thousands separators and with a decimal point."""
    if decimal_comma:
        grouped = text.str.contains(GROUPED_COMMA)
        text = pl.when(grouped).then(text.str.replace_all(".", "", literal=True)).otherwise(text)
        text = text.str.replace(",", ".", literal=True)
    else:
        grouped = text.str.contains(GROUPED_POINT)
        text = pl.when(grouped).then(text.str.replace_all(",", "", literal=True)).otherwise(text)
    spaced = text.str.contains(GROUPED_SPACE)
    ungrouped = text.str.replace_all(r"[ \u00a0\u202f']", "").str.replace(",", ".", literal=True)
    return pl.when(spaced).then(ungrouped).otherwise(text)


def _needs_ungrouping(series: pl.Series) -> bool:
    return bool(series.str.contains(r"[,' \u00a0\u202f]").any())


def _typed(
    col: str,
    kind: str,
    fmt: ExportFormat,
    spec: Column,
    raw: pl.Series,
    ungroup: bool | None = None,
) -> list[pl.Expr]:
    """Value and unparsed text of a number or boolean column; `raw`: its (trimmed) text.

    `ungroup`: whether to remove thousands separators (None: if some value may hold one).
    """
    text = _spelled(col, fmt, spec) if kind == "boolean" else pl.col(col)
    if kind == "integer":
        t = _ungroup(text, False) if (_needs_ungrouping(raw) if ungroup is None else ungroup) else text
        ok = t.str.contains(INTEGER_RE)
        value = pl.when(ok).then(t.str.replace(r"\.0*$", "").cast(pl.Int64, strict=False))
    elif kind == "decimal":
        if ungroup is None:
            ungroup = fmt.decimal_comma or _needs_ungrouping(raw)
        t = _ungroup(text, fmt.decimal_comma) if ungroup else text
        number = t.cast(pl.Float64, strict=False)
        value = pl.when(number.is_finite()).then(number)
    elif kind == "boolean":
        if not fmt.values.get(col) and raw.drop_nulls().is_in(["true", "false"]).all():
            value = text == "true"  # the canonical spelling: no respelling needed
        else:
            low = text.str.to_lowercase()
            value = pl.when(low.is_in(TRUE_WORDS)).then(True).when(low.is_in(FALSE_WORDS)).then(False)
    else:  # pragma: no cover - guarded by the contract
        raise ValueError(kind)
    return [
        value.alias(col),
        pl.when(text.is_not_null() & value.is_null()).then(text).otherwise(None).alias(f"{col}__unparsed"),
    ]


def _typed_columns(
    raw: pl.Series, kind: str, fmt: ExportFormat, spec: Column
) -> tuple[pl.Series, list[pl.Series]]:
    """The text of a number or boolean column and its `_typed` columns.

    A value these parsers read has no surrounding whitespace (the integer pattern is
    anchored, the float parser and the boolean words take none, ungrouping keeps a value's
    ends), except through a member's own spellings of booleans. Numbers are tried first
    without ungrouping: a value that reads so holds no separator, so ungrouping would not
    have changed it (with a decimal comma it would: "1.500").
    """

    def typed(text: pl.Series, ungroup: bool | None = None) -> list[pl.Series]:
        # lazy: the unparsed column repeats the value's expression, so parsed once; rechunked
        # (the streaming engine returns pieces) to be laid out as an eager select's columns
        exprs = _typed(spec.name, kind, fmt, spec, text, ungroup)
        return text.to_frame().lazy().select(exprs).collect().rechunk().get_columns()

    if kind == "integer" or (kind == "decimal" and not fmt.decimal_comma):
        if raw.dtype == pl.String:
            out = typed(raw, False)
            if out[0].null_count() == raw.null_count() and not _may_start_blank(raw):
                return raw, out
    return _parsed_raw_first(raw, typed, kind != "boolean" or not fmt.values.get(spec.name))


def _string_column(raw: pl.Series, fmt: ExportFormat, spec: Column) -> pl.Series:
    """A string column trimmed and respelled (`_spelled`).

    A column whose every value is already in the domain has none to trim (no domain value
    is "" or has surrounding whitespace) and none to respell: that is all `_spelled`'s own
    check would find after trimming, so it is asked first of the raw values.
    """
    if (
        raw.dtype == pl.String
        and not fmt.values.get(spec.name)
        and spec.domain is not None
        and spec.name not in UPPER_CASE_COLUMNS + LOWER_CASE_COLUMNS
        and raw.drop_nulls().is_in(list(spec.domain)).all()
    ):
        return raw
    if (
        spec.name in UPPER_CASE_COLUMNS + LOWER_CASE_COLUMNS
        and raw.dtype == pl.String
        and not fmt.values.get(spec.name)
        and not (raw == "").any()  # an empty optional column: trimmed below, as before
    ):
        # country, currency and platform codes: few distinct values, each tested once;
        # when each is trimmed and in the right case already, so is the column
        distinct = raw.unique().drop_nulls()
        cased = (
            distinct.str.to_uppercase() if spec.name in UPPER_CASE_COLUMNS else distinct.str.to_lowercase()
        )
        if (cased == distinct).all() and not _needs_trimming(distinct, distinct.str.strip_chars()):
            return raw
    text = _trimmed(raw)
    if text.null_count() == text.len() and not fmt.values.get(spec.name):
        return text  # a column left empty: nothing to respell
    return text.to_frame().select(_spelled(spec.name, fmt, spec, text).alias(spec.name)).to_series()


def _date(text: pl.Series) -> list[pl.Series]:
    """A date column and its unparsed text."""
    value = _cascade(text, pl.Date(), DATE_FORMATS)
    return [value, _unparsed(text, value)]


def _period_offset(col: str, period: str) -> pl.Expr:
    """Months between a row's date and the submitted period (0 = inside the period)."""
    year, month = (int(x) for x in period.split("-"))
    # Int64: GX checks int64/float64 columns vectorised, an int32 column one value at a time
    offset = pl.col(col).dt.year().cast(pl.Int64) * 12 + pl.col(col).dt.month() - (year * 12 + month)
    return offset.cast(pl.Int64).alias(f"{col.removesuffix('__local')}__period_offset")


def _received_offset(col: str, received_at: dt.datetime, unit: str) -> pl.Expr:
    """How far a row's (UTC) timestamp or date lies after the file was received (> 0: later)."""
    if unit == "s":
        late = (pl.col(col) - pl.lit(received_at, dtype=pl.Datetime("us"))).dt.total_seconds()
    else:
        late = (pl.col(col) - pl.lit(received_at.date(), dtype=pl.Date())).dt.total_days()
    return late.cast(pl.Int64).alias(f"{col}__received_offset")


def map_to_contract(
    raw: pl.DataFrame,
    dataset: str,
    fmt: ExportFormat,
    tz: str,
    period: str,
    received_at: dt.datetime | None = None,
) -> MappedTable:
    """Rename, respell and type a raw text frame; never raises on bad values.

    Timestamps without an offset are read in the organisation's time zone `tz`; the
    period rule compares the member-local time with `period` (YYYY-MM). With `received_at`
    (naive UTC) the `future` rule can compare each row with the time the file arrived.
    """
    frame, unknown = _rename(raw, dataset, fmt)
    present = frozenset(c for c in frame.columns if c != "source_row")
    specs = [spec for spec in columns(dataset) if spec.name in present]
    # the ISO formats read no value that ends with whitespace; a member's own might
    iso_only = fmt.timestamp_format is None or fmt.timestamp_format in ISO_NAIVE_FORMATS
    first: list[pl.Series] = [frame["source_row"]]
    last: list[pl.Series] = []  # the timestamp and date columns come after the others
    for spec in specs:
        raw_text = frame[spec.name]
        if spec.kind == "string":
            first.append(_string_column(raw_text, fmt, spec))
            continue
        if spec.kind == "timestamp":
            text, out = _parsed_raw_first(raw_text, lambda t: _timestamp(t, fmt, tz, iso_only), iso_only)
            last.extend(out)
        elif spec.kind == "date":
            text, out = _parsed_raw_first(raw_text, _date, True)
            last.extend(out)
        else:
            text, out = _typed_columns(raw_text, spec.kind, fmt, spec)
            first.extend(out)
        if spec.required:
            # "is there a value?" is asked of the text, so an unreadable value is reported
            # once (rule type), not also as missing (rule required_value)
            first.append(text.alias(f"{spec.name}__text"))
    typed = pl.DataFrame(first + last)
    if "actioned_at" in present:
        typed = typed.with_columns(_period_offset("actioned_at__local", period))
    if "window_start" in present:
        typed = typed.with_columns(_period_offset("window_start", period))
    if received_at is not None and "actioned_at" in present:
        typed = typed.with_columns(_received_offset("actioned_at", received_at, "s"))
    if received_at is not None and "window_end" in present:
        typed = typed.with_columns(_received_offset("window_end", received_at, "d"))
    missing = tuple(c.name for c in columns(dataset) if c.required and c.name not in present)
    suggestions: dict[str, str] = {}
    for name in missing:
        close = difflib.get_close_matches(name, [_normalise_header(u) for u in unknown], n=1, cutoff=0.75)
        if close:
            original = next(u for u in unknown if _normalise_header(u) == close[0])
            suggestions[name] = original
    return MappedTable(typed, present, missing, tuple(unknown), suggestions)
