"""Generate the bad-input corpus of the intake: tests/corpus/files/* and manifest.yml.

    .venv/bin/python tests/corpus/make_corpus.py          # (re)write the corpus
    .venv/bin/python tests/corpus/make_corpus.py --check  # exit 1 if the files drift

Every file is built here from code, byte for byte deterministic, so the committed corpus
can be reproduced and reviewed. Each case states what the intake must answer: status,
the failing rules with their column, rows_failing and example row numbers, warnings, and
for some accepted files what must land in the lake. `tests/test_bad_input_corpus.py`
runs every case; the cases too big to commit (1 MB line, 5 million rows) are listed in
the manifest with `generated: true` and built at test time by the functions below.

All identifiers are SYNTHETIC; record ids contain `-REC-` and seller ids `-SELLER-`, so a
test can grep everything the intake writes for them (they must never appear in clear).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import random
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter
import yaml

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from ingestion.contract import (  # noqa: E402
    ACTION_TYPES,
    COMMODITIES,
    CONTENT_TYPES,
    DETECTION_SOURCES,
    DETECTION_STAGES,
    column_names,
)

FILES = ROOT / "files"
MANIFEST = ROOT / "manifest.yml"
TAKEDOWN_COLUMNS = column_names("takedowns")
MONITORING_COLUMNS = column_names("monitoring")
CREATED = dt.datetime(2024, 1, 1, 0, 0, 0)  # fixed XLSX creation time: deterministic bytes

SPECIES = {
    "ivory": ("Loxodonta africana", "I"),
    "rhino_horn": ("Diceros bicornis", "I"),
    "pangolin": ("Manis pentadactyla", "I"),
    "tiger_parts": ("Panthera tigris", "I"),
    "other_big_cat_parts": ("Panthera pardus", "I"),
    "bear_parts": ("Ursus thibetanus", "I"),
    "marine_turtle": ("Eretmochelys imbricata", "I"),
    "hornbill_casque": ("Rhinoplax vigil", "I"),
    "saiga_horn": ("Saiga tatarica", "II"),
    "shark_ray": ("Sphyrna lewini", "II"),
    "live_reptile": ("Python regius", "II"),
    "live_bird": ("Psittacus erithacus", "I"),
    "live_primate": ("Macaca fascicularis", "II"),
    "live_big_cat": ("Panthera leo", "II"),
    "live_other_mammal": ("Vulpes zerda", "none"),
    "other": ("Crocodylus niloticus", "II"),
}
COUNTRIES = ("US", "GB", "CN", "NG", "DE")
TRAFFIC_PLATFORMS = ("alibaba", "baidu", "tencent", "58_group", "synthetic_forum_a")


# ------------------------------------------------------------------ canonical rows


def month_of(period: str) -> tuple[int, int]:
    y, m = period.split("-")
    return int(y), int(m)


def takedown_row(i: int, period: str, tag: str) -> dict[str, str]:
    """Row i of a valid takedowns export for `period` (naive local times, ISO 8601)."""
    y, m = month_of(period)
    day = 1 + (i * 3) % 27
    hour = 6 + i % 12
    minute = (i * 7) % 60
    detected = dt.datetime(y, m, day, hour, minute)
    actioned = detected + dt.timedelta(hours=1 + i % 4, minutes=13)
    commodity = COMMODITIES[i % len(COMMODITIES)]
    species, appendix = SPECIES[commodity]
    return {
        "record_id": f"{tag}-REC-{i:05d}",
        "content_type": CONTENT_TYPES[i % len(CONTENT_TYPES)],
        "detected_at": detected.strftime("%Y-%m-%dT%H:%M:%S"),
        "actioned_at": actioned.strftime("%Y-%m-%dT%H:%M:%S"),
        "detection_source": DETECTION_SOURCES[i % len(DETECTION_SOURCES)],
        "detection_stage": DETECTION_STAGES[i % len(DETECTION_STAGES)],
        "action_type": ACTION_TYPES[i % len(ACTION_TYPES)],
        "commodity": commodity,
        "seller_id": f"{tag}-SELLER-{i % 4}",
        "platform_id": "",
        "species_scientific_name": species,
        "cites_appendix": appendix,
        "seller_country": COUNTRIES[i % len(COUNTRIES)],
        "price": f"{10 + (i * 37) % 990}.{(i * 13) % 100:02d}",
        "currency": "USD",
        "appealed": "true" if i % 5 == 0 else "false",
        "restored": "true" if i % 10 == 0 else "false",
        "referral_id": "",
    }


def takedown_rows(n: int, period: str, tag: str) -> list[dict[str, str]]:
    return [takedown_row(i, period, tag) for i in range(n)]


def monitoring_row(i: int, period: str, tag: str, platforms: tuple[str, ...] = TRAFFIC_PLATFORMS) -> dict:
    y, m = month_of(period)
    start = dt.date(y, m, 1 + (i * 2) % 27)
    return {
        "survey_id": f"{tag}-SURVEY-{i // 4}",
        "platform_id": platforms[i % len(platforms)],
        "window_start": start.isoformat(),
        "window_end": (start + dt.timedelta(days=1)).isoformat(),
        "keyword_id": f"KW{i:03d}",
        "language": "zh-CN",
        "queries_run": str(5 + i % 20),
        "new_adverts_found": str(i % 7),
        "adverts_referred": str((i % 7) // 2),
        "commodity": COMMODITIES[i % len(COMMODITIES)],
    }


def monitoring_rows(
    n: int, period: str, tag: str, platforms: tuple[str, ...] = TRAFFIC_PLATFORMS
) -> list[dict]:
    return [monitoring_row(i, period, tag, platforms) for i in range(n)]


# ------------------------------------------------------------------ writers


def csv_text(
    rows: list[dict[str, str]],
    header: list[str] | None = None,
    delimiter: str = ",",
    newline: str = "\n",
    quote_all: bool = False,
) -> str:
    header = header or list(rows[0])
    buf = io.StringIO()
    w = csv.writer(
        buf,
        delimiter=delimiter,
        lineterminator=newline,
        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
    )
    w.writerow(header)
    for r in rows:
        w.writerow([r.get(h, "") for h in header])
    return buf.getvalue()


def csv_bytes(rows: list[dict[str, str]], header: list[str] | None = None, **kw: Any) -> bytes:
    return csv_text(rows, header, **kw).encode("utf-8")


def renamed(rows: list[dict[str, str]], names: dict[str, str]) -> list[dict[str, str]]:
    return [{names.get(k, k): v for k, v in r.items()} for r in rows]


def xlsx_bytes(sheets: list[tuple[str, list[list[Any]]]], text_only: bool = True) -> bytes:
    """A workbook; each sheet a list of rows (row 1 first). `None` leaves a cell empty.

    Strings are always written as text (never as formulas); datetimes as Excel dates.
    """
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    wb.set_properties({"created": CREATED, "comments": "SYNTHETIC ewto test corpus"})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    for name, rows in sheets:
        ws = wb.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, dt.datetime):
                    ws.write_datetime(r, c, value, date_fmt)
                elif isinstance(value, bool):
                    ws.write_boolean(r, c, value)
                elif isinstance(value, int | float):
                    ws.write_number(r, c, value)
                else:
                    ws.write_string(r, c, str(value))
    wb.close()
    return buf.getvalue()


def table(rows: list[dict[str, str]], header: list[str] | None = None) -> list[list[Any]]:
    header = header or list(rows[0])
    return [header] + [[r.get(h, "") or None for h in header] for r in rows]


def parquet_bytes(frame: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.write_parquet(buf, compression="zstd", statistics=False)
    return buf.getvalue()


def jsonl_bytes(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            z.writestr(info, data)
    return buf.getvalue()


# ------------------------------------------------------------------ cases


@dataclass
class Case:
    file: str
    org: str
    dataset: str
    period: str
    status: str
    build: Callable[[Case], bytes] | None
    rows: int | None = None
    failures: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""
    export: dict[str, Any] | None = None  # registry `export:` override for this org
    # column -> landed values: a list (every row, in file order) or {source_row: value}
    lake: dict[str, Any] | None = None
    cli: bool = False  # also run through the `ewto` subprocess
    generated: bool = False  # built at test time (too big to commit)
    slow: bool = False

    @property
    def tag(self) -> str:
        return "T" + str(abs(hash_text(self.file)) % 10_000).zfill(4)

    def manifest_entry(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file": None if self.generated else self.file,
            "case": self.file,
            "org": self.org,
            "dataset": self.dataset,
            "period": self.period,
            "expected": {
                "status": self.status,
                "exit_code": {"accepted": 0, "rejected": 3}[self.status],
                **({"rows": self.rows} if self.rows is not None else {}),
                "failures": self.failures,
                "warnings": self.warnings,
            },
        }
        if self.note:
            out["note"] = self.note
        if self.export:
            out["export"] = self.export
        if self.lake:
            out["lake"] = self.lake
        if self.cli:
            out["cli"] = True
        if self.generated:
            out["generated"] = True
        if self.slow:
            out["slow"] = True
        return out


def hash_text(text: str) -> int:
    """A stable small hash (Python's hash() is salted per process)."""
    h = 0
    for ch in text.encode():
        h = (h * 131 + ch) % 1_000_003
    return h


def F(
    rule: str,
    column: str | None,
    rows_failing: int | None = None,
    examples: list[int] | None = None,
    **kw: Any,
) -> dict:
    out: dict[str, Any] = {"rule": rule, "column": column}
    if rows_failing is not None:
        out["rows_failing"] = rows_failing
    if examples is not None:
        out["examples"] = examples
    out.update(kw)
    return out


class Periods:
    """Consecutive months per organisation, so each case lands in its own lake partition."""

    def __init__(self) -> None:
        self.next: dict[str, int] = {}

    def __call__(self, org: str, start: str = "2019-01") -> str:
        y, m = month_of(start)
        k = self.next.get(org, 0)
        self.next[org] = k + 1
        idx = y * 12 + (m - 1) + k
        return f"{idx // 12:04d}-{idx % 12 + 1:02d}"


def base(case: Case, n: int = 10) -> list[dict[str, str]]:
    return takedown_rows(n, case.period, case.tag)


def mutate(rows: list[dict[str, str]], i: int, **values: str) -> list[dict[str, str]]:
    rows[i] = {**rows[i], **values}
    return rows


def next_month(period: str, day: int = 2) -> str:
    y, m = month_of(period)
    y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return f"{y:04d}-{m:02d}-{day:02d}T09:00:00"


# -- builders that need more than a mutation


def b_truncated_mid_row(c: Case) -> bytes:
    data = csv_bytes(base(c))
    last = data.rstrip(b"\n").rfind(b"\n") + 1  # start of the last row (row 9, line 11)
    cut = data.index(b"restricted", last) + len(b"restr")
    return data[:cut]


def b_truncated_mid_quote(c: Case) -> bytes:
    rows = base(c)
    for r in rows:
        r["species_scientific_name"] = f"{r['species_scientific_name']}, sensu lato"
    data = csv_bytes(rows)
    start = 0
    for _ in range(9):  # the 9th line break ends line 9: row 8 starts line 10
        start = data.index(b"\n", start) + 1
    cut = data.index(b", sensu", start)
    return data[:cut]


def b_short_row(c: Case) -> bytes:
    rows = base(c)
    lines = csv_text(rows).split("\n")
    fields = lines[4].split(",")  # line 5 = row 3: drop its detection_stage
    del fields[5]
    lines[4] = ",".join(fields)
    return "\n".join(lines).encode()


def b_binary(c: Case) -> bytes:
    rng = random.Random(20240101)
    return bytes(rng.randrange(256) for _ in range(4096))


def b_zip(c: Case) -> bytes:
    return zip_bytes({"takedowns.csv": csv_bytes(base(c))})


def b_ole(c: Case) -> bytes:
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)


