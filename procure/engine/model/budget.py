"""Budgets (docs/model.md, section 2, constraint 5)."""

from __future__ import annotations

import numpy as np

from procure.engine.model.core import ModelBuilder
from procure.engine.model.index import BuildContext


def add_budgets(b: ModelBuilder, ctx: BuildContext) -> None:
    """Per partner with a budget:
    ``sum_{i,s,t} (unit_price[s,i] + transport[s,p,i]) * x[p,i,s,t] <= budget[p]``.

    Value is at the base price: discounts only lower what is paid, so a plan
    within budget at base prices is within budget at the prices paid. Dual:
    the saving from one more unit of budget (``budget_duals``).
    """
    partners = ctx.data.partners
    limited = partners[partners["budget"].notna()].reset_index(drop=True)
    row_of_partner = dict(zip(limited["partner"], range(len(limited)), strict=True))
    x_rows = ctx.x["partner"].map(row_of_partner).to_numpy(dtype=float)
    keep = ~np.isnan(x_rows)
    x = ctx.x[keep]
    b.add_constraints(
        "budget",
        limited[["partner"]],
        x_rows[keep].astype(np.int64),
        ctx.x_cols[keep],
        (x["base_price"] + x["transport_cpu"]).to_numpy(dtype=float),
        upper=limited["budget"].to_numpy(dtype=float),
    )
