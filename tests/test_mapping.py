"""`map_to_contract` on values padded with whitespace, in every kind of column.

Surrounding whitespace (space, tab, no-break space U+00A0, ideographic space U+3000) is
trimmed and an empty or whitespace-only value is a missing value, whatever the column.
The mapping proves a column clean by the work it does anyway (a domain check, a parse)
and trims only when that proof fails, so each column is tried both ways here: all values
clean, and clean values beside padded ones. Some padded values are traps: the timestamp
and date parsers read " 2020-03-01" (leading whitespace) as if it were not there, and a
value with an offset followed by whitespace parses with the offset formats.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import polars as pl
import pytest

from ingestion.contract import columns
from ingestion.mapping import map_to_contract
from ingestion.registry import ExportFormat

RECEIVED = dt.datetime(2020, 4, 2)
TAKEDOWN = {
    "record_id": "REC-1",
    "content_type": "listing",
    "detected_at": "2020-03-01T10:00:00",
    "actioned_at": "2020-03-01T11:00:00",
    "detection_source": "user_report",
    "detection_stage": "post_publication",
    "action_type": "removed",
    "commodity": "ivory",
    "seller_id": "SELLER-1",
    "platform_id": "ebay",
    "species_scientific_name": "Loxodonta africana",
    "cites_appendix": "I",
    "seller_country": "GB",
    "price": "1.5",
    "currency": "USD",
    "appealed": "true",
    "restored": "false",
    "referral_id": "REF-1",
}
MONITORING = {
    "survey_id": "SURVEY-1",
    "platform_id": "ebay",
    "window_start": "2020-03-01",
    "window_end": "2020-03-02",
    "keyword_id": "KW-1",
    "language": "en",
    "queries_run": "3",
    "new_adverts_found": "2",
    "adverts_referred": "1",
    "commodity": "ivory",
}
PAD = (" ", "\t", "\u00a0", "\u3000")  # the two ASCII and two of the Unicode spaces


def _map(
    column: str,
    values: list[str | None],
    dataset: str = "takedowns",
    fmt: ExportFormat | None = None,
    tz: str = "UTC",
) -> pl.DataFrame:
    """Map a file whose `column` holds `values` and whose other columns hold one valid row."""
    base = TAKEDOWN if dataset == "takedowns" else MONITORING
    data: dict[str, Any] = {c: [v] * len(values) for c, v in base.items()}
    data[column] = values
    raw = pl.DataFrame(data, schema=dict.fromkeys(data, pl.String)).with_columns(
        pl.int_range(2, len(values) + 2, dtype=pl.Int64).alias("source_row")
    )
    return map_to_contract(raw, dataset, fmt or ExportFormat(), tz, "2020-03", RECEIVED).frame


def _padded(value: str, i: int) -> str:
    """`value` with whitespace before, after or on both sides (one of four characters)."""
    pad = PAD[i % len(PAD)]
    return (pad + value, value + pad, pad + value + pad + pad)[i % 3]


def _assert_columns(frame: pl.DataFrame, expected: dict[str, pl.Series]) -> None:
    for name, series in expected.items():
        assert frame[name].dtype == series.dtype, name
        assert frame[name].to_list() == series.to_list(), name


def test_output_columns_and_types() -> None:
    """The mapped frame's columns, in order, with their types (clean and padded input)."""
    for values in (["listing", "post"], [" listing", ""]):
        frame = _map("content_type", values)
        assert frame.schema == pl.Schema(
            {
                "source_row": pl.Int64,
                "record_id": pl.String,
                "content_type": pl.String,
                "detected_at__text": pl.String,
                "actioned_at__text": pl.String,
                "detection_source": pl.String,
                "detection_stage": pl.String,
                "action_type": pl.String,
                "commodity": pl.String,
                "seller_id": pl.String,
                "platform_id": pl.String,
                "species_scientific_name": pl.String,
                "cites_appendix": pl.String,
                "seller_country": pl.String,
                "price": pl.Float64,
                "price__unparsed": pl.String,
                "currency": pl.String,
                "appealed": pl.Boolean,
                "appealed__unparsed": pl.String,
                "restored": pl.Boolean,
                "restored__unparsed": pl.String,
                "referral_id": pl.String,
                "detected_at": pl.Datetime("us"),
                "detected_at__local": pl.Datetime("us"),
                "detected_at__unparsed": pl.String,
                "actioned_at": pl.Datetime("us"),
                "actioned_at__local": pl.Datetime("us"),
                "actioned_at__unparsed": pl.String,
                "actioned_at__period_offset": pl.Int64,
                "actioned_at__received_offset": pl.Int64,
            }
        )