def b_ragged(c: Case) -> bytes:
    text = csv_text(base(c))
    lines = text.split("\n")
    lines[5] = lines[5] + ",surplus"  # line 6 = row 4
    return "\n".join(lines).encode()


def b_empty_lines(c: Case, error: bool) -> bytes:
    rows = base(c)
    if error:
        rows[7]["commodity"] = "unicorn_horn"
    lines = csv_text(rows).split("\n")
    # header(1) r0(2) r1(3) r2(4) blank(5) r3(6) r4(7) r5(8) blank(9) r6(10) r7(11) r8 r9 blank blank
    out = lines[:4] + [""] + lines[4:7] + [""] + lines[7:11] + ["", "", ""]
    return "\n".join(out).encode()


def b_quoted_newlines(c: Case, error: bool) -> bytes:
    rows = base(c)
    rows[1]["species_scientific_name"] = "Loxodonta\nafricana"  # row 1: lines 3-4
    rows[2]["species_scientific_name"] = "Diceros\nbicornis\n(black rhino)"  # row 2: lines 5-7
    if error:
        rows[5]["commodity"] = "unicorn_horn"  # row 5: line 10
    return csv_bytes(rows)


def b_bom_concatenated(c: Case) -> bytes:
    rows = base(c)
    first = csv_text(rows[:5])
    second = csv_text(rows[5:])
    return b"\xef\xbb\xbf" + first.encode() + b"\xef\xbb\xbf" + second.encode()


def b_duplicate_header(c: Case) -> bytes:
    rows = base(c)
    header = TAKEDOWN_COLUMNS + ["commodity"]
    return csv_bytes(rows, header)


def b_mixed_offsets(c: Case) -> bytes:
    rows = base(c, 8)
    y, m = month_of(c.period)
    p = f"{y:04d}-{m:02d}"
    stamps = [
        f"{p}-10T10:00:00Z",
        f"{p}-10T10:00:00+08:00",
        f"{p}-10T10:00:00+0800",
        f"{p}-10T10:00:00-05:00",
        f"{p}-10T10:00:00+08",
        f"{p}-10T10:00:00",  # naive: Asia/Shanghai
        f"{p}-10 10:00",  # naive, no seconds
        f"{p}-10T10:00:00.250+08:00",
    ]
    for r, s in zip(rows, stamps, strict=True):
        r["detected_at"] = s
        r["actioned_at"] = f"{p}-12T10:00:00"
    return csv_bytes(rows)


