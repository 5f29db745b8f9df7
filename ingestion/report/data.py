"""What the KPI report shows, read from the published marts (read-only).

Every figure the report prints comes from one query here, on `marts.duckdb` through
`connect_marts` (attached as `ewto`, READ_ONLY), so a test can run the same SQL and compare.
Coalition-wide effort figures pool the items of all members (fct_takedowns), with the
definitions of domain.md section 4.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import duckdb

from ..paths import Home
from ..registry import load_coalition
from ..sql_shell import inline
from ..warehouse import connect_marts


@dataclass
class ReportData:
    as_of: dt.date  # first day of the last month shown
    launch: dt.date  # the coalition's launch month (founding members' join month)
    published_at: dt.datetime
    generated_at: dt.datetime
    target_reduction: float
    target_month: dt.date
    proactive_sources: list[str]
    coalition: list[dict[str, Any]]  # kpi_reduction_progress scope coalition, by month
    displacement: list[dict[str, Any]]  # scope displacement, by month
    headline: dict[str, Any] | None  # the coalition row of as_of (latest with a reduction)
    displacement_latest: dict[str, Any] | None
    platforms: list[dict[str, Any]]  # member platforms in as_of
    non_member_platforms: list[dict[str, Any]]
    panel: list[str]
    commodity: list[dict[str, Any]]  # items by commodity x CITES appendix since launch
    commodity_totals: list[dict[str, Any]]
    appendix_totals: list[dict[str, Any]]
    items_by_year: list[dict[str, Any]]
    effort: list[dict[str, Any]]  # coalition-wide per month
    members: list[dict[str, Any]]  # members active by as_of
    compliance: list[dict[str, Any]]  # kpi_submission_compliance rows <= as_of
    compliance_months: list[dt.date]
    compliance_totals: dict[str, int]
    member_monthly: list[dict[str, Any]] = field(default_factory=list)
    member_compliance: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    platform_series: list[dict[str, Any]] = field(default_factory=list)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cur = con.execute(inline(sql, params or []))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def default_as_of(con: duckdb.DuckDBPyConnection) -> dt.date:
    row = con.execute(
        "SELECT max(month) FROM kpi_reduction_progress WHERE scope = 'coalition' AND reduction_pct IS NOT NULL"
    ).fetchone()
    if row and row[0]:
        return row[0]
    row = con.execute("SELECT max(month) FROM kpi_member_monthly").fetchone()
    return row[0] if row and row[0] else dt.date.today().replace(day=1)


def _month_end(first: dt.date) -> dt.date:
    return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


# The SQL of each figure (tests run the same statements).
SQL_COALITION = """
    SELECT month, adverts_found_3m, queries_run_3m, prevalence_3m, months_covered, baseline_prevalence,
           reduction_pct, reduction_ci_low, reduction_ci_high, target_reduction_pct, on_track
    FROM kpi_reduction_progress WHERE scope = ? AND month <= ?::DATE ORDER BY month
"""

SQL_PLATFORMS = """
    SELECT p.platform_id, p.platform_name, p.member_id, m.member_name, m.synthetic AS member_synthetic,
           p.in_coalition_panel, r.month, r.adverts_found_3m, r.queries_run_3m, r.prevalence_3m,
           r.months_covered, r.baseline_prevalence, r.reduction_pct, r.reduction_ci_low,
           r.reduction_ci_high, r.target_reduction_pct, r.on_track
    FROM kpi_reduction_progress r
    JOIN dim_platform p USING (platform_id)
    JOIN dim_member m ON m.member_id = p.member_id
    WHERE r.scope = 'platform' AND r.month = ?::DATE AND m.join_month <= ?::DATE
    ORDER BY r.on_track DESC NULLS LAST, r.reduction_pct DESC NULLS LAST, p.platform_name
"""

SQL_NON_MEMBER = """
    WITH w AS (
        SELECT platform_id,
               sum(new_adverts_found) FILTER (WHERE month BETWEEN ?::DATE AND ?::DATE) AS adverts_3m,
               sum(queries_run) FILTER (WHERE month BETWEEN ?::DATE AND ?::DATE) AS queries_3m,
               sum(new_adverts_found) FILTER (WHERE month BETWEEN ?::DATE AND ?::DATE) AS adverts_base,
               sum(queries_run) FILTER (WHERE month BETWEEN ?::DATE AND ?::DATE) AS queries_base
        FROM fct_monitoring WHERE NOT is_member_platform GROUP BY platform_id
    )
    SELECT p.platform_id, p.platform_name, p.synthetic, w.adverts_3m, w.queries_3m,
           1000.0 * w.adverts_3m / nullif(w.queries_3m, 0) AS prevalence_3m,
           1000.0 * w.adverts_base / nullif(w.queries_base, 0) AS baseline_prevalence,
           1 - (1000.0 * w.adverts_3m / nullif(w.queries_3m, 0))
             / nullif(1000.0 * w.adverts_base / nullif(w.queries_base, 0), 0) AS reduction_pct
    FROM dim_platform p JOIN w USING (platform_id)
    ORDER BY p.platform_name
