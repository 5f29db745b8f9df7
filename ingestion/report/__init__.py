"""`ewto report`: the secretariat's KPI report (one self-contained HTML file) and one
scorecard per member (members/<member_id>.html) that shows that member's figures beside
the coalition's and nothing about any other member.

The report inlines plotly.js (include_plotlyjs=True), so it opens without a network; the
scorecards' Plotly charts load one shared copy written beside them (members/plotly-<version>.min.js,
a relative path: still no network). Every number printed is also carried in a
`data-metric` / `data-value` attribute, so tests can compare the page with the marts.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..atomic import write_bytes
from ..paths import Home

REPORT_NAME = "ewto-kpi-report.html"
TEMPLATES = Path(__file__).resolve().parent / "templates"

SYNTHETIC_NOTE = (
    "SYNTHETIC DATA: figures come from the ewto simulator, calibrated on published coalition "
    "totals; they are not real platform measurements. Member names are those of the real founding "
    "companies, used as labels only; 'Synthetic Member' organisations and non-member platforms are invented."
)

EFFORT_ROWS = [
    ("items_actioned", "Items actioned", "int"),
    ("proactive_rate", "Proactive rate", "pct"),
    ("prepublication_share", "Blocked before publication", "pct"),
    ("median_hours_to_action", "Median hours from detection to action", "hours"),
    ("p90_hours_to_action", "90th percentile hours to action", "hours"),
    ("repeat_seller_rate", "Repeat-seller rate (12 months)", "pct"),
    ("restore_rate", "Restored after appeal", "pct"),
]


@dataclass(frozen=True)
class Written:
    report: Path
    scorecards_dir: Path
    scorecards: list[Path]


# ------------------------------------------------------------------------------ formatting
def fmt(value: Any, kind: str = "pct") -> str:
    """How a number is shown (tests format the marts' values with the same rules)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if kind == "pct":
        return f"{100 * float(value):.1f}%"
    if kind == "pct0":
        return f"{100 * float(value):.0f}%"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "dec2":
        return f"{float(value):.2f}"
    if kind == "hours":
        return f"{float(value):.1f} h"
    return str(value)


def raw(value: Any) -> str:
    """The exact value for a data-value attribute."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int | decimal.Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _env() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fmt"] = fmt
    env.filters["raw"] = raw
    return env


def _status(p: dict[str, Any]) -> dict[str, Any]:
    p = dict(p)
    if not p.get("baseline_prevalence"):
        p["status"], p["status_class"] = "no baseline", "none"
    elif p.get("target_reduction_pct") is None or p.get("on_track") is None:
        p["status"], p["status_class"] = "no target yet", "none"
    elif p["on_track"]:
        p["status"], p["status_class"] = "on track", "on"
    else:
        p["status"], p["status_class"] = "behind", "off"
    low, high, target = p.get("reduction_ci_low"), p.get("reduction_ci_high"), p.get("target_reduction_pct")
    if p["status_class"] == "none":
        p["evidence"] = ""
    elif low is None or high is None:
        p["evidence"] = "no interval (no adverts in the window)"
    elif low >= target:
        p["evidence"] = "whole interval above the path"
    elif high < target:
        p["evidence"] = "whole interval below the path"
    else:
        p["evidence"] = "interval includes the path"
    return p


def _add_months(first: dt.date, n: int) -> dt.date:
    idx = first.year * 12 + first.month - 1 + n
    return dt.date(idx // 12, idx % 12 + 1, 1)


# ---------------------------------------------------------------------------------- render
def render_report(d: Any, synthetic: bool = True) -> str:
    from . import charts

    env = _env()
    platforms = [_status(p) for p in d.platforms]
    measured = [p for p in d.platforms if p["on_track"] is not None]
    grid: list[dict[str, Any]] = []
    months = [m.isoformat()[:7] for m in d.compliance_months]
    names = {m["member_id"]: m["member_name"] for m in d.members}
    for org_id, rows in sorted(d.member_compliance.items(), key=lambda kv: kv[1][0]["member_name"].lower()):
        by_month = {r["month"].isoformat()[:7]: r["status"] for r in rows}
        grid.append(
            {
                "member_id": org_id,
                "name": names.get(org_id, rows[0]["member_name"]),
                "cells": [{"month": m, "status": by_month.get(m)} for m in months],
            }
        )
    figs = [
        ("reduction", charts.reduction_figure(d)),
        ("displacement", charts.displacement_figure(d)),
        ("commodity", charts.commodity_figure(d)),
        ("effort", charts.effort_figure(d)),
    ]
    divs = {
        name: charts.to_div(fig, f"chart-{name}", include_js=(i == 0)) for i, (name, fig) in enumerate(figs)
    }
    effort_latest = next((r for r in reversed(d.effort) if r["month"] == d.as_of), None)
    return env.get_template("report.html.j2").render(
        d=d,
        synthetic=synthetic,
        synthetic_note=SYNTHETIC_NOTE,
        css=(TEMPLATES / "_style.css").read_text(encoding="utf-8"),
        charts=divs,
        platforms=platforms,
        platforms_on_track=sum(1 for p in measured if p["on_track"]),
        platforms_measured=len(measured),
        takedowns_total=sum(c["items"] for c in d.commodity_totals),
        effort_latest=effort_latest,
        grid=grid,
        status_colors=charts.STATUS_COLORS,
        baseline_label=f"{d.launch.year - 1}-{d.launch.month:02d}..{_add_months(d.launch, -1):%Y-%m}",
    )


def render_scorecard(
    d: Any, member: dict[str, Any], synthetic: bool = True, plotlyjs: str | None = None
) -> str:
    """One member's page. Its charts draw only `scorecard.member_view` (the member's own rows
    and coalition aggregates); `plotlyjs` is the relative path of the shared plotly.js copy."""
    from . import charts, scorecard

    env = _env()
    mid = member["member_id"]
    view = scorecard.member_view(d, member)
    plats = [_status(p) for p in d.platforms if p["member_id"] == mid]
    mine = next((r for r in view.monthly if r["month"] == d.as_of), None)
    coal = next((r for r in d.effort if r["month"] == d.as_of), None)
    start = _add_months(d.as_of, -11)
    items_12m = sum(r["items_actioned"] or 0 for r in view.monthly if r["month"] >= start)
    coalition_items_12m = sum(r["items_actioned"] or 0 for r in d.effort if r["month"] >= start)
    my_compliance = d.member_compliance.get(mid, [])
    my_counts: dict[str, int] = {}
    for r in my_compliance:
        my_counts[r["status"]] = my_counts.get(r["status"], 0) + 1
    total = sum(d.compliance_totals.values())
    chart_reduction = scorecard.to_div(scorecard.reduction_figure(view), "chart-member-reduction", False)
    chart_effort = scorecard.to_div(scorecard.effort_figure(view), "chart-member-effort", False)
    return env.get_template("scorecard.html.j2").render(
        d=d,
        m=member,
        synthetic=synthetic,
        synthetic_note=SYNTHETIC_NOTE,
        css=(TEMPLATES / "_style.css").read_text(encoding="utf-8"),
        plats=plats,
        mine=mine,
        coal=coal,
        effort_rows=EFFORT_ROWS,
        items_12m=items_12m,
        coalition_items_12m=coalition_items_12m,
        window_label=f"{start:%Y-%m}..{d.as_of:%Y-%m}",
        my_compliance=my_compliance,
        my_counts=my_counts,
        my_on_time=(my_counts.get("on_time", 0) / len(my_compliance)) if my_compliance else None,
        coalition_on_time=(d.compliance_totals.get("on_time", 0) / total) if total else None,
        status_colors=charts.STATUS_COLORS,
        plotlyjs=(plotlyjs or scorecard.plotlyjs_name()) if (chart_reduction or chart_effort) else None,
        chart_reduction=chart_reduction,
        chart_effort=chart_effort,
    )


def write_report(home: Home, out_dir: Path, as_of: dt.date | None = None, synthetic: bool = True) -> Written:
    """Write DIR/ewto-kpi-report.html and DIR/members/<member_id>.html (atomically each)."""
    from .data import gather

    d = gather(home, as_of)
    out_dir = Path(out_dir)
    report = out_dir / REPORT_NAME
    write_bytes(report, render_report(d, synthetic).encode("utf-8"))
    members_dir = out_dir / "members"
    from .scorecard import plotlyjs_name, plotlyjs_source

    # one shared plotly.js beside the scorecards (not 4.8 MB inlined into each of them)
    js = members_dir / plotlyjs_name()
    if not js.exists():
        write_bytes(js, plotlyjs_source().encode("utf-8"))
    written = []
    for member in d.members:
        path = members_dir / f"{member['member_id']}.html"
        write_bytes(path, render_scorecard(d, member, synthetic, js.name).encode("utf-8"))
        written.append(path)
    return Written(report, members_dir, written)
