"""Plotly figures of the KPI report (rendered to <div>s; plotly.js is inlined once)."""

from __future__ import annotations

from typing import Any

from .data import ReportData

STATUS_COLORS = {
    "on_time": "#2e7d32",
    "late": "#f9a825",
    "rejected": "#ef6c00",
    "missing": "#c62828",
    "pending": "#9e9e9e",
}
APPENDIX_COLORS = {
    "I": "#b71c1c",
    "II": "#ef6c00",
    "III": "#fbc02d",
    "none": "#78909c",
    "unknown": "#b0bec5",
    "not_reported": "#eceff1",
}
BLUE = "#1565c0"
GREY = "#616161"
GREEN = "#2e7d32"
RED = "#c62828"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"
CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


def _layout(fig: Any, title: str, height: int = 420, **kw: Any) -> None:
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 16}},
        height=height,
        margin={"l": 60, "r": 20, "t": 60, "b": 50},
        font={"family": FONT, "size": 12},
        plot_bgcolor="#ffffff",
        paper_bgcolor="#ffffff",
        legend={"orientation": "h", "y": -0.18, "x": 0},
        hovermode="x unified",
        **kw,
    )
    fig.update_xaxes(showgrid=True, gridcolor="#eeeeee", zeroline=False)
    fig.update_yaxes(showgrid=True, gridcolor="#eeeeee", zeroline=True, zerolinecolor="#bdbdbd")


def _months(rows: list[dict[str, Any]]) -> list[str]:
    return [r["month"].isoformat() for r in rows]


def reduction_figure(d: ReportData) -> Any:
    import plotly.graph_objects as go

    rows = [r for r in d.coalition if r["reduction_pct"] is not None]
    band = [r for r in rows if r["reduction_ci_low"] is not None and r["reduction_ci_high"] is not None]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=_months(band),
            y=[r["reduction_ci_high"] for r in band],
            mode="lines",
            line={"width": 0},
            hoverinfo="skip",
            showlegend=False,
            name="95% interval (upper)",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=_months(band),
            y=[r["reduction_ci_low"] for r in band],
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor="rgba(21,101,192,0.18)",
            name="95% interval",
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=_months(rows),
            y=[r["reduction_pct"] for r in rows],
            mode="lines+markers",
            line={"color": BLUE, "width": 2.5},
            marker={"size": 5},
            name="Coalition reduction (3-month window)",
            hovertemplate="%{y:.1%}",
        )
    )
    target = [r for r in d.coalition if r["target_reduction_pct"] is not None]
    fig.add_trace(
        go.Scatter(
            x=_months(target),
            y=[r["target_reduction_pct"] for r in target],
            mode="lines",
            line={"color": GREY, "width": 2, "dash": "dash"},
            name=f"Target path ({d.target_reduction:.0%} by {d.target_month:%Y-%m})",
            hovertemplate="%{y:.1%}",
        )
    )
    if target:
        fig.add_trace(
            go.Scatter(
                x=[target[-1]["month"].isoformat(), d.target_month.isoformat()],
                y=[target[-1]["target_reduction_pct"], d.target_reduction],
                mode="lines+markers",
                line={"color": GREY, "width": 1, "dash": "dot"},
                marker={"size": [0, 9], "symbol": "star"},
                name="Target path ahead",
                hovertemplate="%{y:.1%}",
            )
        )
    fig.add_vline(x=d.launch.isoformat(), line={"color": "#9e9e9e", "width": 1})
    fig.add_annotation(
        x=d.launch.isoformat(),
        y=1,
        yref="paper",
        text=f" coalition launched {d.launch:%Y-%m}",
        showarrow=False,
        xanchor="left",
        font={"size": 11, "color": GREY},
    )
    _layout(fig, "Coalition reduction in new wildlife adverts vs. the 2017-03..2018-02 baseline")
    fig.update_yaxes(tickformat=".0%", title="reduction vs. baseline")
    return fig