def test_monitoring_output_columns_and_types() -> None:
    for values in (["3"], [" 3"]):
        frame = _map("queries_run", values, "monitoring")
        assert frame.columns == [
            "source_row",
            "survey_id",
            "platform_id",
            "window_start__text",
            "window_end__text",
            "keyword_id",
            "language",
            "queries_run",
            "queries_run__unparsed",
            "queries_run__text",
            "new_adverts_found",
            "new_adverts_found__unparsed",
            "new_adverts_found__text",
            "adverts_referred",
            "adverts_referred__unparsed",
            "commodity",
            "window_start",
            "window_start__unparsed",
            "window_end",
            "window_end__unparsed",
            "window_start__period_offset",
            "window_end__received_offset",
        ]
        assert frame["queries_run"].dtype == pl.Int64
        assert frame["window_start"].dtype == pl.Date


@pytest.mark.parametrize(
    "column",
    [c.name for c in columns("takedowns") if c.kind == "string" and c.domain is not None],
)
def test_domain_values_are_trimmed(column: str) -> None:
    domain = next(c.domain for c in columns("takedowns") if c.name == column)
    assert domain is not None
    clean = [*domain, None]
    assert _map(column, clean)[column].to_list() == clean  # nothing to trim
    padded = [_padded(v, i) for i, v in enumerate(domain)]
    expected = [*domain, None, None, None]
    assert _map(column, [*padded, "", "  \t", None])[column].to_list() == expected


def test_domain_values_trimmed_and_respelled() -> None:
    values = [" Post", "user report\t", "\u00a0Not A Type", "", "\u3000", None]
    assert _map("content_type", values)["content_type"].to_list() == [
        "post",
        "user report",  # not a content type: kept as written (trimmed) for the report
        "Not A Type",
        None,
        None,
        None,
    ]
    assert _map("cites_appendix", [" ii", "NONE\t", "\u3000I", "iv "])["cites_appendix"].to_list() == [
        "II",
        "none",
        "I",
        "iv",
    ]
    assert _map("detection_source", ["\u00a0User-Report", "user_report"])["detection_source"].to_list() == [
        "user_report",
        "user_report",
    ]


def test_domain_values_with_the_members_spellings() -> None:
    fmt = ExportFormat(values={"action_type": {"takedown": "removed", "block": "blocked"}})
    values = [" takedown", "Block\t", "removed", "\u3000", None]
    assert _map("action_type", values, fmt=fmt)["action_type"].to_list() == [
        "removed",
        "blocked",
        "removed",
        None,
        None,
    ]
    assert _map("action_type", ["takedown", "removed"], fmt=fmt)["action_type"].to_list() == [
        "removed",
        "removed",
    ]


@pytest.mark.parametrize(
    ("column", "values", "expected"),
    [
        (
            "record_id",
            [" REC-1", "REC-2\t", "\u00a0REC 3\u3000", "", " \t ", None],
            ["REC-1", "REC-2", "REC 3"],
        ),
        ("record_id", ["REC-1", "REC-2", None], ["REC-1", "REC-2", None]),
        ("seller_id", ["\u3000SELLER-9", "SELLER-8 ", "", None], ["SELLER-9", "SELLER-8"]),
        ("platform_id", [" EBAY", "Baidu\u00a0", "\t", None], ["ebay", "baidu"]),
        ("platform_id", ["", "", ""], []),
        ("species_scientific_name", ["  Loxodonta africana\t", "Manis  javanica"], None),
        ("seller_country", [" gb", "us\t", "\u00a0Cn\u3000", "", None], ["GB", "US", "CN"]),
        ("currency", [" usd\u00a0", "EUR", "\u3000"], ["USD", "EUR"]),
        ("currency", ["USD", "EUR", None, "USD"], ["USD", "EUR", None, "USD"]),
        ("seller_country", ["gb", "US", None, "gb"], ["GB", "US", None, "GB"]),
        ("seller_country", ["GB", "US\u3000", "GB"], ["GB", "US", "GB"]),
        ("platform_id", ["ebay", "Baidu", "ebay"], ["ebay", "baidu", "ebay"]),
        ("platform_id", ["ebay", None, "ebay"], ["ebay", None, "ebay"]),
        ("referral_id", ["", "   ", "\u3000", None], []),
        ("referral_id", ["REF-1", "\u00a0REF-2"], ["REF-1", "REF-2"]),
        ("referral_id", ["", None, ""], []),
    ],
)
def test_free_text_is_trimmed(column: str, values: list[str | None], expected: list[str] | None) -> None:
    got = _map(column, values)[column].to_list()
    if expected is None:
        expected = [v.strip() for v in values if v is not None]
    assert got == expected + [None] * (len(values) - len(expected))


