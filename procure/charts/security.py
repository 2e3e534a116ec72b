"""Charts of supply-chain security and standards: pure functions from the tables of
:mod:`procure.analysis.security` and :mod:`procure.analysis.harmonise` to plotly figures.

Each draws exactly the table it is given; an empty table gives an empty figure that says so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from procure.charts.plan import empty_figure

__all__ = ["disruption_histogram", "harmonise_bars", "partner_exposure_bars", "stress_bars"]

_INFEASIBLE = "#C0392B"
_FEASIBLE = "#4C78A8"
_SHORT = "#F58518"


def stress_bars(table: pd.DataFrame, *, currency: str = "EUR", kind: str = "supplier") -> go.Figure:
    """The cost increase of re-planning without each supplier (``kind`` "country": each
    country), worst first; a re-plan with no plan at all is a red bar at the axis' end,
    labelled "no plan", and one that leaves demand unmet is orange."""
    rows = table[table["kind"] == kind] if "kind" in table else table
    if rows.empty:
        return empty_figure(f"no {kind} to stress")
    rows = rows.copy()
    feasible = rows["status"].isin(["optimal", "feasible"]).to_numpy()
    delta = rows["delta"].to_numpy(dtype=float)
    top = float(np.nanmax(np.where(feasible, delta, np.nan))) if feasible.any() else 1.0
    top = top if np.isfinite(top) and top > 0 else 1.0
    value = np.where(feasible, delta, top * 1.1)
    colour = np.where(~feasible, _INFEASIBLE,
                      np.where(rows["shortfall_units"].to_numpy(dtype=float) > 0, _SHORT, _FEASIBLE))
    text = np.where(feasible, [f"+{d:,.0f} {currency}" for d in np.nan_to_num(delta)], "no plan")
    hover = [d if isinstance(d, str) and d else s for d, s in
             zip(rows.get("diagnosis", pd.Series([""] * len(rows))), rows["status"], strict=True)]
    order = np.argsort(-value, kind="stable")
    fig = go.Figure(go.Bar(
        x=value[order], y=rows["lost"].to_numpy()[order], orientation="h",
        marker_color=colour[order], text=text[order], textposition="auto",
        hovertext=np.asarray(hover, dtype=object)[order], hoverinfo="text+y",
        name="cost increase"))
    fig.update_layout(
        title=f"Re-planning without each {kind}: cost increase",
        xaxis_title=f"increase of the total cost ({currency})", yaxis_title=kind,
        yaxis={"autorange": "reversed"}, height=max(300, 28 * len(rows) + 120),
        margin={"l": 90, "r": 20, "t": 50, "b": 50})
    return fig


def partner_exposure_bars(worst: pd.DataFrame, partner: str, *, currency: str = "EUR") -> go.Figure:
    """The suppliers whose loss would hurt ``partner`` most (the table of
    :meth:`StressTest.worst_for`): its cost increase, "no plan" in red."""
    if worst.empty:
        return empty_figure(f"no supplier to lose for {partner}")
    feasible = worst["status"].isin(["optimal", "feasible"]).to_numpy()
    delta = worst["delta"].to_numpy(dtype=float)
    top = float(np.nanmax(np.where(feasible, delta, np.nan))) if feasible.any() else 1.0
    top = top if np.isfinite(top) and top > 0 else 1.0
    value = np.where(feasible, delta, top * 1.1)
    fig = go.Figure(go.Bar(
        x=value, y=worst["lost"], orientation="h",
        marker_color=np.where(feasible, _FEASIBLE, _INFEASIBLE),
        text=np.where(feasible, [f"+{d:,.0f}" for d in np.nan_to_num(delta)], "no plan"),
        textposition="auto", name=partner))
    fig.update_layout(title=f"Suppliers whose loss would hurt {partner} most",
                      xaxis_title=f"{partner}'s cost increase ({currency})",
                      yaxis={"autorange": "reversed"}, height=max(260, 30 * len(worst) + 120))
    return fig


def disruption_histogram(samples: pd.DataFrame, *, currency: str = "EUR",
                         base: float | None = None) -> go.Figure:
    """The distribution of the total cost over the Monte Carlo draws with a plan (the
    ``samples`` table of :class:`Disruption`); draws that leave demand unmet are stacked in
    orange; the share of draws with no plan at all is in the title. ``base``: the plan
    without failures, drawn as a line."""
    if samples.empty:
        return empty_figure("no draws")
    has_plan = samples["status"].isin(["optimal", "feasible"])
    cost = samples.loc[has_plan, "total_cost"]
    short = samples.loc[has_plan, "shortfall_units"] > 0
    fig = go.Figure()
    fig.add_trace(go.Histogram(x=cost[~short], name="all demand met", marker_color=_FEASIBLE))
    fig.add_trace(go.Histogram(x=cost[short], name="some demand unmet", marker_color=_SHORT))
    if base is not None and np.isfinite(base):
        fig.add_vline(x=base, line_dash="dash", annotation_text="no failure")
    no_plan = float((~has_plan).mean())
    fig.update_layout(barmode="stack",
                      title=f"Total cost over {len(samples)} draws ({no_plan:.1%} with no plan)",
                      xaxis_title=f"total cost ({currency})", yaxis_title="draws")
    return fig


def harmonise_bars(table: pd.DataFrame, *, currency: str = "EUR") -> go.Figure:
    """What each Substitutes row (and each candidate row) saves the pool, largest first."""
    if table.empty:
        return empty_figure("no Substitutes row to value")
    rows = table.sort_values("value", ascending=False, kind="stable")
    label = [f"{p or 'every partner'}: {s} for {i}" for p, i, s in
             zip(rows["partner"].where(rows["partner"].notna(), None), rows["item"],
                 rows["substitute"], strict=True)]
    colour = np.where(rows.get("kind", pd.Series(["row"] * len(rows))).to_numpy() == "candidate",
                      _SHORT, _FEASIBLE)
    fig = go.Figure(go.Bar(x=rows["value"], y=label, orientation="h", marker_color=colour,
                           text=[f"{v:,.0f}" if np.isfinite(v) else "no plan" for v in rows["value"]],
                           textposition="auto"))
    fig.update_layout(title="The value of harmonising: what each qualification saves the pool",
                      xaxis_title=f"saving ({currency})", yaxis={"autorange": "reversed"},
                      height=max(260, 30 * len(rows) + 120))
    return fig
