"""Supplier capacity (docs/model.md, section 2, constraint 2)."""

from __future__ import annotations

import numpy as np

from procure.engine.model.core import ModelBuilder
from procure.engine.model.index import BuildContext, period_capacity


def add_offer_capacity(b: ModelBuilder, ctx: BuildContext) -> None:
    """Per offer and period:  ``sum_p x[p,i,s,t] <= capacity[s,i,t]``.

    ``capacity[s,i,t]`` is the Capacity sheet's value, else Offers.capacity;
    unlimited offers get no row. Dual: the saving from one more unit of the
    offer's capacity in that period (reported as ``capacity_duals``).
    """
    x = ctx.x
    keys = x[["offer", "supplier", "item", "period"]]
    groups = keys.groupby(["offer", "period"], sort=False).ngroup().to_numpy()
    cells = keys.drop_duplicates(["offer", "period"]).reset_index(drop=True)
    cells = cells.assign(capacity=cells["offer"].map(ctx.offers["capacity"]))
    cap = period_capacity(ctx.data, cells)
    limited = np.isfinite(cap)
    new_row = np.full(len(cells), -1, dtype=np.int64)
    new_row[limited] = np.arange(int(limited.sum()))
    rows = new_row[groups]
    keep = rows >= 0
    b.add_constraints(
        "offer_capacity",
        cells.loc[limited, ["supplier", "item", "period"]],
        rows[keep],
        ctx.x_cols[keep],
        np.ones(int(keep.sum())),
        upper=cap[limited],
    )


def add_shared_capacity(b: ModelBuilder, ctx: BuildContext) -> None:
    """Per supplier with a shared capacity and period:
    ``sum_i capacity_use[s,i] * sum_p x[p,i,s,t] <= capacity[s]``."""
    x = ctx.x
    shared = ctx.data.suppliers.set_index("supplier")["capacity"]
    cap_of_row = x["supplier"].map(shared).to_numpy(dtype=float)
    limited = ~np.isnan(cap_of_row)
    sub = x.loc[limited, ["supplier", "period"]]
    cells = sub.drop_duplicates().reset_index(drop=True)
    rows = (
        sub.merge(cells.reset_index(names="cell"), on=["supplier", "period"], how="left")["cell"]
        .to_numpy(dtype=np.int64)
    )
    b.add_constraints(
        "shared_capacity",
        cells,
        rows,
        ctx.x_cols[limited],
        x.loc[limited, "capacity_use"].to_numpy(dtype=float),
        upper=cells["supplier"].map(shared).to_numpy(dtype=float),
    )