def test_timestamps_padded() -> None:
    values = [
        "2020-03-01T10:00:00",
        " 2020-03-01T10:00:00",  # the parser itself would skip this space
        "2020-03-01 10:00\t",
        "\u00a02020-03-01T10:00:00+08:00",
        "2020-03-01T10:00:00Z\u3000",  # the offset formats would skip this one
        "\t2020-03-01",
        "",
        " \u3000 ",
        " not a time ",
        None,
    ]
    frame = _map("detected_at", values, tz="Europe/Berlin")
    t = dt.datetime
    _assert_columns(
        frame,
        {
            "detected_at": pl.Series(
                [t(2020, 3, 1, 9), t(2020, 3, 1, 9), t(2020, 3, 1, 9), t(2020, 3, 1, 2), t(2020, 3, 1, 10)]
                + [t(2020, 2, 29, 23), None, None, None, None],
                dtype=pl.Datetime("us"),
            ),
            "detected_at__local": pl.Series(
                [t(2020, 3, 1, 10)] * 3 + [t(2020, 3, 1, 3), t(2020, 3, 1, 11), t(2020, 3, 1)] + [None] * 4,
                dtype=pl.Datetime("us"),
            ),
            "detected_at__unparsed": pl.Series([None] * 8 + ["not a time", None], dtype=pl.String),
            "detected_at__text": pl.Series(
                ["2020-03-01T10:00:00"] * 2
                + ["2020-03-01 10:00", "2020-03-01T10:00:00+08:00", "2020-03-01T10:00:00Z", "2020-03-01"]
                + [None, None, "not a time", None],
                dtype=pl.String,
            ),
        },
    )


@pytest.mark.parametrize("tz", ["UTC", "Asia/Shanghai"])
def test_timestamps_that_all_parse_but_one_is_padded(tz: str) -> None:
    """Each value parses as written; the padded one must still be trimmed in `__text`."""
    hours = 8 if tz == "Asia/Shanghai" else 0
    for i, pad in enumerate(PAD):
        for at in range(3):
            values = ["2020-03-01T10:00:00", "2020-03-02 10:00", None]
            padded = (pad + values[at % 2], values[at % 2] + pad, pad + pad + values[at % 2])[(i + at) % 3]
            values[at % 2] = padded
            frame = _map("actioned_at", values, tz=tz)
            local = [dt.datetime(2020, 3, 1, 10), dt.datetime(2020, 3, 2, 10), None]
            assert frame["actioned_at__local"].to_list() == local, repr(padded)
            assert frame["actioned_at"].to_list() == [
                x - dt.timedelta(hours=hours) if x else None for x in local
            ], repr(padded)
            assert frame["actioned_at__text"].to_list() == ["2020-03-01T10:00:00", "2020-03-02 10:00", None]
            assert frame["actioned_at__unparsed"].to_list() == [None] * 3
            assert frame["actioned_at__period_offset"].to_list() == [0, 0, None]


def test_timestamps_with_offsets_that_all_parse_but_one_is_padded() -> None:
    for pad in PAD:
        for padded in (pad + "2020-03-01T10:00:00+08:00", "2020-03-01T10:00:00+08:00" + pad):
            frame = _map("detected_at", [padded, "2020-03-01T10:00:00-01:00"], tz="Asia/Shanghai")
            assert frame["detected_at"].to_list() == [dt.datetime(2020, 3, 1, 2), dt.datetime(2020, 3, 1, 11)]
            assert frame["detected_at__local"].to_list() == [
                dt.datetime(2020, 3, 1, 10),
                dt.datetime(2020, 3, 1, 19),
            ]
            assert frame["detected_at__text"].to_list() == [
                "2020-03-01T10:00:00+08:00",
                "2020-03-01T10:00:00-01:00",
            ]


