"""The KPI headline: "are we on track for 80%?", read from the published marts."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from .paths import Home
from .warehouse import connect_marts

SYNTHETIC_NOTE = (
    "SYNTHETIC DATA: figures come from the ewto simulator, calibrated on published coalition "
    "totals; they are not real platform measurements."
)


@dataclass(frozen=True)
class Headline:
    month: str | None
    reduction_pct: float | None
    reduction_ci_low: float | None
    reduction_ci_high: float | None
    target_reduction_pct: float | None
    on_track: bool | None
    months_covered: int | None
    platforms_on_track: int
    platforms_measured: int
    displacement_change_pct: float | None
    items_actioned_total: int
    items_actioned_by_year: dict[str, int]
    compliance: dict[str, int]
    synthetic: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def headline(
    home: Home | None = None, as_of_month: dt.date | None = None, synthetic: bool = True
) -> Headline:
    """Read the headline from `marts.duckdb` (read-only) for the latest month <= as_of."""
    home = home or Home.from_env()
    con = connect_marts(home)
    try:
        # dates are inlined as literals: binding a parameter makes DuckDB import pandas,
        # which costs seconds on a CLI path
        limit = f"DATE '{(as_of_month or dt.date(9999, 12, 1)).isoformat()}'"
        row = con.execute(
            f"""
            SELECT month, reduction_pct, reduction_ci_low, reduction_ci_high,
                   target_reduction_pct, on_track, months_covered
            FROM marts.kpi_reduction_progress
            WHERE scope = 'coalition' AND month <= {limit} AND reduction_pct IS NOT NULL
            ORDER BY month DESC LIMIT 1
            """
        ).fetchone()
        month = row[0] if row else None
        month_sql = f"DATE '{month.isoformat()}'" if month else "NULL"
        # platforms of members that had joined by that month (and not left)
        plat = con.execute(
            f"""
            SELECT count(*) FILTER (WHERE r.on_track), count(*) FILTER (WHERE r.on_track IS NOT NULL)
            FROM marts.kpi_reduction_progress AS r
            JOIN marts.dim_platform AS p USING (platform_id)
            JOIN marts.dim_member AS m ON m.member_id = p.member_id
            WHERE r.scope = 'platform' AND r.month = {month_sql}
              AND m.join_month <= r.month AND (m.leave_month IS NULL OR m.leave_month >= r.month)
            """
        ).fetchone()
        disp = con.execute(
            f"""
            SELECT reduction_pct FROM marts.kpi_reduction_progress
            WHERE scope = 'displacement' AND month <= {limit} AND reduction_pct IS NOT NULL
            ORDER BY month DESC LIMIT 1
            """
        ).fetchone()
        by_year = dict(
            con.execute(
                f"""
                SELECT strftime(month, '%Y'), coalesce(sum(items_actioned), 0)::BIGINT
                FROM marts.kpi_member_monthly WHERE month <= {limit} GROUP BY 1 ORDER BY 1
                """
            ).fetchall()
        )
        compliance = dict(
            con.execute(
                "SELECT status, count(*) FROM marts.kpi_submission_compliance GROUP BY 1 ORDER BY 1"
            ).fetchall()
        )
    finally:
        con.close()
    return Headline(
        month=month.isoformat()[:7] if month else None,
        reduction_pct=row[1] if row else None,
        reduction_ci_low=row[2] if row else None,
        reduction_ci_high=row[3] if row else None,
        target_reduction_pct=row[4] if row else None,
        on_track=row[5] if row else None,
        months_covered=row[6] if row else None,
        platforms_on_track=int(plat[0] or 0),
        platforms_measured=int(plat[1] or 0),
        displacement_change_pct=(-disp[0] if disp and disp[0] is not None else None),
        items_actioned_total=int(sum(by_year.values())),
        items_actioned_by_year={k: int(v) for k, v in by_year.items()},
        compliance={k: int(v) for k, v in compliance.items()},
        synthetic=synthetic,
    )


def render(h: Headline) -> str:
    lines = []
    if h.synthetic:
        lines.append(f"*** {SYNTHETIC_NOTE} ***")
    if h.month is None:
        lines.append("Coalition reduction: no month with monitoring data against the baseline yet.")
    else:
        verdict = "ON TRACK" if h.on_track else "NOT on track"
        lines.append(
            f"Coalition reduction in new wildlife adverts, {h.month} (3-month window, "
            f"{h.months_covered}/3 months): {_pct(h.reduction_pct)} "
            f"(95% CI {_pct(h.reduction_ci_low)} to {_pct(h.reduction_ci_high)}) vs. baseline 2017-03..2018-02"
        )
        lines.append(
            f"Target path for {h.month}: {_pct(h.target_reduction_pct)} reduction (80% by 2020-12) -> {verdict}"
        )
        lines.append(
            f"Member platforms on track in {h.month}: {h.platforms_on_track} of {h.platforms_measured}"
        )
    if h.displacement_change_pct is not None:
        lines.append(
            f"Non-member platforms (displacement): prevalence change {_pct(h.displacement_change_pct)}"
        )
    years = ", ".join(f"{y}: {n:,}" for y, n in h.items_actioned_by_year.items())
    lines.append(f"Items actioned (takedowns) total: {h.items_actioned_total:,} ({years})")
    comp = ", ".join(f"{k} {v}" for k, v in sorted(h.compliance.items()))
    lines.append(f"Reporting discipline (member-months): {comp or 'none expected yet'}")
    return "\n".join(lines)
