"""One member's scorecard data and its Plotly charts.

`member_view` is the only place that looks at all members' rows: it keeps the member's own
rows and the coalition-wide aggregates and drops everything else, so the figures below can
only ever draw that member and the coalition (they never see another member's rows).

The charts are Plotly figures like the main report's. The scorecards do not inline plotly.js
(4.8 MB each, times ~47 members): they load one shared copy written beside them
(`members/plotly-<version>.min.js`) through a relative path, which opens from file:// without
a network.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from .charts import BLUE, CONFIG, GREEN, GREY, _layout
from .data import ReportData


def plotlyjs_name() -> str:
    """File name of the shared plotly.js copy (versioned, so an old copy is never reused)."""
    from plotly.offline import get_plotlyjs_version

    return f"plotly-{get_plotlyjs_version()}.min.js"


def plotlyjs_source() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


@dataclass(frozen=True)
class MemberView:
    """What a member's scorecard may show: its own rows and coalition aggregates only."""

    member_id: str
    first_month: dt.date  # the earlier of the coalition's launch and the member's join month
    join_month: dt.date
    # the member's own platforms: platform_id -> monthly rows of kpi_reduction_progress
    platform_series: dict[str, list[dict[str, Any]]]
    monthly: list[dict[str, Any]]  # the member's kpi_member_monthly rows
    coalition: list[dict[str, Any]]  # coalition-panel reduction by month
    effort: list[dict[str, Any]]  # coalition-wide (pooled) effort by month


def member_view(d: ReportData, member: dict[str, Any]) -> MemberView:
    mid = member["member_id"]
    first = min(d.launch, member["join_month"])
    series: dict[str, list[dict[str, Any]]] = {}
    for r in d.platform_series:
        if r["member_id"] == mid and r["month"] >= first:
            series.setdefault(r["platform_id"], []).append(r)
    return MemberView(
        member_id=mid,
        first_month=first,
        join_month=member["join_month"],
        platform_series=dict(sorted(series.items())),
        monthly=[r for r in d.member_monthly if r["member_id"] == mid],
        coalition=[r for r in d.coalition if r["month"] >= first],
        effort=[r for r in d.effort if r["month"] >= member["join_month"]],
    )


def _x(rows: list[dict[str, Any]]) -> list[str]:
    return [r["month"].isoformat() for r in rows]


def reduction_figure(v: MemberView) -> Any | None:
    """Reduction of the member's platform(s) vs. its baseline, the coalition panel's, and the
    member's target path."""
    import plotly.graph_objects as go

    if not v.platform_series:
        return None
    fig = go.Figure()
    several = len(v.platform_series) > 1
    for pid, rows in v.platform_series.items():
        fig.add_trace(
            go.Scatter(
                x=_x(rows),
                y=[r["reduction_pct"] for r in rows],
                mode="lines+markers",
                marker={"size": 4},
                line={"color": BLUE, "width": 2.5},
                name=f"You ({pid})" if several else "You",
                hovertemplate="%{y:.1%}",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=_x(v.coalition),
            y=[r["reduction_pct"] for r in v.coalition],
            mode="lines",
            line={"color": GREY, "width": 2},
            name="Coalition panel",
            hovertemplate="%{y:.1%}",
        )
    )
    first = next(iter(v.platform_series.values()))
    target = [r for r in first if r["target_reduction_pct"] is not None]
    if target:
        fig.add_trace(
            go.Scatter(
                x=_x(target),
                y=[r["target_reduction_pct"] for r in target],
                mode="lines",
                line={"color": GREEN, "width": 2, "dash": "dash"},
                name="Your target path",
                hovertemplate="%{y:.1%}",
            )
        )
    _layout(fig, "Reduction in new wildlife adverts vs. your baseline", height=380)
    fig.update_yaxes(tickformat=".0%", title="reduction vs. baseline")
    return fig


def effort_figure(v: MemberView) -> Any | None:
    """The member's proactive rate and median hours to action beside the coalition's."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    if not any(r["proactive_rate"] is not None for r in v.monthly):
        return None
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.1,
        subplot_titles=("Proactive rate", "Median hours from detection to action"),
    )
    for row, key, fmt in ((1, "proactive_rate", "%{y:.1%}"), (2, "median_hours_to_action", "%{y:.1f} h")):
        for rows, name, color in ((v.monthly, "You", BLUE), (v.effort, "Coalition", GREY)):
            fig.add_trace(
                go.Scatter(
                    x=_x(rows),
                    y=[r[key] for r in rows],
                    mode="lines+markers",
                    marker={"size": 4},
                    line={"color": color, "width": 2.5 if name == "You" else 2},
                    name=name,
                    legendgroup=name,
                    showlegend=row == 1,
                    hovertemplate=fmt,
                ),
                row=row,
                col=1,
            )
    _layout(fig, "Your effort and response beside the coalition's (all members pooled)", height=520)
    fig.update_yaxes(tickformat=".0%", range=[0, 1], row=1, col=1)
    fig.update_yaxes(title="hours", rangemode="tozero", row=2, col=1)
    return fig


def to_div(fig: Any | None, div_id: str, plotlyjs: str | bool) -> str:
    """The chart's <div>; `plotlyjs` is the shared file's relative path (first chart) or False."""
    if fig is None:
        return ""
    return fig.to_html(full_html=False, include_plotlyjs=plotlyjs, div_id=div_id, config=CONFIG)