"""

SQL_COMMODITY = """
    SELECT c.commodity, c.label, coalesce(t.cites_appendix, 'not_reported') AS cites_appendix,
           count(*)::BIGINT AS items
    FROM fct_takedowns t JOIN dim_commodity c USING (commodity)
    WHERE t.month BETWEEN ?::DATE AND ?::DATE
    GROUP BY ALL ORDER BY c.commodity, cites_appendix
"""

SQL_EFFORT = """
    SELECT month,
           count(*)::BIGINT AS items_actioned,
           count(DISTINCT member_id)::BIGINT AS members_reporting_items,
           avg(CASE WHEN detection_source IN (SELECT unnest(?::VARCHAR[])) THEN 1.0 ELSE 0.0 END) AS proactive_rate,
           avg(CASE WHEN detection_stage = 'pre_publication' THEN 1.0 ELSE 0.0 END) AS prepublication_share,
           quantile_cont(epoch(actioned_at - detected_at) / 3600.0, 0.5) AS median_hours_to_action,
           quantile_cont(epoch(actioned_at - detected_at) / 3600.0, 0.9) AS p90_hours_to_action,
           count(*) FILTER (WHERE appealed AND restored)
             / nullif(count(*) FILTER (WHERE appealed), 0) AS restore_rate
    FROM fct_takedowns WHERE month <= ?::DATE GROUP BY month ORDER BY month
"""

# Sellers (per member, as in kpi_member_monthly) actioned in m with >= 2 items in m-11..m,
# over the distinct (member, seller) pairs actioned in m, pooled across members.
SQL_REPEAT = """
    WITH c AS (
        SELECT member_id, seller_id, month, count(*) AS items
        FROM fct_takedowns WHERE month <= ?::DATE GROUP BY ALL
    ),
    w AS (
        SELECT a.member_id, a.seller_id, a.month, sum(b.items) AS items_12m
        FROM c a JOIN c b
          ON b.member_id = a.member_id AND b.seller_id = a.seller_id
         AND b.month BETWEEN a.month - to_months(?::INTEGER) AND a.month
        GROUP BY ALL
    )
    SELECT month, avg(CASE WHEN items_12m >= 2 THEN 1.0 ELSE 0.0 END) AS repeat_seller_rate
    FROM w GROUP BY month ORDER BY month
"""

SQL_PLATFORM_SERIES = """
    SELECT r.platform_id, p.member_id, r.month, r.prevalence_3m, r.baseline_prevalence, r.reduction_pct,
           r.reduction_ci_low, r.reduction_ci_high, r.target_reduction_pct, r.on_track
    FROM kpi_reduction_progress r JOIN dim_platform p USING (platform_id)
    WHERE r.scope = 'platform' AND p.member_id IS NOT NULL AND r.month <= ?::DATE
    ORDER BY r.platform_id, r.month
"""

SQL_MEMBERS = """
    SELECT member_id, member_name, founding, synthetic, joined, left_on, join_month, leave_month
    FROM dim_member WHERE join_month <= ?::DATE ORDER BY founding DESC, member_name
"""

SQL_COMPLIANCE = """
    SELECT c.org_id, m.member_name, c.dataset, c.month, c.status, c.due_at, c.first_accepted_at
    FROM kpi_submission_compliance c JOIN dim_member m ON m.member_id = c.org_id
    WHERE c.month <= ?::DATE ORDER BY m.member_name, c.month
"""

SQL_MEMBER_MONTHLY = """
    SELECT member_id, month, items_actioned, proactive_rate, prepublication_share,
           median_hours_to_action, p90_hours_to_action, repeat_seller_rate, restore_rate
    FROM kpi_member_monthly WHERE month <= ?::DATE ORDER BY member_id, month