def test_timestamps_in_the_members_format_padded() -> None:
    fmt = ExportFormat(timestamp_format="%d/%m/%Y %H:%M")
    for values in (
        ["01/03/2020 10:00", "2020-03-01T11:00:00"],
        [" 01/03/2020 10:00", "2020-03-01T11:00:00\t"],
    ):
        frame = _map("detected_at", [*values, "\u3000"], fmt=fmt)
        assert frame["detected_at"].to_list() == [
            dt.datetime(2020, 3, 1, 10),
            dt.datetime(2020, 3, 1, 11),
            None,
        ]
        assert frame["detected_at__text"].to_list() == ["01/03/2020 10:00", "2020-03-01T11:00:00", None]


def test_decimals_padded() -> None:
    values = [
        " 1.5",
        "2.25\t",
        "\u00a03",
        "4\u3000",
        "",
        "  ",
        "1,234.50",
        " 1,234.50\u00a0",
        "1 234.5",
        "abc ",
        None,
    ]
    frame = _map("price", values)
    assert frame["price"].to_list() == [1.5, 2.25, 3.0, 4.0, None, None, 1234.5, 1234.5, 1234.5, None, None]
    assert frame["price__unparsed"].to_list() == [None] * 9 + ["abc", None]
    clean = _map("price", ["1.5", "2", "-0.25", None])
    assert clean["price"].to_list() == [1.5, 2.0, -0.25, None]
    assert clean["price__unparsed"].to_list() == [None] * 4
    assert _map("price", ["1,234.50", "2"])["price"].to_list() == [1234.5, 2.0]
    assert _map("price", ["inf", "2"])["price__unparsed"].to_list() == ["inf", None]


def test_decimals_with_a_decimal_comma_padded() -> None:
    fmt = ExportFormat(decimal_comma=True)
    values = ["1,5", " 2,25", "1.234,50\t", "\u00a03", "\u3000", "", "x ", None]
    frame = _map("price", values, fmt=fmt)
    assert frame["price"].to_list() == [1.5, 2.25, 1234.5, 3.0, None, None, None, None]
    assert frame["price__unparsed"].to_list() == [None] * 6 + ["x", None]
    assert _map("price", ["1,5", "1.500"], fmt=fmt)["price"].to_list() == [1.5, 1500.0]


def test_booleans_padded() -> None:
    values = [" true", "false\t", "\u00a0yes", "N\u3000", "", "  ", "maybe ", None]
    frame = _map("appealed", values)
    assert frame["appealed"].to_list() == [True, False, True, False, None, None, None, None]
    assert frame["appealed__unparsed"].to_list() == [None] * 6 + ["maybe", None]
    clean = _map("restored", ["true", "false", None])
    assert clean["restored"].to_list() == [True, False, None]
    assert _map("restored", ["Yes", "0"])["restored"].to_list() == [True, False]
    fmt = ExportFormat(values={"appealed": {"是": "true", "否": "false"}})
    frame = _map("appealed", [" 是", "否\u3000", "true", "\t"], fmt=fmt)
    assert frame["appealed"].to_list() == [True, False, True, None]


def test_integers_padded() -> None:
    values = [" 12", "1,234\t", "\u00a05.0", "7", "", "  ", "x ", "99999999999999999999", None]
    frame = _map("queries_run", values, "monitoring")
    assert frame["queries_run"].to_list() == [12, 1234, 5, 7, None, None, None, None, None]
    assert frame["queries_run__unparsed"].to_list() == [None] * 6 + ["x", "99999999999999999999", None]
    assert frame["queries_run__text"].to_list() == [
        "12",
        "1,234",
        "5.0",
        "7",
        None,
        None,
        "x",
        "99999999999999999999",
        None,
    ]
    clean = _map("new_adverts_found", ["1", "2.0", "1,000", None], "monitoring")
    assert clean["new_adverts_found"].to_list() == [1, 2, 1000, None]
    assert clean["new_adverts_found__text"].to_list() == ["1", "2.0", "1,000", None]
    padded = _map("adverts_referred", ["\u30001", "2"], "monitoring")
    assert padded["adverts_referred"].to_list() == [1, 2]


