"""Charts of a comparison of scenarios with a baseline: pure functions from the tables of
``store.compare(baseline, names)`` (``Comparison.scenarios`` and ``.partners``) to plotly
figures.

>>> import pandas as pd
>>> scenarios = pd.DataFrame({"scenario": ["base", "cut"], "status": ["optimal", "optimal"],
...                           "total_cost": [100.0, 130.0], "delta": [0.0, 30.0]})
>>> [t.y.tolist() for t in scenario_deltas(scenarios, "base").data]
[[30.0]]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from procure.charts.plan import empty_figure

__all__ = ["INCREASE_COLOUR", "DECREASE_COLOUR", "cost_waterfall", "scenario_deltas"]

#: a cost that rises is bad news (red), one that falls good news (green)
INCREASE_COLOUR = "#C0392B"
DECREASE_COLOUR = "#1E8449"
#: deltas smaller than this (in the currency) are drawn as no change
_NOISE = 0.5


def scenario_deltas(scenarios: pd.DataFrame, baseline: str, currency: str = "EUR") -> go.Figure:
    """Each scenario's change in total cost against the baseline (red: dearer, green:
    cheaper); scenarios without a plan are left out (the table says why)."""
    if scenarios is None or scenarios.empty:
        return empty_figure("no scenarios to compare")
    rows = scenarios[(scenarios["scenario"] != baseline) & scenarios["delta"].notna()]
    if rows.empty:
        return empty_figure("no scenario with a plan besides the baseline")
    delta = rows["delta"].to_numpy(dtype=float)
    fig = go.Figure(go.Bar(
        x=rows["scenario"].astype(str).tolist(), y=delta,
        marker_color=[INCREASE_COLOUR if d > 0 else DECREASE_COLOUR for d in delta],
        text=[f"{d:+,.0f}" for d in delta], textposition="outside",
        hovertemplate=f"%{{x}}: %{{y:+,.0f}} {currency} against {baseline}<extra></extra>"))
    fig.update_layout(yaxis_title=f"change in total cost ({currency})", height=380,
                      bargap=max(0.2, 0.8 - 0.1 * len(rows)),  # a lone bar is not a wall
                      margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig


def cost_waterfall(partners: pd.DataFrame, scenarios: pd.DataFrame, scenario: str,
                   baseline: str, currency: str = "EUR") -> go.Figure:
    """From the baseline's total cost to ``scenario``'s, one step per partner whose cost
    changes (its ``delta`` in ``partners``): who pays for the change. The steps add up to the
    scenario's total because partner costs add up to the total cost."""
    by_name = scenarios.set_index("scenario") if scenarios is not None and len(scenarios) else None
    if by_name is None or scenario not in by_name.index or baseline not in by_name.index:
        return empty_figure(f"{scenario} is not in the comparison")
    base_total = by_name.loc[baseline, "total_cost"]
    total = by_name.loc[scenario, "total_cost"]
    if not (np.isfinite(base_total) and np.isfinite(total)):
        return empty_figure(f"no plan for {scenario if not np.isfinite(total) else baseline}: "
                            "no costs to compare")
    rows = partners[(partners["scenario"] == scenario) & partners["delta"].notna()]
    rows = rows[rows["delta"].abs() > _NOISE]
    labels = [f"{baseline}"] + rows["partner"].astype(str).tolist() + [f"{scenario}"]
    values = [float(base_total)] + rows["delta"].astype(float).tolist() + [float(total)]
    measures = ["absolute"] + ["relative"] * len(rows) + ["total"]
    fig = go.Figure(go.Waterfall(
        x=labels, y=values, measure=measures,
        increasing={"marker": {"color": INCREASE_COLOUR}},
        decreasing={"marker": {"color": DECREASE_COLOUR}},
        totals={"marker": {"color": "#4C78A8"}},
        text=[f"{v:,.0f}" if m != "relative" else f"{v:+,.0f}"
              for v, m in zip(values, measures, strict=True)],
        textposition="outside",
        hovertemplate=f"%{{x}}: %{{y:,.0f}} {currency}<extra></extra>"))
    low = min(float(base_total), float(total), float(base_total) + float(np.minimum(
        np.cumsum(rows["delta"].to_numpy(float)), 0).min(initial=0.0)))
    high = max(float(base_total), float(total), float(base_total) + float(np.maximum(
        np.cumsum(rows["delta"].to_numpy(float)), 0).max(initial=0.0)))
    pad = 0.15 * max(high - low, 0.01 * high, 1.0)
    fig.update_yaxes(range=[max(0.0, low - pad), high + pad], title=currency)
    fig.update_xaxes(type="category")
    fig.update_layout(height=420, showlegend=False, margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig
