"""Tests of the SYNTHETIC export simulator (ingestion/simulate): real files in tmp_path."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from pathlib import Path

import polars as pl
import pytest

from ingestion.contract import CITES_APPENDICES, COMMODITIES, columns
from ingestion.registry import Organisation, Registry, load_registry
from ingestion.simulate import (
    SimulationSummary,
    keyword_panel,
    monitoring_expected,
    n_keywords,
    simulate,
    takedown_counts,
)
from ingestion.simulate import model as M
from ingestion.simulate import rows as R
from ingestion.simulate import tables as T

EXT = {"csv": "csv", "xlsx": "xlsx", "jsonl": "jsonl", "parquet": "parquet"}
ISO = "%Y-%m-%dT%H:%M:%S"


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry()


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> SimulationSummary:
    """The default run: 2012-01..2021-12, scale 0.01, seed 42."""
    return simulate(tmp_path_factory.mktemp("full"))


# ------------------------------------------------------------------ reading files back


def read_raw(path: Path, org: Organisation) -> pl.DataFrame:
    """A file as its organisation wrote it, every column as read by polars."""
    fmt = org.export
    if fmt.format == "csv":
        data = path.read_bytes()
        if fmt.encoding == "utf-16":
            assert data.startswith(b"\xff\xfe"), "UTF-16 files carry a BOM"
            text = data.decode("utf-16")
        elif fmt.encoding in ("gb18030", "detect"):
            text = data.decode("gb18030")
        else:
            text = data.decode("utf-8-sig")
        return pl.read_csv(io.StringIO(text), separator=fmt.delimiter, infer_schema=False)
    if fmt.format == "xlsx":
        # scan every row for the column types: optional columns may start with empty cells
        return pl.read_excel(path, raise_if_empty=False, infer_schema_length=None)
    if fmt.format == "jsonl":
        return pl.read_ndjson(path, infer_schema_length=None) if path.stat().st_size else pl.DataFrame()
    if fmt.format == "parquet":
        return pl.read_parquet(path)
    raise AssertionError(fmt.format)


def to_canonical(raw: pl.DataFrame, org: Organisation, dataset: str) -> pl.DataFrame:
    """Apply the registry's mapping: their headers and spellings -> the contract."""
    fmt = org.export
    df = raw.rename({c: fmt.columns[c] for c in raw.columns if c in fmt.columns})
    exprs = []
    for c in df.columns:
        e = pl.col(c).cast(pl.String)
        if fmt.decimal_comma and c == "price":
            e = e.str.replace(",", ".", literal=True)
        if c in fmt.values:
            e = e.replace(fmt.values[c])
        exprs.append(e.alias(c))
    return df.select(exprs) if exprs else df


def violations(
    df: pl.DataFrame, dataset: str, org: Organisation, period: str, platforms: set[str]
) -> set[str]:
    """The blocking rules of the contract (domain.md section 3) that the frame breaks."""
    out: set[str] = set()
    cols = columns(dataset)
    for c in cols:
        if c.required and c.name not in df.columns:
            out.add(f"missing:{c.name}")
    if out or df.height == 0:
        return out
    ts_fmt = org.export.timestamp_format or ISO
    for c in cols:
        if c.name not in df.columns:
            continue
        s = df[c.name]
        if c.required and s.null_count():
            out.add(f"null:{c.name}")
        v = s.drop_nulls()
        if c.domain is not None and not v.is_in(list(c.domain)).all():
            out.add(f"domain:{c.name}")
        if c.kind == "integer" and v.cast(pl.Int64, strict=False).null_count():
            out.add(f"type:{c.name}")
        if c.kind == "decimal" and v.cast(pl.Float64, strict=False).null_count():
            out.add(f"type:{c.name}")
        if c.kind == "boolean" and not v.is_in(["true", "false"]).all():
            out.add(f"type:{c.name}")
        if c.kind == "timestamp" and v.str.strptime(pl.Datetime, ts_fmt, strict=False).null_count():
            out.add(f"type:{c.name}")
        if c.kind == "date" and v.str.strptime(pl.Date, "%Y-%m-%d", strict=False).null_count():
            out.add(f"type:{c.name}")
    if out:
        return out
    if dataset == "takedowns":
        t = df.with_columns(pl.col("detected_at", "actioned_at").str.strptime(pl.Datetime, ts_fmt))
        if t["record_id"].n_unique() != t.height:
            out.add("unique:record_id")
        if (t["detected_at"] > t["actioned_at"]).any():
            out.add("actioned_before_detected")
        if (t["actioned_at"].dt.strftime("%Y-%m") != period).any():
            out.add("period:actioned_at")
        if "platform_id" in t.columns and not t["platform_id"].is_in(list(org.platforms)).all():
            out.add("domain:platform_id")
        if "price" in t.columns and (t["price"].cast(pl.Float64) < 0).any():
            out.add("range:price")
    else:
        m = df.with_columns(
            pl.col("window_start", "window_end").str.strptime(pl.Date, "%Y-%m-%d"),
            pl.col("queries_run", "new_adverts_found", "adverts_referred").cast(pl.Int64),
        )
        if (m["window_start"].dt.strftime("%Y-%m") != period).any():
            out.add("period:window_start")
        if (m["window_end"] < m["window_start"]).any():
            out.add("window_order")
        if (m["queries_run"] <= 0).any() or (m["new_adverts_found"] < 0).any():
            out.add("range:counts")
        if (m["adverts_referred"] > m["new_adverts_found"]).any() or (m["adverts_referred"] < 0).any():
            out.add("referred_above_found")
        if not m["platform_id"].is_in(list(platforms)).all():
            out.add("domain:platform_id")
    return out