def test_dates_padded() -> None:
    values = [
        " 2020-03-01",
        "2020-03-02\t",
        "\u30002020/03/03",
        "2020-03-04 00:00:00\u00a0",
        "",
        "  ",
        " bad ",
        None,
    ]
    frame = _map("window_start", values, "monitoring")
    d = dt.date
    assert (
        frame["window_start"].to_list()
        == [d(2020, 3, 1), d(2020, 3, 2), d(2020, 3, 3), d(2020, 3, 4)] + [None] * 4
    )
    assert frame["window_start__unparsed"].to_list() == [None] * 6 + ["bad", None]
    assert frame["window_start__text"].to_list() == [
        "2020-03-01",
        "2020-03-02",
        "2020/03/03",
        "2020-03-04 00:00:00",
        None,
        None,
        "bad",
        None,
    ]
    assert frame["window_start__period_offset"].to_list() == [0, 0, 0, 0, None, None, None, None]


def test_dates_that_all_parse_but_one_is_padded() -> None:
    for pad in PAD:
        frame = _map("window_end", [pad + "2020-03-01", "2020-03-02"], "monitoring")
        assert frame["window_end"].to_list() == [dt.date(2020, 3, 1), dt.date(2020, 3, 2)]
        assert frame["window_end__text"].to_list() == ["2020-03-01", "2020-03-02"]
        assert frame["window_end__received_offset"].to_list() == [-32, -31]


def test_whitespace_is_the_same_for_trimming_and_for_the_pattern() -> None:
    """`str.strip_chars` removes exactly what `\\s` matches (Unicode White_Space), so a
    value is padded for the one exactly when it is for the other."""
    chars = pl.Series([chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF])
    for value in ("x" + chars, chars + "x"):
        stripped = value.str.strip_chars() != value
        assert (stripped == value.str.contains(r"^\s|\s$")).all()
    assert int(stripped.sum()) == 25


WHITESPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
POOLS: dict[str, list[str]] = {
    "domain": ["listing", "post", "Post", "LIVE STREAM", "user report", "Foo", "I", "ii", "none", "removed"],
    "timestamp": [
        "2020-03-01T10:00:00",
        "2020-03-29 02:30",
        "2020-03-01T10:00:00.25",
        "2020-03-01",
        "2020-03-01T10:00:00+08:00",
        "2020-03-01 10:00Z",
        "2020-03-01T10:00:00 +0800",
        "01/03/2020 10:00",
        "not a time",
    ],
    "date": ["2020-03-01", "2020/03/02", "2020-03-03 00:00:00", "2020-03-04T12:00:00.5", "03/05/2020", "bad"],
    "decimal": ["1.5", "-2", "1,234.50", "1.234,50", "1 234,5", "12,5", "abc", "inf", "0"],
    "integer": ["1", "-3", "2.0", "1,000", "1.000", "x", "99999999999999999999"],
    "boolean": ["true", "false", "Yes", "n", "0", "maybe", "是"],
    "string": ["REC-1", "a b", "gb", "USD", "EBAY", "Loxodonta africana"],
}


def _pool(spec_kind: str, domain: bool, valid_only: bool) -> list[str]:
    pool = POOLS["domain" if domain else spec_kind]
    if not valid_only:
        return pool
    valid = {"timestamp": pool[:7], "date": pool[:4], "decimal": pool[:3], "integer": pool[:4]}
    return valid.get(spec_kind, pool)


