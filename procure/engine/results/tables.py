"""The plan's tables: offers and their tiers, allocation, fulfilment, partner costs (the
proportional split), supplier and offer use (docs/results.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from procure.data.tables import ProcureData
from procure.engine.model.index import BuildContext, period_capacity
from procure.engine.results.values import ZERO_RTOL, block_values


def offer_table(data, model, ctx, v, x_val, cells: pd.DataFrame) -> pd.DataFrame:
    offers = ctx.offers
    n = len(offers)
    pooled = np.bincount(ctx.x["offer"].to_numpy(), weights=x_val, minlength=n)
    tier_min = np.zeros(n)
    price = offers["unit_price"].to_numpy(dtype=float).copy()
    purchase = price * pooled
    seg = ctx.segments
    if seg is not None and len(seg):
        # the contract: the tier with the largest min_quantity <= Q, read off Q itself. The segment the
        # solver chose may be the band below when Q sits exactly on a breakpoint (same cost for
        # incremental, where C(Q) is continuous; never cheaper for all_units).
        reached = seg["min_quantity"].to_numpy() <= pooled[seg["offer"].to_numpy()] * (1 + ZERO_RTOL)
        pick = seg[reached].groupby("offer", sort=False).tail(1)
        o = pick["offer"].to_numpy()
        tier_min[o] = pick["min_quantity"].to_numpy()
        seg_price = pick["unit_price"].to_numpy()
        purchase[o] = seg_price * pooled[o] + pick["intercept"].to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            price[o] = np.where(pooled[o] > 0, purchase[o] / np.where(pooled[o] > 0, pooled[o], 1),
                                seg_price)
    used = pooled > 0
    setup_paid = np.zeros(n)
    if model.variables["used"].size:
        y_idx = model.variables["used"].index["offer"].to_numpy()
        # an offer is used when it delivers: a plan stopped by the time limit may still have
        # y = 1 on an offer that orders nothing, a setup it need not pay (y = 0 is feasible)
        y_val = (block_values(model, v, "used") > 0.5) & used[y_idx]
        setup_paid[y_idx] = np.where(y_val, offers["setup_cost"].to_numpy()[y_idx], 0.0)
    cap_total = _offer_capacity_total(ctx, cells)
    return pd.DataFrame({
        "supplier": offers["supplier"].to_numpy(),
        "item": offers["item"].to_numpy(),
        "discount": offers["discount"].to_numpy(),
        "pooled_quantity": pooled,
        "tier_min_quantity": tier_min,
        "base_price": offers["unit_price"].to_numpy(dtype=float),
        "unit_price": price,
        "purchase_cost": purchase,
        "setup_cost": setup_paid,
        "used": used,
        "min_order": offers["min_order"].to_numpy(dtype=float),
        "capacity_total": cap_total,
    })


def _offer_capacity_total(ctx: BuildContext, cells: pd.DataFrame) -> np.ndarray:
    cap = cells["capacity"].to_numpy()
    total = pd.Series(cap).groupby(cells["offer"].to_numpy()).sum(min_count=1)
    out = np.full(len(ctx.offers), np.nan)
    out[total.index.to_numpy()] = total.to_numpy()
    out[np.isinf(out)] = np.nan  # unlimited (docs/results.md); a workbook cannot hold inf
    return out


def offer_periods(data: ProcureData, ctx: BuildContext) -> pd.DataFrame:
    """Every (offer, period) from the offer's first period on, with its capacity (inf: none)."""
    offers = ctx.offers
    periods = pd.DataFrame({"period": list(data.periods), "period_pos": np.arange(len(data.periods))})
    cells = offers[["offer", "supplier", "item", "capacity", "first_pos"]].merge(periods, how="cross")
    cells = cells[cells["period_pos"] >= cells["first_pos"]].reset_index(drop=True)
    cells["capacity"] = period_capacity(data, cells)
    return cells


def allocation(x: pd.DataFrame, x_val: np.ndarray, offers: pd.DataFrame) -> pd.DataFrame:
    keep = x_val > 0
    sub = x[keep]
    q = x_val[keep]
    paid = offers["unit_price"].to_numpy()[sub["offer"].to_numpy()]
    transport = sub["transport_cpu"].to_numpy() * q
    return pd.DataFrame({
        "partner": sub["partner"].to_numpy(),
        "item": sub["item"].to_numpy(),
        "demand_item": sub["demand_item"].to_numpy(),
        "supplier": sub["supplier"].to_numpy(),
        "supplier_country": sub["supplier_country"].to_numpy(),
        "period": sub["period"].to_numpy(),
        "quantity": q,
        "unit_price": paid,
        "base_price": sub["base_price"].to_numpy(),
        "transport": transport,
        "cost": q * paid + transport,
    }).sort_values(["partner", "item", "period", "supplier", "demand_item"],
                   kind="stable").reset_index(drop=True)


