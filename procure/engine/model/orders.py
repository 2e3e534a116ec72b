"""The pooled quantity of an offer: minimum order, setup cost and price tiers
(docs/model.md, section 2, constraints 3 and 4).

``Q[s,i] = sum_{p,t} x[p,i,s,t]`` is never a variable of its own: it appears as
that sum in the rows below.  ``M[s,i]`` is the largest pooled quantity the
offer can reach (per period the smaller of its capacity and the demand it may
serve, summed), never an arbitrary 1e9.

Price tiers use one formulation for both discount kinds.  Segment ``k`` covers
``[b_k, b_{k+1}]`` of Q (``b_0 = 0``, the last segment ends at M); a binary
``z[s,i,k]`` chooses the segment and ``q[s,i,k]`` carries Q inside it::

    b_k z_k <= q_k <= min(b_{k+1}, M) z_k,   sum_k z_k <= 1 (= y if the offer has y),
    Q = sum_k q_k,
    cost = sum_k (c_k q_k + F_k z_k)

with ``F_k = 0`` for ``all_units`` (every unit at the segment's price) and
``F_k = C(b_k) - c_k b_k`` for ``incremental`` (``C`` the piecewise cost:
the units below ``b_k`` at their own bands' prices).  Segments starting above
M can never be reached and are not created; an offer none of whose tiers is
reachable is priced at its base price with no binaries at all.  Validation
guarantees prices do not rise with quantity, so at a breakpoint the cheaper
(higher) tier is always the one chosen, as the contract's "largest min_quantity <= Q"
requires.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from procure.engine.model.core import ModelBuilder
from procure.engine.model.index import BuildContext


def plan_tiers(ctx: BuildContext) -> None:
    """Lay out the reachable price segments of every offer (before variables are added)."""
    offers = ctx.offers
    tiers = ctx.data.price_tiers.merge(
        offers[["offer", "supplier", "item", "total_bound"]], on=["supplier", "item"]
    )
    tiers = tiers[tiers["min_quantity"] <= tiers["total_bound"]]
    base = offers.loc[offers["offer"].isin(tiers["offer"]), ["offer", "unit_price", "total_bound"]]
    base = base.assign(min_quantity=0.0)
    seg = pd.concat(
        [base[["offer", "min_quantity", "unit_price", "total_bound"]],
         tiers[["offer", "min_quantity", "unit_price", "total_bound"]]],
        ignore_index=True,
    ).sort_values(["offer", "min_quantity"], kind="stable").reset_index(drop=True)
    nxt = seg.groupby("offer")["min_quantity"].shift(-1)
    seg["upper"] = np.minimum(nxt.fillna(np.inf).to_numpy(), seg["total_bound"].to_numpy())
    seg["discount"] = seg["offer"].map(offers["discount"])
    seg["intercept"] = _incremental_intercepts(seg)
    seg["supplier"] = seg["offer"].map(offers["supplier"])
    seg["item"] = seg["offer"].map(offers["item"])
    ctx.segments = seg
    offers["tiered"] = offers["offer"].isin(seg["offer"])


def _incremental_intercepts(seg: pd.DataFrame) -> np.ndarray:
    """``F_k = C(b_k) - c_k b_k`` for incremental offers, 0 for all-units ones."""
    width = (seg["upper"] - seg["min_quantity"]).to_numpy()
    band_cost = seg["unit_price"].to_numpy() * np.where(np.isfinite(width), width, 0.0)
    # C(b_k): cost of all the bands below segment k
    below = pd.Series(band_cost).groupby(seg["offer"].to_numpy()).cumsum().to_numpy() - band_cost
    intercept = below - seg["unit_price"].to_numpy() * seg["min_quantity"].to_numpy()
    return np.where(seg["discount"].to_numpy() == "incremental", intercept, 0.0)


def add_pooled_quantity(b: ModelBuilder, ctx: BuildContext) -> None:
    """Offer-used binaries ``y``, minimum order, setup cost and price tiers.

    * ``y[s,i]`` binary, only where min_order > 0 or setup_cost > 0 (and the offer
      can deliver at all); cost ``setup_cost``.
    * ``Q - M y <= 0`` (``order_used``; implied by the segments for tiered offers).
    * ``Q - min_order y >= 0`` (``min_order``).
    * tiers as in the module docstring (``tier_low``, ``tier_high``, ``tier_choice``,
      ``tier_link``).
    """
    offers = ctx.offers
    x_offer = ctx.x["offer"].to_numpy()
    reachable = offers["total_bound"].to_numpy() > 0
    needs_y = reachable & ((offers["min_order"] > 0) | (offers["setup_cost"] > 0)).to_numpy()
    with_y = offers.loc[needs_y].reset_index(drop=True)
    y_cols = b.add_variables(
        "used",
        with_y[["supplier", "item", "offer"]],
        cost=with_y["setup_cost"].to_numpy(dtype=float),
        binary=True,
    )
    y_of_offer = np.full(len(offers), -1, dtype=np.int64)
    y_of_offer[with_y["offer"].to_numpy()] = y_cols

    # Q - M y <= 0 for untiered offers with y (a tiered offer's segments already cap Q by M y)
    untiered_y = with_y[~with_y["tiered"].to_numpy()].reset_index(drop=True)
    _pooled_row(b, ctx, "order_used", untiered_y, y_of_offer, x_offer,
                y_coef=-untiered_y["total_bound"].to_numpy(dtype=float), upper=0.0)
    has_min = with_y[with_y["min_order"].to_numpy() > 0].reset_index(drop=True)
    _pooled_row(b, ctx, "min_order", has_min, y_of_offer, x_offer,
                y_coef=-has_min["min_order"].to_numpy(dtype=float), lower=0.0)
    _add_tiers(b, ctx, y_of_offer, x_offer)


def _pooled_row(b, ctx, name, offers_rows: pd.DataFrame, y_of_offer, x_offer, *, y_coef,
                lower=-np.inf, upper=np.inf) -> None:
    """One row per offer: ``sum_{p,t} x[p,i,s,t] + y_coef * y[s,i]`` within bounds."""
    row_of_offer = np.full(len(ctx.offers), -1, dtype=np.int64)
    row_of_offer[offers_rows["offer"].to_numpy()] = np.arange(len(offers_rows))
    x_rows = row_of_offer[x_offer]
    keep = x_rows >= 0
    rows = np.concatenate([x_rows[keep], np.arange(len(offers_rows))])
    cols = np.concatenate([ctx.x_cols[keep], y_of_offer[offers_rows["offer"].to_numpy()]])
    coefs = np.concatenate([np.ones(int(keep.sum())), y_coef])
    b.add_constraints(name, offers_rows[["supplier", "item"]], rows, cols, coefs,
                      lower=lower, upper=upper)


def _add_tiers(b: ModelBuilder, ctx: BuildContext, y_of_offer: np.ndarray, x_offer: np.ndarray) -> None:
    seg = ctx.segments
    n = len(seg)
    index = seg[["supplier", "item", "min_quantity"]]
    q = b.add_variables("tier_quantity", index, upper=seg["upper"].to_numpy(),
                        cost=seg["unit_price"].to_numpy())
    z = b.add_variables("tier_chosen", index, cost=seg["intercept"].to_numpy(), binary=True)
    k = np.arange(n)
    # b_k z_k <= q_k   (segment 0 starts at 0: no row needed)
    low = seg["min_quantity"].to_numpy() > 0
    m = int(low.sum())
    b.add_constraints(
        "tier_low", index[low], np.concatenate([np.arange(m), np.arange(m)]),
        np.concatenate([q[low], z[low]]),
        np.concatenate([np.ones(m), -seg["min_quantity"].to_numpy()[low]]), lower=0.0,
    )
    # q_k <= min(b_{k+1}, M) z_k
    b.add_constraints(
        "tier_high", index, np.concatenate([k, k]), np.concatenate([q, z]),
        np.concatenate([np.ones(n), -seg["upper"].to_numpy()]), upper=0.0,
    )
    # one segment at most, and exactly the offer's y when it has one
    tiered = ctx.offers[ctx.offers["tiered"]].reset_index(drop=True)
    row_of_offer = np.full(len(ctx.offers), -1, dtype=np.int64)
    row_of_offer[tiered["offer"].to_numpy()] = np.arange(len(tiered))
    seg_rows = row_of_offer[seg["offer"].to_numpy()]
    y = y_of_offer[tiered["offer"].to_numpy()]
    has_y = y >= 0
    b.add_constraints(
        "tier_choice", tiered[["supplier", "item"]],
        np.concatenate([seg_rows, np.flatnonzero(has_y)]),
        np.concatenate([z, y[has_y]]),
        np.concatenate([np.ones(n), -np.ones(int(has_y.sum()))]),
        lower=np.where(has_y, 0.0, -np.inf), upper=np.where(has_y, 0.0, 1.0),
    )
    # sum_{p,t} x - sum_k q_k = 0
    x_rows = row_of_offer[x_offer]
    keep = x_rows >= 0
    b.add_constraints(
        "tier_link", tiered[["supplier", "item"]],
        np.concatenate([x_rows[keep], seg_rows]),
        np.concatenate([ctx.x_cols[keep], q]),
        np.concatenate([np.ones(int(keep.sum())), -np.ones(n)]),
        lower=0.0, upper=0.0,
    )