EXPECTED_RULE = {
    "actioned_before_detected": "actioned_before_detected",
    "unknown_commodity": "domain:commodity",
    "duplicate_record_id": "unique:record_id",
    "actioned_outside_period": "period:actioned_at",
    "text_in_queries_run": "type:queries_run",
    "referred_above_found": "referred_above_found",
    "window_outside_period": "period:window_start",
}


def read_file(out: Path, f, registry: Registry) -> pl.DataFrame:
    org = registry.org(f.org_id)
    return to_canonical(read_raw(out / f.path, org), org, f.dataset)


def digest(root: Path) -> dict[str, tuple[str, float]]:
    return {
        str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# ----------------------------------------------------------------------- the model


def test_calibration_cumulative_totals(registry: Registry) -> None:
    df = takedown_counts(registry, "2018-03", "2021-12", seed=42)
    by_month = df.group_by("period").agg(pl.col("count_1").sum()).sort("period")
    cum = dict(zip(by_month["period"], by_month["count_1"].cum_sum(), strict=True))
    assert cum["2020-03"] == pytest.approx(3_335_381, rel=0.02)
    assert cum["2021-09"] == pytest.approx(11_631_819, rel=0.02)
    assert 12_000_000 <= cum["2021-12"] <= 13_500_000
    ebay = df.filter(pl.col("org_id") == "ebay").with_columns(year=pl.col("period").str.head(4))
    yearly = dict(ebay.group_by("year").agg(pl.col("count_1").sum()).iter_rows())
    assert yearly["2019"] == pytest.approx(165_000, rel=0.03)
    assert yearly["2020"] == pytest.approx(257_000, rel=0.03)
    assert yearly["2021"] == pytest.approx(389_000, rel=0.1)


def test_rows_scale_linearly(registry: Registry) -> None:
    df = takedown_counts(registry, "2019-01", "2019-12", seed=7, scale=0.01)
    expected = (pl.col("count_1") * 0.01 + 0.5).floor().cast(pl.Int64)
    assert df.select((pl.col("rows") == expected).all()).item()
    assert takedown_counts(registry, "2019-01", "2019-03", scale=0.0)["rows"].sum() == 0
    big = takedown_counts(registry, "2019-01", "2019-03", scale=2.0)
    assert big["rows"].sum() == pytest.approx(2 * big["count_1"].sum(), abs=big.height)


def test_members_active_only_while_members(registry: Registry) -> None:
    df = takedown_counts(registry, "2012-01", "2021-12")
    first = dict(df.group_by("org_id").agg(pl.col("period").min()).iter_rows())
    last = dict(df.group_by("org_id").agg(pl.col("period").max()).iter_rows())
    assert first["alibaba"] == "2018-03" and first["tiktok"] == "2021-03"
    assert last["synthetic_03"] == "2021-11"  # left 2021-11-30
    assert "synthetic_11" not in set(takedown_counts(registry, "2012-01", "2019-12")["org_id"])


def test_monitoring_drop_2017_2018(registry: Registry) -> None:
    df = monitoring_expected(registry, "2012-01", "2021-12")
    panel = M.founding_panel(registry)
    assert {"qyer", "ruby_lane", "pinterest"}.isdisjoint(panel) and len(panel) >= 15

    def drop(platforms: list[str]) -> float:
        s = df.filter(pl.col("platform_id").is_in(platforms)).group_by("period").agg(pl.col("adverts").sum())
        early = s.filter(pl.col("period") < "2017-01")["adverts"].mean()
        late = s.filter(pl.col("period").is_between(pl.lit("2017-01"), pl.lit("2018-12")))
        return 1 - late["adverts"].mean() / early

    assert drop(panel) == pytest.approx(0.73, abs=0.01)
    founding = [p for m in registry.members if m.founding for p in m.platforms]
    assert drop(founding) == pytest.approx(0.73, abs=0.04)
    # TRAFFIC's China series: > 2,000 new adverts a month in 2012, < 1,000 by December 2016
    china = [p for p in panel if registry.org(p).timezone == "Asia/Shanghai"]
    s = (
        df.filter(pl.col("platform_id").is_in(china))
        .group_by("period")
        .agg((pl.col("adverts").sum() * T.KEYWORD_PANEL_SIZE).alias("n"))
    )
    month = dict(s.iter_rows())
    assert month["2012-01"] > 2000 and month["2016-12"] < 1000


def _reduction(df: pl.DataFrame, platform: str, base_months: list[str], months: list[str]) -> float:
    d = df.filter(pl.col("platform_id") == platform)
    b = d.filter(pl.col("period").is_in(base_months))
    w = d.filter(pl.col("period").is_in(months))
    return 1 - (w["adverts"].sum() / w["queries"].sum()) / (b["adverts"].sum() / b["queries"].sum())


def test_platform_trajectories_differ(registry: Registry) -> None:
    df = monitoring_expected(registry, "2012-01", "2021-12")
    base = [M.period_of(i) for i in range(M.LAUNCH - 12, M.LAUNCH)]
    end_2020 = ["2020-10", "2020-11", "2020-12"]
    red = {p: _reduction(df, p, base, end_2020) for m in registry.members if m.founding for p in m.platforms}
    assert sum(r >= 0.8 for r in red.values()) >= 5
    assert sum(0.3 <= r <= 0.5 for r in red.values()) >= 2
    assert sum(r < 0 for r in red.values()) >= 1
    for p in ("synthetic_forum_a", "synthetic_marketplace_b", "synthetic_social_c", "synthetic_messaging_d"):
        assert _reduction(df, p, base, ["2021-10", "2021-11", "2021-12"]) < -0.2  # displacement


def test_keyword_panel() -> None:
    assert n_keywords(1.0) == 112 and n_keywords(0.01) == 8 and n_keywords(0.0001) == 8
    panel = keyword_panel(112)
    assert [k[0] for k in panel[:3]] == ["kw001", "kw002", "kw003"]
    assert [k[:2] for k in keyword_panel(8)] == [k[:2] for k in panel[:8]]  # frozen prefix
    assert len({c for _, c, _ in keyword_panel(8)}) >= 5
    share: dict[str, float] = {}
    for _, c, w in panel:  # expected advert mix = the 2016 mix
        share[c] = share.get(c, 0) + w / len(panel)
    total = sum(T.MIX_2016.values())
    assert share == pytest.approx({c: v / total for c, v in T.MIX_2016.items()})


def test_takedown_rows_realistic(registry: Registry) -> None:
    cal = M.calibrate(registry)
    org = registry.org("alibaba")

    def frame(period: str):
        return R.takedown_frame(org, M.month_index(period), 20_000, M.rng_for(1, period), cal, 1.0)

    early, late = frame("2018-04"), frame("2021-06")
    pro = ["automated_text", "automated_image", "internal_review"]

    def stats(df):
        hours = (df["actioned_at"] - df["detected_at"]).dt.total_seconds() / 3600
        return (
            df["detection_source"].is_in(pro).mean(),
            (df["detection_stage"] == "pre_publication").mean(),
            hours.median(),
        )

    (p0, s0, h0), (p1, s1, h1) = stats(early), stats(late)
    assert p1 > p0 + 0.1 and s1 > s0 + 0.1 and h1 < h0
    assert late["appealed"].mean() == pytest.approx(0.02, abs=0.005)
    assert 0 < late["restored"].sum() < late["appealed"].sum()
    assert (late["detected_at"] <= late["actioned_at"]).all()
    assert late["record_id"].n_unique() == late.height
    # commodity mix like the 2016 mix: ivory leads, then rhino horn
    mix = late["commodity"].value_counts(sort=True)
    assert mix["commodity"][0] == "ivory" and mix["commodity"][1] == "rhino_horn"
    # CITES appendix consistent with the commodity and species
    allowed = {(c, s, a) for c, opts in T.SPECIES.items() for s, a, _ in opts}
    triples = set(late.select("commodity", "species_scientific_name", "cites_appendix").unique().iter_rows())
    assert triples <= allowed
    assert set(late["cites_appendix"]) <= set(CITES_APPENDICES)
    # repeat sellers across months
    assert len(set(early["seller_id"]) & set(frame("2018-05")["seller_id"])) > 100


def test_local_times_are_unambiguous(registry: Registry) -> None:
    cal = M.calibrate(registry)
    for org_id, period in (("ebay", "2020-11"), ("synthetic_02", "2021-10"), ("synthetic_03", "2021-03")):
        org = registry.org(org_id)
        df = R.takedown_frame(org, M.month_index(period), 30_000, M.rng_for(3), cal, 1.0)
        for c in ("detected_at", "actioned_at"):  # raises on ambiguous or missing wall times
            df[c].dt.replace_time_zone(org.timezone, ambiguous="raise", non_existent="raise")
        assert (df["actioned_at"].dt.strftime("%Y-%m") == period).all()


# ----------------------------------------------------------------- the written files


def test_layout_and_readme(full: SimulationSummary, registry: Registry) -> None:
    out = full.out
    readme = (out / "README.txt").read_text(encoding="utf-8")
    assert "SYNTHETIC" in readme and "SYNTHETIC" in full.as_text()
    data = sorted(
        p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and p.name != "README.txt"
    )
    assert len(data) == full.files_written == len(full.files)
    assert sorted(f.path for f in full.files) == data
    for rel in data:
        org_id, dataset, name = rel.split("/")
        org = registry.org(org_id)
        assert dataset in org.datasets()
        pat = rf"{re.escape(org_id)}_{dataset}_(\d{{4}}-\d{{2}})(_v2)?\.{EXT[org.export.format]}"
        assert re.fullmatch(pat, name), rel
    months = M.periods("2012-01", "2021-12")
    for ngo in registry.monitors:
        got = {f.period for f in full.files if f.org_id == ngo.id and f.version == 1}
        assert got == set(months), ngo.id
    td = {(f.org_id, f.period) for f in full.files if f.dataset == "takedowns"}
    td |= {(o, p) for o, d, p in full.never_delivered if d == "takedowns"}
    for org in registry.members:
        want = {(org.id, p) for p in months if org.active_in(M.first_day(M.month_index(p)))}
        assert {k for k in td if k[0] == org.id} == want, org.id


def test_row_counts_follow_the_model(full: SimulationSummary, registry: Registry) -> None:
    counts = takedown_counts(registry, "2012-01", "2021-12", seed=42, scale=0.01)
    rows = {(o, p): n for o, p, n in counts.select("org_id", "period", "rows").iter_rows()}
    firsts = [f for f in full.files if f.version == 1]
    for f in firsts:
        if f.dataset == "takedowns":
            assert f.rows == rows[(f.org_id, f.period)]
    assert full.takedown_rows == sum(f.rows for f in firsts if f.dataset == "takedowns")
    assert full.monitoring_rows == sum(f.rows for f in firsts if f.dataset == "monitoring")
    never = sum(rows[(o, p)] for o, d, p in full.never_delivered if d == "takedowns")
    assert full.takedown_rows + never == counts["rows"].sum()
    assert 100_000 < full.takedown_rows < 160_000


SAMPLE_PERIODS = {"2012-01", "2016-12", "2018-03", "2019-11", "2020-10", "2021-03", "2021-12"}


def test_files_read_back_valid_or_fail_their_defect(full: SimulationSummary, registry: Registry) -> None:
    """Every invalid file, every resubmission, every empty file and every file of a few
    sample months (all organisations, all formats) against the contract's blocking rules."""
    platforms = registry.platform_ids()
    sample = [f for f in full.files if f.period in SAMPLE_PERIODS or f.defect or f.version > 1 or f.rows == 0]
    assert {registry.org(f.org_id).export.format for f in sample} == set(EXT)
    for f in sample:
        org = registry.org(f.org_id)
        df = read_file(full.out, f, registry)
        assert df.height == f.rows, f.path
        bad = violations(df, f.dataset, org, f.period, platforms)
        if f.defect is None:
            assert not bad, (f.path, bad)
            head = header_row(full.out / f.path, org)
            assert set(head) <= set(org.export.columns) | {c.name for c in columns(f.dataset)}
        elif f.defect == "missing_required_column":
            assert any(b.startswith("missing:") for b in bad), f.path
        else:
            assert EXPECTED_RULE[f.defect] in bad, (f.path, bad)


def header_row(path: Path, org: Organisation) -> list[str]:
    return read_raw(path, org).columns


def test_invalid_files_and_resubmissions(full: SimulationSummary) -> None:
    by_path = {f.path: f for f in full.files}
    assert len(full.invalid_files) >= 3
    assert len(full.invalid_files) <= 0.01 * full.files_written + 4
    kinds = {by_path[p].defect for p in full.invalid_files}
    assert {
        "actioned_before_detected",
        "unknown_commodity",
        "text_in_queries_run",
        "missing_required_column",
    } <= kinds
    assert full.resubmissions
    for p in full.resubmissions:
        v2 = by_path[p]
        v1 = by_path[p.replace("_v2.", ".")]
        assert v1.defect is not None and v2.defect is None and v2.version == 2
        assert (full.out / p).stat().st_mtime > (full.out / v1.path).stat().st_mtime
        assert v2.rows == v1.rows


def test_arrival_times(full: SimulationSummary) -> None:
    late = 0
    for f in full.files:
        mtime = dt.datetime.fromtimestamp((full.out / f.path).stat().st_mtime, dt.UTC)
        assert mtime == f.received_at
        i = M.month_index(f.period)
        nxt = dt.datetime.combine(M.first_day(i + 1), dt.time(0), tzinfo=dt.UTC)
        assert mtime >= nxt, f.path  # never before the month is over
        if f.dataset == "monitoring" and f.version == 1:
            assert mtime < dt.datetime.combine(M.first_day(i + 2), dt.time(0), tzinfo=dt.UTC)
        if f.dataset == "takedowns" and f.version == 1:
            due = M.due_at(i)
            assert f.late == (mtime > due)
            late += f.late
    n_td = sum(1 for f in full.files if f.dataset == "takedowns" and f.version == 1)
    assert 0.02 < late / n_td < 0.2
    never = len(full.never_delivered)
    assert 0.005 < never / (n_td + never) < 0.03
    for org_id, dataset, period in full.never_delivered:
        assert not list((full.out / org_id / dataset).glob(f"*_{period}*"))
    assert {f.path for f in full.files if f.late} == set(full.late_files)


def test_zero_row_files_have_a_header(full: SimulationSummary, registry: Registry) -> None:
    assert full.empty_files
    for p in full.empty_files:
        org = registry.org(p.split("/")[0])
        raw = read_raw(full.out / p, org)
        assert raw.height == 0 and "record_id" in to_canonical(raw, org, "takedowns").columns


def _one(full: SimulationSummary, org_id: str, period: str = "2020-05") -> Path:
    return full.out / next(
        f.path for f in full.files if f.org_id == org_id and f.period == period and f.version == 1
    )


def test_alibaba_writes_gb18030_with_chinese_headers_and_values(full: SimulationSummary) -> None:
    data = _one(full, "alibaba").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    text = data.decode("gb18030")
    header = text.splitlines()[0].split(",")
    assert header[:3] == ["记录编号", "内容类型", "发现时间"] and "platform_id" not in header
    assert "下架" in text and "发布后" in text and ",否," in text
    assert re.search(r",\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2},", text)


def test_other_formats(full: SimulationSummary, registry: Registry) -> None:
    tencent = _one(full, "tencent").read_bytes()
    assert not tencent.startswith(b"\xef\xbb\xbf")
    with pytest.raises(UnicodeDecodeError):
        tencent.decode("utf-8")
    assert tencent.decode("gbk").startswith("记录编号,")
    assert _one(full, "facebook").read_bytes()[:2] == b"\xff\xfe"
    for org_id in ("mall_for_africa", "synthetic_05"):
        prices = []
        for f in full.files:
            if f.org_id == org_id and f.defect is None:
                head, *lines = (full.out / f.path).read_text(encoding="utf-8").splitlines()
                assert head.split(";")[:2] == ["record_id", "content_type"]
                prices += [ln.split(";")[13] for ln in lines if ln.split(";")[13]]
        assert prices and all(re.fullmatch(r"\d+,\d\d", p) for p in prices)
    assert re.search(r";\d{2}/\d{2}/2020 \d{2}:\d{2};", _one(full, "mall_for_africa").read_text())
    etsy = _one(full, "etsy").read_text(encoding="utf-8")
    assert etsy.split("\n")[0].split("\t")[0] == "record_id" and "\ttakedown\t" in etsy
    assert pl.read_excel(_one(full, "ebay")).columns[0] == "record_id"
    assert pl.read_excel(_one(full, "wwf")).columns[:2] == ["survey_id", "platform_id"]
    assert pl.read_ndjson(_one(full, "google"))["appealed"].dtype == pl.Boolean
    assert pl.read_ndjson(_one(full, "ifaw"))["queries_run"].dtype == pl.Int64
    assert pl.read_parquet(_one(full, "microsoft"))["price"].dtype == pl.Float64
    ts = pl.read_parquet(_one(full, "microsoft"))["actioned_at"]
    assert ts.str.contains(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$").all()
    mon = to_canonical(
        read_raw(_one(full, "traffic", "2014-02"), registry.org("traffic")),
        registry.org("traffic"),
        "monitoring",
    )
    assert set(mon["keyword_id"]) == {f"kw{i:03d}" for i in range(1, 9)}
    assert set(mon["language"]) == {"zh-CN"} and set(mon["commodity"]) <= set(COMMODITIES)


def test_monitoring_prevalence_in_files(full: SimulationSummary, registry: Registry) -> None:
    frames = []
    for f in full.files:
        if f.dataset == "monitoring" and f.defect is None and f.period[:4] in ("2013", "2017", "2019"):
            frames.append(
                read_file(full.out, f, registry).select(
                    "platform_id",
                    pl.lit(f.period[:4]).alias("year"),
                    pl.col("queries_run", "new_adverts_found").cast(pl.Int64),
                )
            )
    df = (
        pl.concat(frames)
        .group_by("platform_id", "year")
        .agg((1000 * pl.col("new_adverts_found").sum() / pl.col("queries_run").sum()).alias("prev"))
    )
    prev = {(p, y): v for p, y, v in df.iter_rows()}
    # the 2017 drop, then members fall further while a non-member platform rises
    assert prev[("alibaba", "2017")] < 0.4 * prev[("alibaba", "2013")]
    assert prev[("alibaba", "2019")] < 0.5 * prev[("alibaba", "2017")]
    assert prev[("synthetic_forum_a", "2019")] > 1.2 * prev[("synthetic_forum_a", "2017")]
    assert ("qyer", "2013") not in prev and ("qyer", "2019") in prev  # monitored from 2017-06


def test_deterministic(tmp_path: Path) -> None:
    a = simulate(tmp_path / "a", start="2018-01", end="2018-06", scale=0.005, seed=11)
    b = simulate(tmp_path / "b", start="2018-01", end="2018-06", scale=0.005, seed=11)
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    for field in (
        "files_written",
        "takedown_rows",
        "monitoring_rows",
        "invalid_files",
        "resubmissions",
        "never_delivered",
        "files",
    ):
        assert getattr(a, field) == getattr(b, field)
    assert len(a.invalid_files) >= 3 and a.resubmissions
    simulate(tmp_path / "c", start="2018-01", end="2018-02", scale=0.005, seed=12)
    da, dc = digest(tmp_path / "a"), digest(tmp_path / "c")
    assert all(da[p] != dc[p] for p in dc if p in da and p != "README.txt")


def test_same_file_whatever_the_range(tmp_path: Path, full: SimulationSummary) -> None:
    """A file depends on (seed, organisation, period), not on the range simulated."""
    part = simulate(tmp_path / "part", start="2019-02", end="2019-03")
    valid_in_full = {f.path for f in full.files if f.defect is None}
    mine, whole = digest(tmp_path / "part"), digest(full.out)
    same = [f.path for f in part.files if f.defect is None and f.path in valid_in_full]
    assert len(same) > 40
    assert all(mine[p] == whole[p] for p in same)


def test_members_joining_after_the_range_write_nothing(tmp_path: Path) -> None:
    s = simulate(tmp_path / "early", start="2016-01", end="2016-03")
    assert {f.dataset for f in s.files} == {"monitoring"}
    assert s.takedown_rows == 0 and not (tmp_path / "early" / "alibaba").exists()