def b_dst(c: Case, stamp: str) -> bytes:
    rows = base(c, 3)
    rows[1]["detected_at"] = stamp
    rows[1]["actioned_at"] = stamp
    return csv_bytes(rows)


def b_alibaba(c: Case, action: str = "下架") -> bytes:
    heads = {
        "record_id": "记录编号",
        "content_type": "内容类型",
        "detected_at": "发现时间",
        "actioned_at": "处理时间",
        "detection_source": "发现来源",
        "detection_stage": "发现阶段",
        "action_type": "处理方式",
        "commodity": "商品类别",
        "seller_id": "卖家编号",
        "species_scientific_name": "物种学名",
        "cites_appendix": "CITES附录",
        "seller_country": "卖家国家",
        "price": "价格",
        "currency": "币种",
        "appealed": "已申诉",
        "restored": "已恢复",
    }
    rows = base(c, 6)
    out = []
    for i, r in enumerate(rows):
        ts = "%Y/%m/%d %H:%M:%S"
        det = dt.datetime.fromisoformat(r["detected_at"]).strftime(ts)
        act = dt.datetime.fromisoformat(r["actioned_at"]).strftime(ts)
        out.append(
            {
                **{k: r[k] for k in heads},
                "detected_at": det,
                "actioned_at": act,
                "action_type": action if i == 3 else ("下架", "屏蔽", "限制")[i % 3],
                "detection_stage": ("发布前", "发布后")[i % 2],
                "appealed": "是" if i % 2 else "否",
                "restored": "否",
                "currency": "CNY",
            }
        )
    return csv_text(renamed(out, heads)).encode("gb18030")


def b_tencent_gbk(c: Case) -> bytes:
    rows = renamed(base(c, 6), {"record_id": "记录编号", "seller_id": "卖家编号"})
    for r in rows:
        r["species_scientific_name"] = "穿山甲 " + r["species_scientific_name"]
    return csv_text(rows).encode("gbk")


def b_mall_for_africa(c: Case) -> bytes:
    rows = base(c, 5)
    prices = ["1.234,50", "12,50", "0,99", "2.000", "7"]
    for r, p in zip(rows, prices, strict=True):
        for col in ("detected_at", "actioned_at"):
            r[col] = dt.datetime.fromisoformat(r[col]).strftime("%d/%m/%Y %H:%M")
        r["price"] = p
        r["currency"] = "NGN"
    return csv_bytes(rows, delimiter=";")


def b_etsy(c: Case) -> bytes:
    rows = base(c, 4)
    for r, a in zip(rows, ["takedown", "block", "removed", "Takedown"], strict=True):
        r["action_type"] = a
    return csv_bytes(rows, delimiter="\t")


def b_utf16(c: Case, kind: str) -> bytes:
    text = csv_text(base(c, 5))
    if kind == "le-bom":
        return b"\xff\xfe" + text.encode("utf-16-le")
    if kind == "be-bom":
        return b"\xfe\xff" + text.encode("utf-16-be")
    return text.encode("utf-16-le")


def google_records(c: Case) -> list[dict[str, Any]]:
    recs: list[dict[str, Any]] = []
    for r in base(c, 6):
        rec: dict[str, Any] = {k: v for k, v in r.items() if v != ""}
        rec["price"] = float(r["price"])
        rec["appealed"] = r["appealed"] == "true"
        rec["restored"] = r["restored"] == "true"
        recs.append(rec)
    return recs