def displacement_figure(d: ReportData) -> Any:
    import plotly.graph_objects as go

    fig = go.Figure()
    for rows, name, color in (
        (d.coalition, "Member platforms (coalition panel)", BLUE),
        (d.displacement, "Monitored non-member platforms", RED),
    ):
        rows = [r for r in rows if r["prevalence_3m"] is not None]
        fig.add_trace(
            go.Scatter(
                x=_months(rows),
                y=[r["prevalence_3m"] for r in rows],
                mode="lines+markers",
                marker={"size": 4},
                line={"color": color, "width": 2},
                name=name,
                hovertemplate="%{y:.2f}",
            )
        )
        base = next((r["baseline_prevalence"] for r in rows if r["baseline_prevalence"] is not None), None)
        if base is not None and rows:
            fig.add_trace(
                go.Scatter(
                    x=[rows[0]["month"].isoformat(), rows[-1]["month"].isoformat()],
                    y=[base, base],
                    mode="lines",
                    line={"color": color, "width": 1, "dash": "dash"},
                    name=f"{name}: baseline",
                    hovertemplate="%{y:.2f}",
                )
            )
    _layout(fig, "New wildlife adverts per 1,000 keyword searches (3-month window)")
    fig.update_yaxes(title="adverts per 1,000 queries", rangemode="tozero")
    return fig


def commodity_figure(d: ReportData) -> Any:
    import plotly.graph_objects as go

    labels = [t["label"] for t in reversed(d.commodity_totals)]
    by = {(r["label"], r["cites_appendix"]): r["items"] for r in d.commodity}
    fig = go.Figure()
    for appendix in [a["cites_appendix"] for a in d.appendix_totals]:
        fig.add_trace(
            go.Bar(
                y=labels,
                x=[by.get((lab, appendix), 0) for lab in labels],
                orientation="h",
                name=f"CITES {appendix}" if appendix in ("I", "II", "III") else appendix.replace("_", " "),
                marker={"color": APPENDIX_COLORS.get(appendix, "#9e9e9e")},
                hovertemplate="%{x:,}",
            )
        )
    _layout(
        fig,
        f"Items actioned by commodity and CITES appendix, {d.launch:%Y-%m}..{d.as_of:%Y-%m}",
        height=520,
        barmode="stack",
    )
    fig.update_layout(hovermode="y unified", margin={"l": 260, "r": 20, "t": 60, "b": 50})
    fig.update_xaxes(title="items actioned", tickformat=",")
    return fig


def effort_figure(d: ReportData) -> Any:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    rows = d.effort
    x = _months(rows)
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=("Share of items (all members pooled)", "Hours from detection to action"),
    )
    for key, name, color in (
        ("proactive_rate", "Proactive rate (found by the platform itself)", BLUE),
        ("prepublication_share", "Blocked before publication", GREEN),
    ):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[r[key] for r in rows],
                name=name,
                mode="lines+markers",
                marker={"size": 4},
                line={"color": color, "width": 2},
                hovertemplate="%{y:.1%}",
            ),
            row=1,
            col=1,
        )
    for key, name, dash in (
        ("median_hours_to_action", "Median", "solid"),
        ("p90_hours_to_action", "90th percentile", "dash"),
    ):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[r[key] for r in rows],
                name=f"{name} hours to action",
                mode="lines+markers",
                marker={"size": 4},
                line={"color": GREY, "width": 2, "dash": dash},
                hovertemplate="%{y:.1f} h",
            ),
            row=2,
            col=1,
        )
    _layout(fig, "Proactive detection and time to action over time", height=620)
    fig.update_yaxes(tickformat=".0%", range=[0, 1], row=1, col=1)
    fig.update_yaxes(title="hours", rangemode="tozero", row=2, col=1)
    return fig


def to_div(fig: Any, div_id: str, include_js: bool) -> str:
    return fig.to_html(
        full_html=False,
        include_plotlyjs=True if include_js else False,
        div_id=div_id,
        config=CONFIG,
    )
