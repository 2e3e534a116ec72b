"""Charts of cooperation: pure functions from the tables of :mod:`procure.analysis.cooperation`
to plotly figures (fair shares per partner, rule prices, sweep curves). Each draws exactly the
table it is given, and an empty table gives an empty figure that says so.

>>> import pandas as pd
>>> table = pd.DataFrame({"partner": ["A", "B"], "standalone": [600.0, 200.0],
...                       "proportional": [480.0, 160.0], "shapley": [466.7, 173.3],
...                       "shapley_se": [0.0, 0.0], "nucleolus": [470.0, 170.0]})
>>> [trace.name for trace in fair_share_bars(table).data]
['alone', 'proportional', 'Shapley', 'nucleolus']
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from procure.charts.plan import empty_figure

__all__ = ["SPLITS", "fair_share_bars", "rule_price_bars", "sweep_curve"]

#: the columns of a fair-share table drawn, their legend names and colours
SPLITS = (("standalone", "alone", "#BAB0AC"), ("proportional", "proportional", "#4C78A8"),
          ("shapley", "Shapley", "#F58518"), ("nucleolus", "nucleolus", "#54A24B"))
INFEASIBLE_COLOUR = "#C0392B"


def fair_share_bars(table: pd.DataFrame, currency: str = "EUR") -> go.Figure:
    """Each partner's cost alone and under each split (grouped bars, one trace per split that
    has numbers); sampled Shapley values carry their standard error as an error bar."""
    if table is None or table.empty:
        return empty_figure("no partners: no fair shares")
    fig = go.Figure()
    partners = table["partner"].astype(str).tolist()
    for column, name, colour in SPLITS:
        if column not in table:
            continue
        values = table[column].to_numpy(dtype=float)
        if not np.isfinite(values).any():
            continue
        error = None
        if column == "shapley" and "shapley_se" in table:
            se = table["shapley_se"].to_numpy(dtype=float)
            if np.nan_to_num(se).any():
                error = {"type": "data", "array": np.nan_to_num(se).tolist(), "visible": True}
        fig.add_trace(go.Bar(x=partners, y=values, name=name, marker_color=colour, error_y=error,
                             hovertemplate=f"%{{x}} {name}: %{{y:,.0f}} {currency}<extra></extra>"))
    if not fig.data:
        return empty_figure("no cost could be computed (no feasible plan)")
    fig.update_layout(barmode="group", yaxis_title=currency, legend_title_text="cost",
                      height=420, margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig


def rule_price_bars(table: pd.DataFrame, currency: str = "EUR", *, top: int | None = None) -> go.Figure:
    """The price of each rule (``name``, ``price``), dearest on top: "the cost of sovereignty".
    ``top`` keeps only the dearest ones."""
    if table is None or table.empty:
        return empty_figure("no rules: nothing to price")
    rows = table.dropna(subset=["price"]).sort_values("price", ascending=False, kind="stable")
    if top is not None:
        rows = rows.head(top)
    if rows.empty:
        return empty_figure("no rule could be priced (no feasible plan)")
    rows = rows.iloc[::-1]  # plotly draws the first bar at the bottom
    labels = [f"{rid}  {name}" for rid, name in zip(rows["rule_id"], rows["name"], strict=True)]
    fig = go.Figure(go.Bar(x=rows["price"].to_numpy(dtype=float), y=labels, orientation="h",
                           marker_color="#4C78A8",
                           text=[f"{v:,.0f}" for v in rows["price"]], textposition="auto",
                           hovertemplate=f"%{{y}}: %{{x:,.0f}} {currency}<extra></extra>"))
    fig.update_layout(xaxis_title=f"price of the rule ({currency}): the pool's cost with it minus without it",
                      height=max(240, 28 * len(rows) + 80), margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig


def sweep_curve(table: pd.DataFrame, partners: pd.DataFrame | None = None, currency: str = "EUR",
                parameter: str = "value") -> go.Figure:
    """The pool's cost along a sweep (``value``, ``status``, ``cost``) and, below it, each
    partner's cost (``partners``: value, partner, cost). Infeasible points are marked on the
    axis with a red cross and named in the hover, not dropped."""
    if table is None or table.empty:
        return empty_figure("no sweep points")
    with_partners = partners is not None and not partners.empty
    fig = make_subplots(rows=2 if with_partners else 1, cols=1, shared_xaxes=True,
                        vertical_spacing=0.08,
                        subplot_titles=["the pool's cost"] + (["each partner's cost (proportional)"]
                                                             if with_partners else []))
    values = table["value"].to_numpy(dtype=float)
    costs = table["cost"].to_numpy(dtype=float)
    feasible = np.isfinite(costs)
    fig.add_trace(go.Scatter(x=values, y=np.where(feasible, costs, np.nan), mode="lines+markers",
                             name="pool", line={"color": "#4C78A8"}, connectgaps=False,
                             hovertemplate=f"{parameter} %{{x:g}}: %{{y:,.0f}} {currency}<extra></extra>"),
                  row=1, col=1)
    if (~feasible).any():
        floor = float(np.nanmin(costs)) if feasible.any() else 0.0
        status = table["status"].astype(str).to_numpy()
        fig.add_trace(go.Scatter(x=values[~feasible], y=np.full(int((~feasible).sum()), floor),
                                 mode="markers", name="no plan", marker={"symbol": "x", "size": 12,
                                                                           "color": INFEASIBLE_COLOUR},
                                 text=status[~feasible],
                                 hovertemplate=f"{parameter} %{{x:g}}: %{{text}}<extra></extra>"),
                      row=1, col=1)
    if with_partners:
        for partner, rows in partners.groupby("partner", sort=False):
            fig.add_trace(go.Scatter(x=rows["value"].to_numpy(dtype=float), y=rows["cost"].to_numpy(dtype=float),
                                     mode="lines", name=str(partner), connectgaps=False,
                                     hovertemplate=f"{partner} at %{{x:g}}: %{{y:,.0f}} {currency}<extra></extra>"),
                          row=2, col=1)
    fig.update_xaxes(title_text=parameter, row=2 if with_partners else 1, col=1)
    fig.update_yaxes(title_text=currency)
    fig.update_layout(height=620 if with_partners else 380, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig
