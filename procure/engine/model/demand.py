"""Deliveries, shortfall and the demand balance (docs/model.md, section 2, constraint 1)."""

from __future__ import annotations

import numpy as np

from procure.engine.model.core import ModelBuilder
from procure.engine.model.index import BuildContext


def add_deliveries(b: ModelBuilder, ctx: BuildContext) -> None:
    """Variables ``x[p,d,i,s,t] >= 0`` on the allowed index only (item i delivered against
    p's demand for d; i = d unless a Substitutes row lets p take i for d), integer when i is
    a ``whole_units`` item.

    Cost per unit: transport ``cost_per_unit`` always, plus the offer's base
    ``unit_price`` when the offer has no price tiers (a tiered offer's purchase
    cost sits on its tier variables instead, see :func:`add_pooled_quantity`).
    No upper bound: demand and capacity rows imply one, and a redundant bound
    would take the marginal value that the economic duals must show (a degenerate
    LP then reports, say, a demand dual absorbed by the bound instead of capacity).
    """
    x = ctx.x
    tiered = ctx.offers["tiered"].to_numpy()[x["offer"].to_numpy()] if len(x) else np.zeros(0, bool)
    cost = x["transport_cpu"].to_numpy() + np.where(tiered, 0.0, x["base_price"].to_numpy())
    cols = b.add_variables(
        "x",
        x[["partner", "item", "supplier", "period", "demand_item"]],
        cost=cost,
        integer=x["whole_units"].to_numpy(dtype=bool),
    )
    ctx.x_start = int(cols[0]) if len(cols) else b.num_cols


def add_shortfall(b: ModelBuilder, ctx: BuildContext) -> None:
    """Variables ``u[p,i,t] >= 0`` for items with a shortfall_penalty, costing that penalty per unit
    (``u <= demand`` follows from the demand row)."""
    penalty = ctx.data.items.set_index("item")["shortfall_penalty"]
    d = ctx.demand.assign(penalty=ctx.demand["item"].map(penalty).astype(float))
    d = d[d["penalty"].notna()]
    b.add_variables(
        "shortfall",
        d[["partner", "item", "period", "demand_row"]],
        cost=d["penalty"].to_numpy(dtype=float),
    )


def add_demand(b: ModelBuilder, ctx: BuildContext) -> None:
    """Demand is met exactly:  ``sum_{i,s} x[p,d,i,s,t] + u[p,d,t] = demand[p,d,t]``
    (i over d and the substitutes p accepts for d).

    One row per Demand row with quantity > 0 (``demand_<row>``). Its dual is the
    marginal cost of one more unit demanded by p of i in t.
    """
    d = ctx.demand
    row_of_demand = np.full(len(ctx.data.demand), -1, dtype=np.int64)
    row_of_demand[d["demand_row"].to_numpy()] = np.arange(len(d))
    x_rows = row_of_demand[ctx.x["demand_row"].to_numpy()]
    u_block = b.variables["shortfall"]
    u_rows = row_of_demand[u_block.index["demand_row"].to_numpy()]
    rows = np.concatenate([x_rows, u_rows])
    cols = np.concatenate([ctx.x_cols, u_block.positions])
    qty = d["quantity"].to_numpy(dtype=float)
    b.add_constraints(
        "demand",
        d[["partner", "item", "period", "demand_row"]],
        rows,
        cols,
        np.ones(len(rows)),
        lower=qty,
        upper=qty,
    )