def fulfilment(data, model, ctx, v, x_val) -> pd.DataFrame:
    d = data.demand
    n = len(d)
    delivered = np.bincount(ctx.x["demand_row"].to_numpy(), weights=x_val, minlength=n)
    short = np.zeros(n)
    ub = model.variables["shortfall"]
    if ub.size:
        short[ub.index["demand_row"].to_numpy()] = block_values(model, v, "shortfall")
    penalty = d["item"].map(data.items.set_index("item")["shortfall_penalty"]).to_numpy(dtype=float)
    return pd.DataFrame({
        "partner": d["partner"].to_numpy(),
        "item": d["item"].to_numpy(),
        "period": d["period"].to_numpy(),
        "demand": d["quantity"].to_numpy(dtype=float),
        "delivered": delivered,
        "shortfall": short,
        "shortfall_cost": np.nan_to_num(short * penalty),
    })


def partner_costs(data, x, x_val, alloc, offers, fulfil, setup_paid) -> pd.DataFrame:
    """Proportional sharing: each offer's purchase and setup cost split by quantity share,
    plus the partner's own transport and shortfall cost."""
    n = len(data.partners)
    pooled = offers["pooled_quantity"].to_numpy()
    o = x["offer"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(pooled[o] > 0, x_val / np.where(pooled[o] > 0, pooled[o], 1), 0.0)
    partner = x["partner"].cat.codes.to_numpy()  # categories are data.partners, in order

    def per_partner(weights: np.ndarray) -> np.ndarray:
        return np.bincount(partner, weights=weights, minlength=n)

    cpu = x["transport_cpu"].to_numpy()
    short = fulfil.groupby("partner")["shortfall_cost"].sum()
    table = pd.DataFrame({
        "partner": data.partners["partner"].to_numpy(),
        "quantity": per_partner(x_val),
        "purchase": per_partner(x_val * offers["unit_price"].to_numpy()[o]),
        "setup": per_partner(share * setup_paid[o]),
        "transport": per_partner(x_val * cpu),
    })
    table["shortfall"] = table["partner"].map(short).fillna(0.0).to_numpy(dtype=float)
    table["total"] = table[["purchase", "setup", "transport", "shortfall"]].sum(axis=1)
    table["budget"] = data.partners["budget"].to_numpy(dtype=float)
    table["budget_value"] = per_partner(x_val * (x["base_price"].to_numpy() + cpu))
    return table


def supplier_use(data, x, x_val) -> pd.DataFrame:
    """Per (supplier, period) with a shared capacity or any delivery."""
    sup = data.suppliers
    n_t = len(data.periods)
    cell = x["supplier"].cat.codes.to_numpy().astype(np.int64) * n_t + x["period_pos"].to_numpy()
    size = len(sup) * n_t
    quantity = np.bincount(cell, weights=x_val, minlength=size)
    used = np.bincount(cell, weights=x_val * x["capacity_use"].to_numpy(), minlength=size)
    capacity = np.repeat(sup["capacity"].to_numpy(dtype=float), n_t)
    keep = np.flatnonzero((quantity > 0) | ~np.isnan(capacity))  # supplier-major, periods in order
    s, t = np.divmod(keep, n_t)
    with np.errstate(invalid="ignore", divide="ignore"):
        utilisation = used[keep] / capacity[keep]
    table = pd.DataFrame({
        "supplier": sup["supplier"].to_numpy()[s],
        "country": sup["country"].to_numpy()[s],
        "period": np.asarray(data.periods, dtype=object)[t],
        "quantity": quantity[keep],
        "capacity_used": used[keep],
        "capacity": capacity[keep],
        "utilisation": utilisation,
    })
    return table.sort_values("supplier", kind="stable").reset_index(drop=True)


def offer_use(data, ctx, x_val, cells: pd.DataFrame) -> pd.DataFrame:
    n_t = len(data.periods)
    key = ctx.x["offer"].to_numpy().astype(np.int64) * n_t + ctx.x["period_pos"].to_numpy()
    quantity = np.bincount(key, weights=x_val, minlength=len(ctx.offers) * n_t)
    table = cells.assign(quantity=quantity[cells["offer"].to_numpy() * n_t + cells["period_pos"].to_numpy()])
    cap = table["capacity"].replace(np.inf, np.nan)
    table["capacity"] = cap
    with np.errstate(invalid="ignore", divide="ignore"):
        table["utilisation"] = np.where(cap > 0, table["quantity"] / cap,
                                        np.where(cap == 0, 0.0, np.nan))
    return table[["supplier", "item", "period", "quantity", "capacity", "utilisation"]].reset_index(drop=True)
