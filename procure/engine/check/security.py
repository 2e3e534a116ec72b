"""The check families of supply-chain security and standards: whole units and N-1 rules.
(Substitutes are checked with every delivery, family ``delivery`` of :mod:`.supply`.)

``n_minus_1`` re-covers the plan of the allocation table without each contingency of each
rule, by an LP of its own (never the model's re-covery columns): per contingency, deliveries
on the data's allowed rows serving the rule's demand in scope, except the lost suppliers',
at most the planned deliveries to the scope plus the offer's surge per offer and period,
within the offer's capacity and its supplier's shared capacity (net of the plan's
deliveries outside the scope), never more than a demand row; the most it can re-cover must
leave at most the rule's share of the demand in scope unmet.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from procure.engine.check.core import (
    Plan,
    concat,
    delivery_names,
    family,
    no_violations,
    tolerance,
    violations,
)
from procure.engine.model.index import blank_to_none, build_context, item_mask, period_capacity
from procure.engine.model.resilience import RULE, contingencies


@family("whole_units")
def check_whole_units(plan: Plan) -> pd.DataFrame:
    """Deliveries of a whole-unit item are whole numbers."""
    items = plan.data.items
    if "whole_units" not in items or not items["whole_units"].any():
        return no_violations()
    whole = set(items.loc[items["whole_units"].to_numpy(dtype=bool), "item"])
    q = plan.quantity
    mine = plan.alloc["item"].isin(whole).to_numpy()
    off = np.where(mine, np.abs(q - np.round(q)), 0.0)
    return violations("whole_units", delivery_names(plan), off, tolerance(q),
                      lambda k: f"{q[k]:.10g} is not a whole number of "
                                f"{plan.given['item'].iat[k]} (Items.whole_units = yes)")


@family("n_minus_1")
def check_n_minus_1(plan: Plan) -> pd.DataFrame:
    """Each N-1 rule's best re-covery without each contingency leaves at most its share unmet."""
    rules = plan.data.rules.reset_index(drop=True)
    rules = rules[rules["rule"] == RULE]
    if rules.empty:
        return no_violations()
    if plan.context is None:
        plan.context = build_context(plan.data)
    ctx = plan.context
    planned = _planned(plan, ctx)
    parts = []
    for rule in rules.itertuples(index=False):
        lost, unmet, demand = least_unmet(ctx, rule, planned)
        if not len(lost):
            continue
        allowed = float(rule.share) * demand
        label = rule.name if isinstance(rule.name, str) and rule.name.strip() else rule.rule
        head = f"Rules!{rule.source_row} '{label}'"
        parts.append(violations(
            "n_minus_1", np.array([f"{head} without {k}" for k in lost], dtype=object),
            unmet - allowed, tolerance(np.full(len(lost), max(demand, 1.0))),
            lambda j, lost=lost, unmet=unmet, allowed=allowed: (
                f"without {lost[j]} the best re-covery leaves {unmet[j]:,.6g} unmet, more than "
                f"the {allowed:,.6g} the rule tolerates")))
    return concat(parts)


def _planned(plan: Plan, ctx) -> np.ndarray:
    """The allocation's quantity on each row of the data's delivery index (0 elsewhere),
    matched on the integer codes of partner, item, demand item, supplier and period."""
    x, a = ctx.x, plan.alloc

    def codes(frame):
        return [frame[c].cat.codes.to_numpy().astype(np.int64)
                for c in ("partner", "item", "demand_item", "supplier")] + [
            frame["period_pos"].to_numpy(dtype=np.int64)]

    index = pd.MultiIndex.from_arrays(codes(x))
    if not len(a):
        return np.zeros(len(x))
    at = index.get_indexer(pd.MultiIndex.from_arrays(codes(a)))
    ok = at >= 0
    return np.bincount(at[ok], weights=plan.quantity[ok], minlength=len(x))


def least_unmet(ctx, rule, planned: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """``(contingency labels, least unmet quantity of each, demand in scope)`` of an N-1 rule
    for the plan ``planned`` (a quantity per row of ``ctx.x``): one LP for every contingency."""
    from procure.engine.backends import new_highs, pass_model, read_highs
    from procure.engine.model.core import Model

    data, x = ctx.data, ctx.x
    partner = blank_to_none(rule.partner)
    dem = ctx.demand
    dem_scope = item_mask(data, dem, blank_to_none(rule.item)).copy()
    if partner is not None:
        dem_scope &= (dem["partner"] == partner).to_numpy()
    total = float(dem.loc[dem_scope, "quantity"].sum())
    sets = contingencies(ctx, rule)
    if total <= 0 or not sets:
        return np.zeros(0, dtype=object), np.zeros(0), total
    labels = np.array([label for label, _ in sets], dtype=object)
    in_scope = np.isin(x["demand_row"].to_numpy(), dem.loc[dem_scope, "demand_row"].to_numpy())
    rows = np.flatnonzero(in_scope)
    sup = x["supplier"].cat.codes.to_numpy()
    lost = np.zeros((len(sets), len(data.suppliers)), dtype=bool)
    for k, (_, codes) in enumerate(sets):
        lost[k, codes] = True
    kk = np.repeat(np.arange(len(sets)), len(rows))
    jj = np.tile(rows, len(sets))
    keep = ~lost[kk, sup[jj]]
    kk, jj = kk[keep], jj[keep]
    n = len(kk)
    if n == 0:
        return labels, np.full(len(sets), total), total

    offer = x["offer"].to_numpy()
    period = x["period_pos"].to_numpy()
    n_t = len(data.periods)
    surge = data.offers["surge"].to_numpy(dtype=float)
    cell = offer.astype(np.int64) * n_t + period
    in_scope_q = np.bincount(cell[rows], weights=planned[rows], minlength=len(data.offers) * n_t)
    outside = ~in_scope
    out_q = np.bincount(cell[outside], weights=planned[outside], minlength=len(data.offers) * n_t)
    blocks_r, blocks_c, blocks_v, upper = [], [], [], []

    def add(key: np.ndarray, coef: np.ndarray, bound_of_key) -> None:
        """One row per distinct ``key`` over the re-covery columns (key -1: no row; those
        columns get a free row of their own with coefficient 0)."""
        uniq, row = np.unique(key, return_inverse=True)
        blocks_r.append(row + sum(len(u) for u in upper))
        blocks_c.append(np.arange(n))
        blocks_v.append(coef)
        upper.append(np.asarray(bound_of_key(uniq), dtype=float))

    span = len(data.offers) * n_t
    # per contingency, offer and period: planned to the scope + surge
    add(kk.astype(np.int64) * span + cell[jj], np.ones(n),
        lambda u: in_scope_q[u % span] + surge[(u % span) // n_t])
    # capacity of offers with a surge (net of what the plan sends outside the scope)
    cap_frame = pd.DataFrame({"supplier": data.offers["supplier"].to_numpy()[offer[jj]],
                              "item": data.offers["item"].to_numpy()[offer[jj]],
                              "period": x["period"].to_numpy()[jj],
                              "capacity": data.offers["capacity"].to_numpy(dtype=float)[offer[jj]]})
    own = period_capacity(data, cap_frame)
    surging = surge[offer[jj]] > 0
    limited = surging & np.isfinite(own)
    if limited.any():
        key = np.where(limited, kk.astype(np.int64) * span + cell[jj], -1)
        cap = np.full(span, np.inf)
        cap[cell[jj][limited]] = own[limited]  # one capacity per offer and period
        add(key, limited.astype(float),
            lambda u: np.where(u < 0, np.inf, cap[u % span] - out_q[u % span]))
    # shared capacity of suppliers with a surging offer in scope
    shared = data.suppliers["capacity"].to_numpy(dtype=float)
    use = x["capacity_use"].to_numpy(dtype=float)
    s_cell = sup.astype(np.int64) * n_t + period
    s_span = len(data.suppliers) * n_t
    hot_cells = np.unique(kk[surging].astype(np.int64) * s_span + s_cell[jj][surging])
    hot_cells = hot_cells[~np.isnan(shared[(hot_cells % s_span) // n_t])]
    if len(hot_cells):
        key = kk.astype(np.int64) * s_span + s_cell[jj]
        member = np.isin(key, hot_cells)
        out_use = np.bincount(s_cell[outside], weights=(use * planned)[outside], minlength=s_span)
        add(np.where(member, key, -1), np.where(member, use[jj], 0.0),
            lambda u: np.where(u < 0, np.inf, shared[(u % s_span) // n_t] - out_use[u % s_span]))
    # per contingency and demand row: at most the demand
    demand_q = data.demand["quantity"].to_numpy(dtype=float)
    d_row = x["demand_row"].to_numpy()
    n_d = len(data.demand)
    add(kk.astype(np.int64) * n_d + d_row[jj], np.ones(n), lambda u: demand_q[u % n_d])

    r = np.concatenate(blocks_r)
    matrix = sp.csc_matrix((np.concatenate(blocks_v), (r, np.concatenate(blocks_c))),
                           shape=(int(r.max()) + 1, n))
    row_upper = np.maximum(np.concatenate(upper), 0.0)
    lp = Model(col_cost=-np.ones(n), col_lower=np.zeros(n), col_upper=np.full(n, np.inf),
               integrality=np.zeros(n, dtype=bool), matrix=matrix,
               row_lower=np.full(len(row_upper), -np.inf), row_upper=row_upper,
               variables={}, constraints={})
    h = new_highs()
    pass_model(h, lp)
    h.run()
    out = read_highs(h, lp, 0.0)
    if not out.status.has_plan:
        return labels, np.full(len(sets), np.nan), total
    recovered = np.bincount(kk, weights=out.col_value, minlength=len(sets))
    return labels, np.maximum(total - recovered, 0.0), total