@pytest.mark.parametrize("seed", range(12))
def test_padding_never_changes_the_mapping(seed: int) -> None:
    """A file with padded, empty and blank values maps exactly as the same file trimmed.

    Columns are padded or left clean at random, and their values drawn only from readable
    values or from all of them, so that every column is mapped both by the path that
    proves it clean and by the one that trims it, beside columns taking the other path.
    """
    rng = random.Random(seed)
    dataset = ("takedowns", "monitoring")[seed % 2]
    fmt = (
        ExportFormat(),
        ExportFormat(decimal_comma=True, timestamp_format="%d/%m/%Y %H:%M"),
        ExportFormat(
            values={
                "content_type": {"Beitrag": "post"},
                "appealed": {"是": "true"},
                "commodity": {"x": "ivory"},
            }
        ),
    )[seed % 3]
    tz = ("UTC", "Europe/Berlin", "Asia/Shanghai", "America/New_York")[seed % 4]
    n = 80
    padded: dict[str, list[str | None]] = {}
    trimmed: dict[str, list[str | None]] = {}
    for spec in columns(dataset):
        pool = _pool(spec.kind, spec.domain is not None, rng.random() < 0.5)
        pad_share = rng.choice([0.0, 0.0, 0.05, 0.5])
        blank_share = rng.choice([0.0, 0.1])
        padded[spec.name], trimmed[spec.name] = [], []
        for _ in range(n):
            value: str | None = rng.choice(pool)
            if rng.random() < blank_share:
                value = rng.choice(["", None, "".join(rng.choices(WHITESPACE, k=rng.randint(1, 3)))])
            plain = value.strip(WHITESPACE) if value is not None else None
            if value and rng.random() < pad_share:
                before = "".join(rng.choices(WHITESPACE, k=rng.choice([0, 1, 2])))
                after = "".join(
                    rng.choices(WHITESPACE, k=rng.choice([0, 1, 2]) if before else rng.choice([1, 2]))
                )
                value = before + value + after
            padded[spec.name].append(value)
            trimmed[spec.name].append(plain or None)
    frames = []
    for data in (padded, trimmed):
        raw = pl.DataFrame(data, schema=dict.fromkeys(data, pl.String)).with_columns(
            pl.int_range(2, n + 2, dtype=pl.Int64).alias("source_row")
        )
        frames.append(map_to_contract(raw, dataset, fmt, tz, "2020-03", RECEIVED).frame)
    assert frames[0].schema == frames[1].schema
    differing = [c for c in frames[0].columns if not frames[0][c].equals(frames[1][c])]
    assert not differing, differing
    assert frames[0].equals(frames[1])


def test_a_members_format_that_reads_trailing_whitespace() -> None:
    """A format ending in a space reads "10:00 " too; `__text` is still the trimmed value."""
    fmt = ExportFormat(timestamp_format="%d/%m/%Y %H:%M ")
    frame = _map("detected_at", ["01/03/2020 10:00 ", "01/03/2020 11:00"], fmt=fmt)
    assert frame["detected_at"].to_list() == [dt.datetime(2020, 3, 1, 10), dt.datetime(2020, 3, 1, 11)]
    assert frame["detected_at__text"].to_list() == ["01/03/2020 10:00", "01/03/2020 11:00"]


def test_a_members_spelling_with_whitespace_is_matched_after_trimming() -> None:
    fmt = ExportFormat(values={"appealed": {"ja ": "true"}, "commodity": {"Elfenbein ": "ivory"}})
    frame = _map("appealed", ["ja ", "true"], fmt=fmt)
    assert frame["appealed"].to_list() == [None, True]
    assert frame["appealed__unparsed"].to_list() == ["ja", None]
    frame = _map("commodity", ["Elfenbein ", "ivory"], fmt=fmt)
    assert frame["commodity"].to_list() == ["Elfenbein", "ivory"]


def test_offsets_only_after_the_first_values() -> None:
    """Offsets are found wherever they are, not only among the first values."""
    values = ["2020-03-01T10:00:00"] * 250 + ["2020-03-01T10:00:00+08:00", " 2020-03-01 10:00Z", "x"]
    frame = _map("detected_at", values, tz="Asia/Shanghai")
    t = dt.datetime
    assert frame["detected_at"].to_list() == [t(2020, 3, 1, 2)] * 251 + [t(2020, 3, 1, 10), None]
    assert frame["detected_at__local"].to_list() == [t(2020, 3, 1, 10)] * 251 + [t(2020, 3, 1, 18), None]
    assert frame["detected_at__unparsed"].to_list() == [None] * 252 + ["x"]
    frame = _map("detected_at", values[:-1], tz="Asia/Shanghai")
    assert frame["detected_at__unparsed"].to_list() == [None] * 252
    assert frame["detected_at__text"].to_list() == [*values[:251], "2020-03-01 10:00Z"]


@pytest.mark.parametrize(
    ("dataset", "column"),
    [
        ("takedowns", "detected_at"),
        ("takedowns", "price"),
        ("takedowns", "appealed"),
        ("takedowns", "content_type"),
        ("monitoring", "window_end"),
        ("monitoring", "queries_run"),
    ],
)
def test_a_column_left_empty(dataset: str, column: str) -> None:
    frame = _map(column, ["", None, ""], dataset)
    for name in (column, f"{column}__unparsed", f"{column}__text", f"{column}__local"):
        if name in frame.columns:
            assert frame[name].to_list() == [None] * 3, name
    assert frame[column].dtype == {"detected_at": pl.Datetime("us"), "price": pl.Float64}.get(
        column, frame[column].dtype
    )
