"""Charts of one plan: pure functions from the tables of a :class:`procure.Result` to plotly
figures (see docs/results.md for the tables).

Each function draws exactly the table it is given: the numbers in the figure are the table's
numbers (sums and labels are checked by tests/test_charts_plan.py), and an empty table gives
an empty figure that says so rather than an error.

>>> import procure
>>> result = procure.solve(procure.datasets.load_demo())
>>> fig = cost_per_partner(result.partner_costs, result.currency)
>>> [trace.name for trace in fig.data]
['purchase', 'setup', 'transport', 'shortfall']
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from procure.data.schema import COUNT_RULES, QUANTITY_RULES, SHARE_RULES
from procure.data.tables import period_sort_key

__all__ = [
    "COST_PARTS",
    "RULE_PANELS",
    "cost_per_partner",
    "capacity_marginal_values",
    "demand_marginal_costs",
    "empty_figure",
    "marginal_cost_grid",
    "marginal_values",
    "partner_deliveries",
    "partner_spend_by_supplier",
    "rule_achievement",
    "rule_rows",
    "sharing_methods",
    "supply_sankey",
    "tightest_utilisation",
    "utilisation_heatmap",
]

#: the parts of the total cost, in the order they are stacked
COST_PARTS = ("purchase", "setup", "transport", "shortfall")
PART_COLOURS = {"purchase": "#4C78A8", "setup": "#F58518", "transport": "#54A24B",
                "shortfall": "#E45756"}
BINDS_COLOUR = "#C0392B"
SLACK_COLOUR = "#95A5A6"
#: rule kinds drawn in their own panel, with the unit of their axis
RULE_PANELS = (
    ("share", (*SHARE_RULES, "workshare"), "share of the quantity or value"),
    ("quantity", QUANTITY_RULES, "units"),
    ("count", COUNT_RULES, "suppliers"),
    ("unmet", ("n_minus_1",), "demand unmet without one supplier (N-1), share of the demand"),
)


def empty_figure(text: str) -> go.Figure:
    """A blank figure carrying one sentence (what is missing and why)."""
    fig = go.Figure()
    fig.add_annotation(text=text, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font={"size": 14})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(height=160, margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return fig


def _periods(values) -> list[str]:
    return sorted({str(v) for v in values}, key=period_sort_key)


# --------------------------------------------------------------------------- costs


def cost_per_partner(partner_costs: pd.DataFrame, currency: str = "EUR") -> go.Figure:
    """Each partner's cost (proportional sharing) stacked as purchase, setup, transport and
    shortfall: one bar trace per part, partners in the table's order."""
    if partner_costs is None or partner_costs.empty:
        return empty_figure("no plan: no cost per partner")
    fig = go.Figure()
    partners = partner_costs["partner"].astype(str).tolist()
    for part in COST_PARTS:
        fig.add_bar(name=part, x=partners, y=partner_costs[part].to_numpy(dtype=float),
                    marker_color=PART_COLOURS[part],
                    hovertemplate=f"%{{x}} {part}: %{{y:,.0f}} {currency}<extra></extra>")
    fig.update_layout(barmode="stack", yaxis_title=currency, xaxis_title="partner",
                      legend_title_text="cost part", height=420,
                      margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig


def sharing_methods(costs: pd.DataFrame, currency: str = "EUR") -> go.Figure:
    """One partner's cost under each way of sharing (columns ``method``, ``cost``), e.g.
    alone, proportional, Shapley, nucleolus."""
    if costs is None or costs.empty:
        return empty_figure("no cost to compare")
    fig = go.Figure(go.Bar(x=costs["method"].astype(str).tolist(),
                           y=costs["cost"].to_numpy(dtype=float),
                           marker_color="#4C78A8",
                           text=[f"{v:,.0f}" for v in costs["cost"]], textposition="outside",
                           hovertemplate=f"%{{x}}: %{{y:,.0f}} {currency}<extra></extra>"))
    fig.update_layout(yaxis_title=currency, height=360, margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig


# --------------------------------------------------------------------------- flows


def supply_sankey(allocation: pd.DataFrame, currency: str = "EUR") -> go.Figure:
    """Where the money goes: supplier countries -> suppliers -> partners, each link the value of
    the allocation rows it stands for (``cost``: quantity x unit price paid + transport; setup
    costs are not deliveries and are left out)."""
    if allocation is None or allocation.empty:
        return empty_figure("no deliveries in this plan")
    alloc = allocation.assign(supplier=allocation["supplier"].astype(str),
                              supplier_country=allocation["supplier_country"].astype(str),
                              partner=allocation["partner"].astype(str))
    countries = sorted(alloc["supplier_country"].unique())
    suppliers = sorted(alloc["supplier"].unique())
    partners = list(dict.fromkeys(alloc["partner"]))
    labels = ([f"made in {c}" for c in countries] + suppliers + partners)
    index = {("country", c): k for k, c in enumerate(countries)}
    index |= {("supplier", s): len(countries) + k for k, s in enumerate(suppliers)}
    index |= {("partner", p): len(countries) + len(suppliers) + k for k, p in enumerate(partners)}
    first = alloc.groupby(["supplier_country", "supplier"], sort=True)["cost"].sum().reset_index()
    second = alloc.groupby(["supplier", "partner"], sort=True)["cost"].sum().reset_index()
    source = ([index["country", c] for c in first["supplier_country"]]
              + [index["supplier", s] for s in second["supplier"]])
    target = ([index["supplier", s] for s in first["supplier"]]
              + [index["partner", p] for p in second["partner"]])
    value = np.concatenate([first["cost"].to_numpy(float), second["cost"].to_numpy(float)])
    fig = go.Figure(go.Sankey(
        arrangement="snap",
        node={"label": labels, "pad": 12, "thickness": 14,
              "hovertemplate": f"%{{label}}: %{{value:,.0f}} {currency}<extra></extra>"},
        link={"source": source, "target": target, "value": value,
              "hovertemplate": (f"%{{source.label}} -> %{{target.label}}: %{{value:,.0f}} "
                                f"{currency}<extra></extra>")},
    ))
    fig.update_layout(height=max(420, 18 * len(labels)), margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return fig


def tightest_utilisation(supplier_use: pd.DataFrame, offer_use: pd.DataFrame) -> pd.DataFrame:
    """Per supplier and period, the tightest of its capacity limits: the larger of its shared
    capacity's utilisation (``supplier_use``) and its offers' per-item utilisation
    (``offer_use``). Rows supplier, columns periods; NaN where the supplier has no limit."""
    parts = []
    for table in (supplier_use, offer_use):
        if table is not None and not table.empty:
            parts.append(table[["supplier", "period", "utilisation"]].astype(
                {"supplier": str, "period": str}))
    if not parts:
        return pd.DataFrame()
    both = pd.concat(parts, ignore_index=True)
    grid = both.groupby(["supplier", "period"])["utilisation"].max().unstack("period")
    return grid.reindex(columns=_periods(both["period"])).sort_index()


def utilisation_heatmap(supplier_use: pd.DataFrame, offer_use: pd.DataFrame) -> go.Figure:
    """Supplier x period heatmap of :func:`tightest_utilisation` (100 %: a capacity limit is
    reached; blank: no limit)."""
    grid = tightest_utilisation(supplier_use, offer_use)
    if grid.empty:
        return empty_figure("no supplier capacity in this plan")
    z = grid.to_numpy(dtype=float)
    fig = go.Figure(go.Heatmap(
        z=z, x=list(grid.columns), y=list(grid.index), zmin=0.0, zmax=1.0,
        colorscale=[[0.0, "#F7FBFF"], [0.7, "#FDAE6B"], [1.0, "#A50F15"]],
        texttemplate="%{z:.0%}", colorbar={"title": "used", "tickformat": ".0%"},
        hovertemplate="%{y} in %{x}: %{z:.1%} of its tightest capacity<extra></extra>",
    ))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category", title="period")
    fig.update_layout(height=max(300, 26 * len(grid) + 80), margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return fig


# --------------------------------------------------------------------------- rules


def rule_rows(rules: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``result.rules`` a chart of required vs achieved draws (bans, which allow
    nothing, are left out), each with a unique ``label`` and its ``panel``."""
    if rules is None or rules.empty:
        return pd.DataFrame(columns=[*([] if rules is None else rules.columns), "label", "panel"])
    table = rules[rules["rule"] != "ban"].reset_index(drop=True)
    panel = pd.Series(pd.NA, index=table.index, dtype=object)
    for name, kinds, _unit in RULE_PANELS:
        panel[table["rule"].isin(kinds)] = name
    names = table["name"].astype(str)
    subject = table["subject"]
    label = names.where(~names.duplicated(keep=False) | subject.isna(),
                        names + " (" + subject.astype(str) + ")")
    dup = label.duplicated(keep=False)
    label[dup] = label[dup] + " [" + table.loc[dup, "rule_id"].astype(str) + "]"
    return table.assign(label=label, panel=panel).dropna(subset=["panel"]).reset_index(drop=True)


def rule_achievement(rules: pd.DataFrame) -> go.Figure:
    """Each rule's required level (a tick) against what the plan achieves (a bar, red where
    the rule binds), one panel per unit: shares, quantities, supplier counts."""
    table = rule_rows(rules)
    if table.empty:
        return empty_figure("no rules other than bans in this workbook")
    panels = [(name, unit) for name, _kinds, unit in RULE_PANELS if (table["panel"] == name).any()]
    sizes = [int((table["panel"] == name).sum()) for name, _ in panels]
    fig = make_subplots(rows=len(panels), cols=1, row_heights=sizes, vertical_spacing=0.08,
                        subplot_titles=[unit for _, unit in panels])
    shown = set()
    for row, (name, _unit) in enumerate(panels, start=1):
        part = table[table["panel"] == name]
        percent = name in ("share", "unmet")
        for binds, colour, legend in ((True, BINDS_COLOUR, "achieved (rule binds)"),
                                      (False, SLACK_COLOUR, "achieved (slack)")):
            sub = part[part["binds"].astype(bool) == binds]
            if sub.empty:
                continue
            fig.add_bar(
                x=sub["achieved"].to_numpy(dtype=float), y=sub["label"].tolist(), orientation="h",
                marker_color=colour, name=legend, legendgroup=legend,
                showlegend=legend not in shown, row=row, col=1,
                hovertemplate="%{y}: achieved %{x" + (":.1%" if percent else ":,.4g") + "}<extra></extra>",
            )
            shown.add(legend)
        fig.add_scatter(
            x=part["target"].to_numpy(dtype=float), y=part["label"].tolist(), mode="markers",
            marker={"symbol": "line-ns", "size": 18, "line": {"width": 3, "color": "#1F2D3D"}},
            name="required (>= or <=)", legendgroup="required", showlegend="required" not in shown,
            customdata=part["sense"].astype(str).tolist(), row=row, col=1,
            hovertemplate="%{y}: required %{customdata} %{x" + (":.1%" if percent else ":,.4g")
                          + "}<extra></extra>",
        )
        shown.add("required")
        if percent:
            fig.update_xaxes(tickformat=".0%", row=row, col=1)
        # rows in the table's order (bars are added binding first)
        fig.update_yaxes(categoryorder="array", categoryarray=part["label"].tolist(),
                         autorange="reversed", row=row, col=1)
    fig.update_layout(height=max(320, 28 * len(table) + 90 * len(panels)), barmode="overlay",
                      margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      legend={"orientation": "h", "y": -0.05})
    return fig


# --------------------------------------------------------------------------- duals


def demand_marginal_costs(demand_duals: pd.DataFrame, currency: str = "EUR") -> go.Figure:
    """Partner x item heatmap of the cost of one more unit demanded (duals), averaged over the
    periods. Items cost very different amounts (a missile, a drone), so each item's column is
    coloured against its own highest value; the cells say the amounts."""
    if demand_duals is None or demand_duals.empty:
        return empty_figure("no marginal costs: the solver gave no duals")
    grid = marginal_cost_grid(demand_duals)
    values = grid.to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        top = np.nanmax(np.abs(values), axis=0)
        shade = values / np.where(top > 0, top, 1.0)
    fig = go.Figure(go.Heatmap(
        z=shade, x=list(grid.columns), y=list(grid.index), customdata=values,
        text=[[_short(v) for v in row] for row in values], texttemplate="%{text}",
        colorscale="Blues", zmin=0, zmax=1, showscale=False,
        hovertemplate=(f"%{{y}}, %{{x}}: %{{customdata:,.2f}} {currency} per unit "
                       "(mean over the periods)<extra></extra>")))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category", side="top")
    fig.update_layout(height=max(300, 28 * len(grid) + 100), margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def marginal_cost_grid(demand_duals: pd.DataFrame) -> pd.DataFrame:
    """Rows partner, columns item (in the table's order): the mean over the periods of the
    marginal cost of one more unit demanded."""
    table = demand_duals.astype({"partner": str, "item": str})
    grid = table.pivot_table(index="partner", columns="item", values="marginal_cost",
                             aggfunc="mean", sort=False)
    return grid.reindex(index=list(dict.fromkeys(table["partner"])),
                        columns=list(dict.fromkeys(table["item"])))


def _short(value: float) -> str:
    if value != value:
        return ""
    size = abs(value)
    for limit, suffix in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if size >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


def capacity_marginal_values(capacity_duals: pd.DataFrame, budget_duals: pd.DataFrame,
                             currency: str = "EUR", top: int = 15) -> go.Figure:
    """What one more unit of a capacity or of a budget would save (duals): the ``top``
    non-zero ones, largest first."""
    table = marginal_values(capacity_duals, budget_duals).head(top)
    if table.empty:
        return empty_figure("no capacity or budget limits with a marginal value")
    fig = go.Figure()
    for kind, colour in (("capacity", "#4C78A8"), ("budget", "#F58518")):
        sub = table[table["kind"] == kind]
        if len(sub):
            fig.add_bar(x=sub["value"].to_numpy(), y=sub["label"].tolist(), orientation="h",
                        name=kind, marker_color=colour,
                        hovertemplate=f"%{{y}}: %{{x:,.2f}} {currency} per unit<extra></extra>")
    fig.update_yaxes(autorange="reversed", categoryorder="array",
                     categoryarray=table["label"].tolist())
    fig.update_layout(height=max(280, 24 * len(table) + 80), xaxis_title=f"{currency} per unit",
                      margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return fig


def marginal_values(capacity_duals: pd.DataFrame, budget_duals: pd.DataFrame) -> pd.DataFrame:
    """label, kind (capacity or budget), value: every non-zero marginal value, largest first."""
    rows = []
    if capacity_duals is not None and not capacity_duals.empty:
        cap = capacity_duals
        item = cap["item"].where(cap["item"].notna(), "shared")
        rows.append(pd.DataFrame({
            "label": cap["supplier"].astype(str) + " " + item.astype(str) + " " + cap["period"].astype(str),
            "kind": "capacity", "value": cap["marginal_value"].to_numpy(dtype=float)}))
    if budget_duals is not None and not budget_duals.empty:
        rows.append(pd.DataFrame({"label": "budget " + budget_duals["partner"].astype(str),
                                  "kind": "budget",
                                  "value": budget_duals["marginal_value"].to_numpy(dtype=float)}))
    table = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["label", "kind", "value"])
    table = table[table["value"].abs() > 1e-9]
    return table.sort_values("value", ascending=False, kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- one partner


def partner_deliveries(fulfilment: pd.DataFrame, partner: str) -> go.Figure:
    """One partner's demand (outlined) and deliveries (filled) per period, a panel per item."""
    table = fulfilment[fulfilment["partner"].astype(str) == str(partner)] if fulfilment is not None else None
    if table is None or table.empty:
        return empty_figure(f"no demand for {partner}")
    items = list(dict.fromkeys(table["item"].astype(str)))
    cols = min(3, len(items))
    rows = math.ceil(len(items) / cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=items, vertical_spacing=0.12)
    for k, item in enumerate(items):
        sub = table[table["item"].astype(str) == item]
        order = sorted(range(len(sub)), key=lambda j: period_sort_key(str(sub["period"].iloc[j])))
        sub = sub.iloc[order]
        periods = sub["period"].astype(str).tolist()
        r, c = divmod(k, cols)
        fig.add_bar(x=periods, y=sub["demand"].to_numpy(dtype=float), name="demand",
                    marker={"color": "rgba(0,0,0,0)", "line": {"color": "#1F2D3D", "width": 2}},
                    legendgroup="demand", showlegend=k == 0, row=r + 1, col=c + 1,
                    hovertemplate=f"{item} %{{x}}: demand %{{y:,.0f}}<extra></extra>")
        fig.add_bar(x=periods, y=sub["delivered"].to_numpy(dtype=float), name="delivered",
                    marker_color="#4C78A8", legendgroup="delivered", showlegend=k == 0,
                    row=r + 1, col=c + 1,
                    hovertemplate=f"{item} %{{x}}: delivered %{{y:,.0f}}<extra></extra>")
        fig.update_xaxes(type="category", row=r + 1, col=c + 1)
    fig.update_layout(barmode="overlay", height=260 * rows + 40,
                      margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def partner_spend_by_supplier(allocation: pd.DataFrame, partner: str,
                              currency: str = "EUR") -> go.Figure:
    """What one partner spends with each supplier (allocation ``cost``), stacked by item,
    largest supplier first: the suppliers it depends on."""
    table = allocation[allocation["partner"].astype(str) == str(partner)] if allocation is not None else None
    if table is None or table.empty:
        return empty_figure(f"no deliveries to {partner}")
    spend = table.groupby(["supplier", "item"], sort=False)["cost"].sum().reset_index()
    order = spend.groupby("supplier")["cost"].sum().sort_values(ascending=False).index.tolist()
    fig = go.Figure()
    for item in dict.fromkeys(spend["item"]):
        sub = spend[spend["item"] == item].set_index("supplier").reindex(order)
        fig.add_bar(y=order, x=sub["cost"].to_numpy(dtype=float), name=str(item), orientation="h",
                    hovertemplate=f"%{{y}} {item}: %{{x:,.0f}} {currency}<extra></extra>")
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(barmode="stack", xaxis_title=currency, legend_title_text="item",
                      height=max(260, 30 * len(order) + 100), margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return fig