def b_jsonl_broken(c: Case) -> bytes:
    lines = jsonl_bytes(google_records(c)).decode().split("\n")
    lines[3] = lines[3][: len(lines[3]) // 2]  # line 4 cut in half
    return "\n".join(lines).encode()


def b_jsonl_blank_lines(c: Case) -> bytes:
    recs = google_records(c)
    recs[4]["commodity"] = "unicorn_horn"
    lines = [json.dumps(r) for r in recs]
    # line 1 r0, 2 blank, 3 r1, 4 r2, 5 blank, 6 r3, 7 r4 (error), 8 r5
    return ("\n".join([lines[0], "", lines[1], lines[2], "", lines[3], lines[4], lines[5]]) + "\n").encode()


def microsoft_frame(c: Case, n: int = 6) -> pl.DataFrame:
    rows = base(c, n)
    return pl.DataFrame(rows).with_columns(
        pl.col("detected_at").str.strptime(pl.Datetime("us"), "%Y-%m-%dT%H:%M:%S"),
        pl.col("actioned_at").str.strptime(pl.Datetime("us"), "%Y-%m-%dT%H:%M:%S"),
        pl.col("price").cast(pl.Float64),
        pl.col("appealed") == "true",
        pl.col("restored") == "true",
    )


def b_parquet_aware(c: Case) -> bytes:
    frame = microsoft_frame(c).with_columns(
        pl.col("detected_at").dt.replace_time_zone("UTC"),
        pl.col("actioned_at").dt.replace_time_zone("UTC"),
    )
    return parquet_bytes(frame)


def b_parquet_truncated(c: Case) -> bytes:
    data = parquet_bytes(microsoft_frame(c))
    return data[: len(data) // 2]


def ebay_table(c: Case, n: int = 6, typed: bool = True) -> list[list[Any]]:
    rows = base(c, n)
    out = table(rows, TAKEDOWN_COLUMNS)
    if typed:
        for line, r in zip(out[1:], rows, strict=True):
            line[2] = dt.datetime.fromisoformat(r["detected_at"])
            line[3] = dt.datetime.fromisoformat(r["actioned_at"])
            line[13] = float(r["price"])
    return out


def b_xlsx_blank_rows(c: Case) -> bytes:
    t = ebay_table(c)
    t[5][7] = "unicorn_horn"  # row 4 of the data
    # sheet rows: 1 header, 2 r0, 3 r1, 4 blank, 5 r2, 6 r3, 7 blank, 8 r4 (error), 9 r5
    rows = [t[0], t[1], t[2], [], t[3], t[4], [], t[5], t[6]]
    return xlsx_bytes([("Takedowns", rows)])


def b_xlsx_leading_rows(c: Case) -> bytes:
    t = ebay_table(c)
    t[3][7] = "unicorn_horn"  # data row 2 -> sheet row 6 (header on row 3)
    return xlsx_bytes([("Takedowns", [[], [], *t])])


def b_formula_csv(c: Case) -> bytes:
    rows = base(c, 5)
    rows[0]["species_scientific_name"] = '=HYPERLINK("http://example.invalid/x","Loxodonta africana")'
    rows[1]["referral_id"] = "=1+2"
    rows[2]["species_scientific_name"] = "@SUM(A1:A9)"
    rows[3]["species_scientific_name"] = "+cmd|' /C calc'!A0"
    rows[4]["species_scientific_name"] = "-2+3"
    return csv_bytes(rows)


def b_formula_xlsx(c: Case) -> bytes:
    t = ebay_table(c, 3)
    t[1][10] = '=HYPERLINK("http://example.invalid/x","Loxodonta africana")'
    t[2][17] = "=1+2"
    return xlsx_bytes([("Takedowns", t)])


def mon(c: Case, n: int = 8) -> list[dict[str, str]]:
    return monitoring_rows(n, c.period, c.tag)


# -- test-time cases


def build_one_mb_line(c: Case) -> bytes:
    rows = base(c, 1)
    rows[0]["species_scientific_name"] = "Loxodonta africana " + "x" * (1 << 20)
    return csv_bytes(rows)


def build_one_mb_single_line(c: Case) -> bytes:
    return b"record_id" + b"y" * (1 << 20)


def write_five_million(path: Path, period: str = "2020-03", rows: int = 5_000_000) -> None:
    """A canonical takedowns CSV of `rows` rows (vectorised: a few seconds)."""
    canonical_frame(rows, period).write_csv(path)


def canonical_frame(n: int, period: str = "2020-03") -> pl.DataFrame:
    """n valid takedown rows for `period` (UTC), every canonical column, as text."""
    y, m = month_of(period)
    start = dt.datetime(y, m, 1)
    i = pl.col("i")

    def cycle(values: tuple[str, ...]) -> pl.Expr:
        return pl.lit(pl.Series(list(values))).gather(i % len(values))

    detected = pl.lit(start) + pl.duration(seconds=(i * 7919) % (27 * 86400))
    actioned = detected + pl.duration(seconds=60 + (i * 104729) % 86400)
    species = pl.Series([SPECIES[c][0] for c in COMMODITIES])
    appendix = pl.Series([SPECIES[c][1] for c in COMMODITIES])
    return pl.DataFrame({"i": pl.int_range(0, n, eager=True, dtype=pl.Int64)}).select(
        pl.format("BENCH-REC-{}", i).alias("record_id"),
        cycle(CONTENT_TYPES).alias("content_type"),
        detected.dt.strftime("%Y-%m-%dT%H:%M:%S").alias("detected_at"),
        actioned.dt.strftime("%Y-%m-%dT%H:%M:%S").alias("actioned_at"),
        cycle(DETECTION_SOURCES).alias("detection_source"),
        cycle(DETECTION_STAGES).alias("detection_stage"),
        cycle(ACTION_TYPES).alias("action_type"),
        cycle(COMMODITIES).alias("commodity"),
        pl.format("BENCH-SELLER-{}", (i * 31) % 250_000).alias("seller_id"),
        pl.lit("").alias("platform_id"),
        pl.lit(species).gather(i % len(COMMODITIES)).alias("species_scientific_name"),
        pl.lit(appendix).gather(i % len(COMMODITIES)).alias("cites_appendix"),
        cycle(COUNTRIES).alias("seller_country"),
        ((i * 37) % 99_000 / 100 + 1).round(2).cast(pl.String).alias("price"),
        pl.lit("USD").alias("currency"),
        pl.when(i % 5 == 0).then(pl.lit("true")).otherwise(pl.lit("false")).alias("appealed"),
        pl.when(i % 50 == 0).then(pl.lit("true")).otherwise(pl.lit("false")).alias("restored"),
        pl.lit("").alias("referral_id"),
    )


# ------------------------------------------------------------------ the corpus


def cases() -> list[Case]:
    P = Periods()
    R = "ruby_lane"  # a member with the default export: CSV, UTF-8, comma, ISO 8601, UTC
    out: list[Case] = []

    def add(file: str, org: str, status: str, build: Callable[[Case], bytes] | None, **kw: Any) -> Case:
        dataset = kw.pop("dataset", "monitoring" if org in ("traffic", "wwf", "ifaw") else "takedowns")
        period = kw.pop("period", None) or P(org)
        c = Case(file, org, dataset, period, status, build, **kw)
        out.append(c)
        return c

    cites_warning = [F("cites_consistency", "cites_appendix", 1)]

    # --- empty, header only, valid baselines
    add("empty_0_bytes.csv", R, "rejected", lambda c: b"", rows=0, failures=[F("empty_file", None)], cli=True)
    add(
        "blank_lines_only.csv",
        R,
        "rejected",
        lambda c: b"\n\r\n   \n\n",
        rows=0,
        failures=[F("empty_file", None)],
    )
    add(
        "header_only.csv",
        R,
        "accepted",
        lambda c: (",".join(TAKEDOWN_COLUMNS) + "\n").encode(),
        rows=0,
        note="a header and no rows is a valid report of zero actioned items",
    )
    add(
        "header_only_no_final_newline.csv",
        R,
        "accepted",
        lambda c: ",".join(TAKEDOWN_COLUMNS).encode(),
        rows=0,
    )
    add("valid_canonical.csv", R, "accepted", lambda c: csv_bytes(base(c)), rows=10)

    # --- columns
    add(
        "missing_required_column.csv",
        R,
        "rejected",
        lambda c: csv_bytes(base(c), [h for h in TAKEDOWN_COLUMNS if h != "commodity"]),
        rows=10,
        failures=[F("required_column", "commodity", 10, [])],
    )
    add(
        "misspelled_column.csv",
        R,
        "rejected",
        lambda c: csv_bytes(renamed(base(c), {"commodity": "comodity"})),
        rows=10,
        failures=[
            F("required_column", "commodity", 10, [], message_contains="did you mean the column 'comodity'")
        ],
        warnings=[F("unknown_column", "comodity")],
    )
    add(
        "unknown_extra_column.csv",
        R,
        "accepted",
        lambda c: csv_bytes([{**r, "internal_notes": "checked"} for r in base(c)]),
        rows=10,
        warnings=[F("unknown_column", "internal_notes", 0)],
        note="a column outside the contract is ignored with a warning",
    )
    add(
        "headers_case_and_spacing.csv",
        R,
        "accepted",
        lambda c: csv_bytes(
            renamed(
                base(c),
                {"record_id": "Record ID", "content_type": "Content-Type", "detected_at": " DETECTED_AT "},
            )
        ),
        rows=10,
    )
    add(
        "duplicate_header_names.csv",
        R,
        "rejected",
        b_duplicate_header,
        rows=0,
        failures=[F("duplicate_column", None, message_contains="'commodity' more than once")],
        cli=True,
    )
    add(
        "duplicate_unknown_columns.csv",
        R,
        "accepted",
        lambda c: csv_bytes(base(c), TAKEDOWN_COLUMNS + ["Notes", "Notes"]),
        rows=10,
        warnings=[F("unknown_column", "Notes"), F("unknown_column", "Notes_duplicated_0")],
        note="two columns outside the contract with one name are both ignored (the second is renamed)",
    )
    add(
        "duplicate_header_after_normalising.csv",
        R,
        "rejected",
        lambda c: csv_bytes([{**r, "Commodity": r["commodity"]} for r in base(c)]),
        rows=0,
        failures=[F("duplicate_column", None, message_contains="two columns for 'commodity'")],
    )

    # --- values and rules (line numbers: header = line 1, row i = line i + 2)
    add(
        "unparseable_timestamp.csv",
        R,
        "rejected",
        lambda c: csv_bytes(
            mutate(mutate(base(c), 3, detected_at="15/03/2019 10:00"), 7, detected_at="yesterday")
        ),
        rows=10,
        failures=[F("type", "detected_at", 2, [5, 9], example_values=["15/03/2019 10:00", "yesterday"])],
        cli=True,
    )
    add(
        "actioned_before_detected.csv",
        R,
        "rejected",
        b_before,
        rows=10,
        failures=[
            F(
                "ordering",
                "actioned_at",
                1,
                [4],
                example_values=["actioned_at 2020-02-07T07:14:00 < detected_at 2020-02-07T08:14:00"],
            )
        ],
    )
    add(
        "outside_period.csv",
        R,
        "rejected",
        lambda c: csv_bytes(
            mutate(
                mutate(base(c), 0, actioned_at=next_month(c.period)), 5, actioned_at=next_month(c.period, 3)
            )
        ),
        rows=10,
        failures=[F("period", "actioned_at", 2, [2, 7])],
    )
    add(
        "duplicate_record_id.csv",
        R,
        "rejected",
        lambda c: csv_bytes(mutate(base(c), 6, record_id=base(c)[1]["record_id"])),
        rows=10,
        failures=[F("unique", "record_id", 2, [3, 8], example_values=[])],
        note="record ids are never echoed: example_values is empty for pseudonymised columns",
    )
    add(
        "unknown_commodity.csv",
        R,
        "rejected",
        lambda c: csv_bytes(mutate(base(c), 4, commodity="unicorn_horn")),
        rows=10,
        failures=[F("domain", "commodity", 1, [6], example_values=["unicorn_horn"])],
        warnings=cites_warning,
    )
    add(
        "negative_price.csv",
        R,
        "rejected",
        lambda c: csv_bytes(mutate(base(c), 2, price="-5.00")),
        rows=10,
        failures=[F("range", "price", 1, [4])],
    )
    add(
        "price_with_currency_symbol.csv",
        R,
        "rejected",
        lambda c: csv_bytes(mutate(base(c), 1, price="$12.00")),
        rows=10,
        failures=[F("type", "price", 1, [3], example_values=["$12.00"])],
    )
    add(
        "missing_required_value.csv",
        R,
        "rejected",
        lambda c: csv_bytes(mutate(base(c), 3, seller_id="  ")),
        rows=10,
        failures=[F("required_value", "seller_id", 1, [5], example_values=[])],
    )
    add(
        "boolean_invalid.csv",
        R,
        "rejected",
        lambda c: csv_bytes(mutate(base(c), 5, appealed="maybe")),
        rows=10,
        failures=[F("type", "appealed", 1, [7], example_values=["maybe"])],
    )
    add(
        "platform_not_of_member.csv",
        R,
        "rejected",
        lambda c: csv_bytes(mutate(base(c), 3, platform_id="ebay")),
        rows=10,
        failures=[F("platform", "platform_id", 1, [5], example_values=["ebay"])],
    )
    add(
        "seller_country_not_iso.csv",
        R,
        "rejected",
        lambda c: csv_bytes(mutate(base(c), 2, seller_country="USA")),
        rows=10,
        failures=[F("format", "seller_country", 1, [4], example_values=["USA"])],
    )
    add(
        "currency_not_iso.csv",
        R,
        "rejected",
        lambda c: csv_bytes(mutate(base(c), 8, currency="US$")),
        rows=10,
        failures=[F("format", "currency", 1, [10], example_values=["US$"])],
    )
    add(
        "outlier_price.csv",
        R,
        "accepted",
        lambda c: csv_bytes(mutate(base(c), 6, price="2500000")),
        rows=10,
        warnings=[F("outlier", "price", 1, [8])],
    )
    add(
        "cites_inconsistent.csv",
        R,
        "accepted",
        lambda c: csv_bytes(mutate(base(c), 2, cites_appendix="II")),  # row 2 is pangolin (Appendix I)
        rows=10,
        warnings=[F("cites_consistency", "cites_appendix", 1, [4], example_values=["pangolin/II"])],
    )
    add(
        "future_period.csv",
        R,
        "rejected",
        lambda c: csv_bytes(base(c)),
        period="2031-01",
        rows=10,
        failures=[F("future", "actioned_at", 10, list(range(2, 12)))],
        note="every row is actioned after the file was received (2024-06): rule future",
    )

    # --- lenient spellings
    add(
        "uppercase_domain_values.csv",
        R,
        "accepted",
        lambda c: csv_bytes(
            mutate(
                mutate(
                    base(c),
                    0,
                    content_type="LISTING",
                    action_type=" Blocked ",
                    detection_stage="Pre-Publication",
                    detection_source="Automated Text",
                    commodity="IVORY",
                ),
                1,
                cites_appendix="i",
                seller_country="gb",
                currency="usd",
                platform_id="Ruby_Lane",
            )
        ),
        rows=10,
        lake={
            "content_type": ["listing", "post"],
            "action_type": ["blocked", "removed"],
            "detection_stage": ["pre_publication", "post_publication"],
            "detection_source": ["automated_text", "automated_image"],
            "commodity": ["ivory", "rhino_horn"],
            "cites_appendix": ["I", "I"],
            "seller_country": ["US", "GB"],
            "currency": ["USD", "USD"],
            "platform_id": ["ruby_lane", "ruby_lane"],
        },
    )
    add(
        "booleans_yes_no.csv",
        R,
        "accepted",
        lambda c: csv_bytes(
            [
                {**r, "appealed": a, "restored": s}
                for r, a, s in zip(
                    base(c),
                    ["yes", "no", "Y", "N", "1", "0", "TRUE", "False", "t", ""],
                    ["no", "no", "yes", "n", "0", "0", "false", "false", "f", ""],
                    strict=True,
                )
            ]
        ),
        rows=10,
        lake={
            "appealed": [True, False, True, False, True, False, True, False, True, False],
            "restored": [False, False, True, False, False, False, False, False, False, False],
        },
        note="an empty boolean is false (the contract's default)",
    )
    add(
        "thousands_separators.csv",
        R,
        "accepted",
        lambda c: csv_bytes(
            [
                {**r, "price": p}
                for r, p in zip(base(c, 4), ["1,234.50", "2,500", "999", "12,345.6"], strict=True)
            ]
        ),
        rows=4,
        lake={"price": [1234.5, 2500.0, 999.0, 12345.6]},
    )

    # --- line structure
    add("crlf_line_endings.csv", R, "accepted", lambda c: csv_bytes(base(c), newline="\r\n"), rows=10)
    add(
        "cr_only_line_endings.csv",
        R,
        "accepted",
        lambda c: csv_bytes(base(c), newline="\r"),
        rows=10,
        note="classic Mac OS line ends",
    )
    add("empty_lines_valid.csv", R, "accepted", lambda c: b_empty_lines(c, False), rows=10)
    add(
        "empty_lines_with_error.csv",
        R,
        "rejected",
        lambda c: b_empty_lines(c, True),
        rows=10,
        failures=[F("domain", "commodity", 1, [11], example_values=["unicorn_horn"])],
        warnings=[F("cites_consistency", "cites_appendix", 1, [11])],
        note="blank lines are skipped but counted: the example is the line number in the file",
    )
    add(
        "quoted_newlines_valid.csv",
        R,
        "accepted",
        lambda c: b_quoted_newlines(c, False),
        rows=10,
        lake={
            "source_row": [2, 3, 5, 8, 9, 10, 11, 12, 13, 14],
            "species_scientific_name": [
                "Loxodonta africana",
                "Loxodonta\nafricana",
                "Diceros\nbicornis\n(black rhino)",
                "Panthera tigris",
                "Panthera pardus",
                "Ursus thibetanus",
                "Eretmochelys imbricata",
                "Rhinoplax vigil",
                "Saiga tatarica",
                "Sphyrna lewini",
            ],
        },
    )
    add(
        "quoted_newlines_with_error.csv",
        R,
        "rejected",
        lambda c: b_quoted_newlines(c, True),
        rows=10,
        failures=[F("domain", "commodity", 1, [10], example_values=["unicorn_horn"])],
        warnings=[F("cites_consistency", "cites_appendix", 1, [10])],
    )
    add(
        "pipe_delimited_undeclared.csv",
        R,
        "accepted",
        lambda c: csv_bytes(base(c), delimiter="|"),
        rows=10,
        note="the delimiter is detected from the header line when the declared one is absent",
    )
    add(
        "ragged_extra_field.csv",
        R,
        "rejected",
        b_ragged,
        rows=0,
        failures=[F("csv_structure", None, message_contains="line 6 has 19 fields, the header has 18")],
    )
    add(
        "truncated_mid_row.csv",
        R,
        "rejected",
        b_truncated_mid_row,
        rows=0,
        failures=[F("csv_structure", None, message_contains="line 11 has 7 fields, the header has 18")],
        note="the last row was cut inside its action_type: a short row is a structure error, not empty values",
        cli=True,
    )
    add(
        "short_row_in_the_middle.csv",
        R,
        "rejected",
        lambda c: b_short_row(c),
        rows=0,
        failures=[F("csv_structure", None, message_contains="line 5 has 17 fields, the header has 18")],
        note="a row with a field left out: its values would shift into the wrong columns",
    )
    add(
        "truncated_mid_quote.csv",
        R,
        "rejected",
        b_truncated_mid_quote,
        rows=0,
        failures=[F("csv_structure", None, message_contains="starts on line 10 is not closed")],
        cli=True,
    )
    add(
        "bom_in_middle_concatenated.csv",
        R,
        "rejected",
        b_bom_concatenated,
        rows=11,
        failures=[
            F("domain", "content_type", 1, [7]),
            F("type", "detected_at", 1, [7]),
            F("type", "actioned_at", 1, [7]),
            F("domain", "detection_source", 1, [7]),
            F("domain", "detection_stage", 1, [7]),
            F("domain", "action_type", 1, [7]),
            F("domain", "commodity", 1, [7]),
            F("platform", "platform_id", 1, [7]),
            F("domain", "cites_appendix", 1, [7]),
            F("format", "seller_country", 1, [7]),
            F("type", "price", 1, [7]),
            F("format", "currency", 1, [7]),
            F("type", "appealed", 1, [7]),
            F("type", "restored", 1, [7]),
        ],
        warnings=[F("cites_consistency", "cites_appendix", 1, [7])],
        note="two exports concatenated: the second header (after a BOM) is read as a data row (line 7)",
    )

    # --- bytes that are not a table
    add("binary_garbage.csv", R, "rejected", b_binary, rows=0, failures=[F("encoding", None)], cli=True)
    add(
        "zip_renamed.csv",
        R,
        "rejected",
        b_zip,
        rows=0,
        failures=[F("file_type", None, message_contains="ZIP archive")],
        cli=True,
    )
    add(
        "xls_renamed.csv",
        R,
        "rejected",
        b_ole,
        rows=0,
        failures=[F("file_type", None, message_contains=".xls")],
    )

    # --- encodings
    add("utf8_bom.csv", R, "accepted", lambda c: b"\xef\xbb\xbf" + csv_bytes(base(c)), rows=10)
    add("utf16_le_bom_facebook.csv", "facebook", "accepted", lambda c: b_utf16(c, "le-bom"), rows=5)
    add("utf16_be_bom_facebook.csv", "facebook", "accepted", lambda c: b_utf16(c, "be-bom"), rows=5)
    add(
        "utf16_no_bom_facebook.csv",
        "facebook",
        "accepted",
        lambda c: b_utf16(c, "no-bom"),
        rows=5,
        note="UTF-16 without a BOM is recognised from its NUL bytes",
    )
    add(
        "gb18030_alibaba.csv",
        "alibaba",
        "accepted",
        b_alibaba,
        rows=6,
        lake={
            "action_type": ["removed", "blocked", "restricted", "removed", "blocked", "restricted"],
            "detection_stage": ["pre_publication", "post_publication"] * 3,
            "appealed": [False, True, False, True, False, True],
        },
    )
    add(
        "alibaba_unmapped_spelling.csv",
        "alibaba",
        "rejected",
        lambda c: b_alibaba(c, "删除"),
        rows=6,
        failures=[F("domain", "action_type", 1, [5], example_values=["删除"])],
    )
    add(
        "undeclared_gbk_tencent.csv",
        "tencent",
        "accepted",
        b_tencent_gbk,
        rows=6,
        lake={"species_scientific_name": ["穿山甲 " + SPECIES[COMMODITIES[i]][0] for i in range(6)]},
    )
    add(
        "semicolon_decimal_comma_mall_for_africa.csv",
        "mall_for_africa",
        "accepted",
        b_mall_for_africa,
        rows=5,
        lake={"price": [1234.5, 12.5, 0.99, 2000.0, 7.0]},
    )
    add(
        "tab_delimited_etsy.tsv",
        "etsy",
        "accepted",
        b_etsy,
        rows=4,
        lake={"action_type": ["removed", "blocked", "removed", "removed"]},
    )

    # --- time zones
    c = add(
        "mixed_offsets_baidu.csv",
        "baidu",
        "accepted",
        b_mixed_offsets,
        rows=8,
        note="baidu reports in Asia/Shanghai: naive times are UTC+8",
    )
    p = c.period
    c.lake = {
        "detected_at": [
            f"{p}-10T10:00:00",
            f"{p}-10T02:00:00",
            f"{p}-10T02:00:00",
            f"{p}-10T15:00:00",
            f"{p}-10T02:00:00",
            f"{p}-10T02:00:00",
            f"{p}-10T02:00:00",
            f"{p}-10T02:00:00.250000",
        ]
    }
    c = add(
        "dst_ambiguous_fall_back_synthetic_02.csv",
        "synthetic_02",
        "accepted",
        lambda c: b_dst(c, "2020-10-25T02:30:00"),
        period="2020-10",
        rows=3,
        note="Europe/Berlin: 02:30 happens twice on 2020-10-25; the first (CEST, UTC+2) is used",
    )
    c.lake = {"detected_at": {3: "2020-10-25T00:30:00"}}
    c = add(
        "dst_nonexistent_spring_forward_synthetic_02.csv",
        "synthetic_02",
        "accepted",
        lambda c: b_dst(c, "2020-03-29T02:30:00"),
        period="2020-03",
        rows=3,
        note="Europe/Berlin: 02:30 does not exist on 2020-03-29; read as 03:00 CEST, the first instant after",
    )
    c.lake = {"detected_at": {3: "2020-03-29T01:00:00"}}
    c = add(
        "dst_gap_keeps_order_synthetic_03.csv",
        "synthetic_03",
        "accepted",
        lambda c: csv_bytes(
            mutate(base(c, 3), 1, detected_at="2020-03-08T02:40:00", actioned_at="2020-03-08T03:05:00")
        ),
        period="2020-03",
        rows=3,
        note="America/New_York: detected 02:40 (skipped hour, read as 03:00 EDT) stays before actioned 03:05",
    )
    c.lake = {"detected_at": {3: "2020-03-08T07:00:00"}, "actioned_at": {3: "2020-03-08T07:05:00"}}
    c = add(
        "local_month_edge_synthetic_03.csv",
        "synthetic_03",
        "accepted",
        lambda c: b_dst(c, "2020-01-31T23:30:00"),
        period="2020-01",
        rows=3,
        note="America/New_York: 23:30 on 31 January is February in UTC but January for the period rule",
    )
    c.lake = {"detected_at": {3: "2020-02-01T04:30:00"}}

    # --- formulas are text
    add(
        "formula_strings.csv",
        R,
        "accepted",
        b_formula_csv,
        rows=5,
        lake={
            "species_scientific_name": [
                '=HYPERLINK("http://example.invalid/x","Loxodonta africana")',
                "Diceros bicornis",
                "@SUM(A1:A9)",
                "+cmd|' /C calc'!A0",
                "-2+3",
            ],
            "referral_id": [None, "=1+2", None, None, None],
        },
        note="formula-looking text is data: kept literally, never evaluated",
    )
    add(
        "formula_in_domain_column.csv",
        R,
        "rejected",
        lambda c: csv_bytes(mutate(base(c), 0, commodity='=HYPERLINK("http://example.invalid","ivory")')),
        rows=10,
        failures=[
            F(
                "domain",
                "commodity",
                1,
                [2],
                example_values=['=HYPERLINK("http://example.invalid","ivory")'],
            )
        ],
        warnings=cites_warning,
    )

    # --- JSON Lines (google) and Parquet (microsoft)
    add(
        "jsonl_typed_values_google.jsonl",
        "google",
        "accepted",
        lambda c: jsonl_bytes(google_records(c)),
        rows=6,
    )
    add(
        "jsonl_broken_line_google.jsonl",
        "google",
        "rejected",
        b_jsonl_broken,
        rows=0,
        failures=[F("jsonl_structure", None, message_contains="line 4 is not valid JSON")],
        cli=True,
    )
    add(
        "jsonl_array_google.json",
        "google",
        "rejected",
        lambda c: json.dumps(google_records(c)).encode(),
        rows=0,
        failures=[F("jsonl_structure", None, message_contains="not an array")],
    )
    add(
        "jsonl_blank_lines_google.jsonl",
        "google",
        "rejected",
        b_jsonl_blank_lines,
        rows=6,
        failures=[F("domain", "commodity", 1, [7], example_values=["unicorn_horn"])],
        warnings=cites_warning,
    )
    add(
        "parquet_typed_microsoft.parquet",
        "microsoft",
        "accepted",
        lambda c: parquet_bytes(microsoft_frame(c)),
        rows=6,
    )
    add("parquet_utc_timestamps_microsoft.parquet", "microsoft", "accepted", b_parquet_aware, rows=6)
    add(
        "parquet_truncated_microsoft.parquet",
        "microsoft",
        "rejected",
        b_parquet_truncated,
        rows=0,
        failures=[F("file_readable", None)],
    )

    # --- XLSX (ebay, America/Los_Angeles)
    add(
        "xlsx_datetime_cells_ebay.xlsx",
        "ebay",
        "accepted",
        lambda c: xlsx_bytes([("Takedowns", ebay_table(c))]),
        rows=6,
    )
    add(
        "xlsx_header_only_ebay.xlsx",
        "ebay",
        "accepted",
        lambda c: xlsx_bytes([("Takedowns", [TAKEDOWN_COLUMNS])]),
        rows=0,
    )
    add(
        "xlsx_first_sheet_empty_ebay.xlsx",
        "ebay",
        "rejected",
        lambda c: xlsx_bytes([("Sheet1", []), ("Takedowns", ebay_table(c))]),
        rows=0,
        failures=[F("sheet", None, message_contains="on sheet 'Takedowns'")],
        cli=True,
    )
    add(
        "xlsx_cover_note_first_ebay.xlsx",
        "ebay",
        "rejected",
        lambda c: xlsx_bytes(
            [
                ("About", [["Takedowns export, SYNTHETIC"], [], ["Data on the next sheet"]]),
                ("Data", ebay_table(c)),
            ]
        ),
        rows=0,
        failures=[F("sheet", None, message_contains="holds no table")],
    )
    add(
        "xlsx_named_sheet_ebay.xlsx",
        "ebay",
        "accepted",
        lambda c: xlsx_bytes(
            [
                ("About", [["Takedowns export, SYNTHETIC"], [], ["Data on the next sheet"]]),
                ("Data", ebay_table(c)),
            ]
        ),
        rows=6,
        export={"format": "xlsx", "sheet": "Data"},
        note="the registry names the sheet (export: sheet: Data)",
    )
    add(
        "xlsx_named_sheet_missing_ebay.xlsx",
        "ebay",
        "rejected",
        lambda c: xlsx_bytes([("Sheet1", ebay_table(c))]),
        rows=0,
        export={"format": "xlsx", "sheet": "Data"},
        failures=[F("sheet", None, message_contains="no sheet named 'Data'")],
    )
    add(
        "xlsx_empty_workbook_ebay.xlsx",
        "ebay",
        "rejected",
        lambda c: xlsx_bytes([("Sheet1", [])]),
        rows=0,
        failures=[F("empty_file", None)],
    )
    add(
        "xlsx_blank_rows_ebay.xlsx",
        "ebay",
        "rejected",
        b_xlsx_blank_rows,
        rows=6,
        failures=[F("domain", "commodity", 1, [8], example_values=["unicorn_horn"])],
        warnings=cites_warning,
        note="blank spreadsheet rows are skipped but counted: the example is the sheet row",
    )
    add(
        "xlsx_leading_empty_rows_ebay.xlsx",
        "ebay",
        "rejected",
        b_xlsx_leading_rows,
        rows=6,
        failures=[F("domain", "commodity", 1, [6], example_values=["unicorn_horn"])],
        warnings=cites_warning,
        note="the header is on sheet row 3: example rows are sheet rows",
    )
    add(
        "xlsx_formula_strings_ebay.xlsx",
        "ebay",
        "accepted",
        b_formula_xlsx,
        rows=3,
        lake={
            "species_scientific_name": [
                '=HYPERLINK("http://example.invalid/x","Loxodonta africana")',
                "Diceros bicornis",
                "Manis pentadactyla",
            ],
            "referral_id": [None, "=1+2", None],
        },
    )

    # --- monitoring (traffic: CSV; wwf: XLSX; ifaw: JSON Lines)
    T = "traffic"
    add("monitoring_valid.csv", T, "accepted", lambda c: csv_bytes(mon(c)), rows=8)
    add(
        "monitoring_text_in_queries_run.csv",
        T,
        "rejected",
        lambda c: csv_bytes(mutate(mon(c), 2, queries_run="twelve")),
        rows=8,
        failures=[F("type", "queries_run", 1, [4], example_values=["twelve"])],
    )
    add(
        "monitoring_referred_above_found.csv",
        T,
        "rejected",
        lambda c: csv_bytes(mutate(mon(c), 3, new_adverts_found="2", adverts_referred="5")),
        rows=8,
        failures=[
            F(
                "referred_le_found",
                "adverts_referred",
                1,
                [5],
                example_values=["new_adverts_found 2 < adverts_referred 5"],
            )
        ],
    )
    add(
        "monitoring_queries_run_zero.csv",
        T,
        "rejected",
        lambda c: csv_bytes(mutate(mon(c), 1, queries_run="0")),
        rows=8,
        failures=[F("range", "queries_run", 1, [3])],
    )
    add(
        "monitoring_negative_adverts.csv",
        T,
        "rejected",
        lambda c: csv_bytes(mutate(mon(c), 6, new_adverts_found="-1", adverts_referred="")),
        rows=8,
        failures=[F("range", "new_adverts_found", 1, [8])],
    )
    add(
        "monitoring_window_outside_period.csv",
        T,
        "rejected",
        lambda c: csv_bytes(
            mutate(mon(c), 4, window_start=next_month(c.period)[:10], window_end=next_month(c.period, 3)[:10])
        ),
        rows=8,
        failures=[F("period", "window_start", 1, [6])],
    )
    add(
        "monitoring_window_end_before_start.csv",
        T,
        "rejected",
        lambda c: csv_bytes(mutate(mon(c), 5, window_end=f"{c.period}-01", window_start=f"{c.period}-09")),
        rows=8,
        failures=[
            F(
                "ordering",
                "window_end",
                1,
                [7],
                example_values=["window_end 2019-07-01 < window_start 2019-07-09"],
            )
        ],
    )
    add(
        "monitoring_unknown_platform.csv",
        T,
        "rejected",
        lambda c: csv_bytes(mutate(mon(c), 0, platform_id="darkweb_x")),
        rows=8,
        failures=[F("platform", "platform_id", 1, [2], example_values=["darkweb_x"])],
    )
    add(
        "monitoring_bad_language_tag.csv",
        T,
        "rejected",
        lambda c: csv_bytes(mutate(mon(c), 7, language="Chinese (simplified)")),
        rows=8,
        failures=[F("format", "language", 1, [9])],
    )
    add(
        "monitoring_duplicate_observation.csv",
        T,
        "accepted",
        lambda c: csv_bytes(mon(c) + [{**mon(c)[2], "survey_id": "again"}]),
        rows=9,
        warnings=[F("duplicate_observation", "keyword_id", 2, [4, 10])],
    )
    add(
        "monitoring_thousands_and_float_integers.csv",
        T,
        "accepted",
        lambda c: csv_bytes(
            mutate(mutate(mon(c), 0, queries_run="1,200", new_adverts_found="1,005"), 1, queries_run="12.0")
        ),
        rows=8,
        lake={"queries_run": [1200, 12, 7, 8, 9, 10, 11, 12]},
    )
    add(
        "monitoring_window_end_in_future.csv",
        T,
        "rejected",
        lambda c: csv_bytes(mutate(mon(c), 3, window_end="2031-01-01")),
        rows=8,
        failures=[F("future", "window_end", 1, [5], example_values=["2031-01-01"])],
    )
    add(
        "monitoring_wwf.xlsx",
        "wwf",
        "accepted",
        lambda c: xlsx_bytes(
            [("Monitoring", table(monitoring_rows(8, c.period, c.tag, ("ebay", "etsy", "tiktok"))))]
        ),
        rows=8,
    )
    add(
        "monitoring_ifaw.jsonl",
        "ifaw",
        "accepted",
        lambda c: jsonl_bytes(
            [
                {**r, "queries_run": int(r["queries_run"]), "new_adverts_found": int(r["new_adverts_found"])}
                for r in monitoring_rows(8, c.period, c.tag, ("mall_for_africa", "synthetic_social_c"))
            ]
        ),
        rows=8,
    )

    # --- built at test time (not committed)
    add(
        "one_mb_line.csv",
        R,
        "accepted",
        build_one_mb_line,
        rows=1,
        generated=True,
        note="one data line of 1 MB (a 1 MB species name) is read, kept and landed",
    )
    add(
        "one_mb_single_line.csv",
        R,
        "rejected",
        build_one_mb_single_line,
        rows=0,
        generated=True,
        failures=[F("header", None, message_contains="column name of 1,048,585 characters")],
        note="1 MB without a line break: not a header",
    )
    add(
        "five_million_rows.csv",
        R,
        "accepted",
        None,
        period="2020-03",
        rows=5_000_000,
        generated=True,
        slow=True,
        note="built by write_five_million(); marked slow",
    )
    return out


def b_before(c: Case) -> bytes:
    rows = base(c)
    det = dt.datetime.fromisoformat(rows[2]["detected_at"])
    rows[2]["actioned_at"] = (det - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    return csv_bytes(rows)


def by_name() -> dict[str, Case]:
    return {c.file: c for c in cases()}


def render_manifest(all_cases: list[Case]) -> str:
    header = (
        "# The intake's bad-input corpus: GENERATED by tests/corpus/make_corpus.py, do not edit.\n"
        "# One entry per case: the file (in files/; null when built at test time), who submits it,\n"
        "# and what the intake must answer. Row numbers are line numbers for CSV/JSON Lines\n"
        "# (header = line 1) and sheet rows for XLSX. All data are SYNTHETIC.\n"
    )
    body = yaml.safe_dump(
        {"cases": [c.manifest_entry() for c in all_cases]},
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )
    return header + body


def write(out_dir: Path = FILES, manifest: Path = MANIFEST) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    all_cases = cases()
    written = []
    for c in all_cases:
        if c.generated or c.build is None:
            continue
        path = out_dir / c.file
        path.write_bytes(c.build(c))
        written.append(path)
    manifest.write_text(render_manifest(all_cases), encoding="utf-8")
    return written


def check(out_dir: Path = FILES, manifest: Path = MANIFEST) -> list[str]:
    """Names of files (and the manifest) that differ from what this script builds."""
    drift = []
    all_cases = cases()
    for c in all_cases:
        if c.generated or c.build is None:
            continue
        path = out_dir / c.file
        if not path.exists() or path.read_bytes() != c.build(c):
            drift.append(c.file)
    if not manifest.exists() or manifest.read_text(encoding="utf-8") != render_manifest(all_cases):
        drift.append(manifest.name)
    return drift


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 when the committed corpus drifts")
    args = ap.parse_args()
    if args.check:
        drift = check()
        for name in drift:
            print(f"drift: {name}")
        return 1 if drift else 0
    written = write()
    print(f"wrote {len(written)} files and {MANIFEST.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