"""


def gather(home: Home, as_of: dt.date | None = None) -> ReportData:
    coalition_cfg = load_coalition()
    proactive = list(coalition_cfg.raw.get("proactive_sources", []))
    con = connect_marts(home)
    try:
        as_of = (as_of or default_as_of(con)).replace(day=1)
        coalition = _rows(con, SQL_COALITION, ["coalition", as_of])
        displacement = _rows(con, SQL_COALITION, ["displacement", as_of])
        with_reduction = [r for r in coalition if r["reduction_pct"] is not None]
        headline = with_reduction[-1] if with_reduction else None
        disp_with = [r for r in displacement if r["reduction_pct"] is not None]
        platforms = _rows(con, SQL_PLATFORMS, [as_of, as_of])
        w_start = _add_months(as_of, -2)
        b_start, b_end = coalition_cfg.displacement_start, coalition_cfg.displacement_end
        non_member = _rows(con, SQL_NON_MEMBER, [w_start, as_of] * 2 + [b_start, b_end] * 2)
        panel = [
            r[0]
            for r in con.execute(
                "SELECT platform_name FROM dim_platform WHERE in_coalition_panel ORDER BY platform_name"
            ).fetchall()
        ]
        launch = coalition_cfg.founding_join_month
        commodity = _rows(con, SQL_COMMODITY, [launch, as_of])
        effort = _rows(con, SQL_EFFORT, [proactive, as_of])
        window = int(coalition_cfg.raw.get("repeat_seller_window_months", 12)) - 1
        repeat = {r["month"]: r["repeat_seller_rate"] for r in _rows(con, SQL_REPEAT, [as_of, window])}
        for r in effort:
            r["repeat_seller_rate"] = repeat.get(r["month"])
        platform_series = _rows(con, SQL_PLATFORM_SERIES, [as_of])
        items_by_year = _rows(
            con,
            "SELECT year(month) AS year, count(*)::BIGINT AS items FROM fct_takedowns "
            "WHERE month <= ?::DATE GROUP BY 1 ORDER BY 1",
            [as_of],
        )
        members = _rows(con, SQL_MEMBERS, [as_of])
        compliance = _rows(con, SQL_COMPLIANCE, [as_of])
        member_monthly = _rows(con, SQL_MEMBER_MONTHLY, [as_of])
        published = dt.datetime.fromtimestamp(home.marts.stat().st_mtime, dt.UTC)
    finally:
        con.close()

    totals: dict[str, dict[str, Any]] = {}
    appendix: dict[str, int] = {}
    for r in commodity:
        t = totals.setdefault(r["commodity"], {"commodity": r["commodity"], "label": r["label"], "items": 0})
        t["items"] += r["items"]
        appendix[r["cites_appendix"]] = appendix.get(r["cites_appendix"], 0) + r["items"]
    order = ["I", "II", "III", "none", "unknown", "not_reported"]
    appendix_totals = [
        {"cites_appendix": k, "items": appendix[k]}
        for k in sorted(appendix, key=lambda a: order.index(a) if a in order else 99)
    ]
    months = sorted({r["month"] for r in compliance})
    comp_totals: dict[str, int] = {}
    by_member: dict[str, list[dict[str, Any]]] = {}
    for r in compliance:
        comp_totals[r["status"]] = comp_totals.get(r["status"], 0) + 1
        by_member.setdefault(r["org_id"], []).append(r)
    return ReportData(
        as_of=as_of,
        launch=launch,
        published_at=published,
        generated_at=dt.datetime.now(dt.UTC),
        target_reduction=coalition_cfg.target_reduction,
        target_month=coalition_cfg.target_month,
        proactive_sources=proactive,
        coalition=coalition,
        displacement=displacement,
        headline=headline,
        displacement_latest=disp_with[-1] if disp_with else None,
        platforms=platforms,
        non_member_platforms=non_member,
        panel=panel,
        commodity=commodity,
        commodity_totals=sorted(totals.values(), key=lambda t: -t["items"]),
        appendix_totals=appendix_totals,
        items_by_year=items_by_year,
        effort=effort,
        members=members,
        compliance=compliance,
        compliance_months=months,
        compliance_totals=dict(sorted(comp_totals.items())),
        member_monthly=member_monthly,
        member_compliance=by_member,
        platform_series=platform_series,
    )


def _add_months(first: dt.date, n: int) -> dt.date:
    idx = first.year * 12 + first.month - 1 + n
    return dt.date(idx // 12, idx % 12 + 1, 1)
