"""Check families of deliveries, demand, capacities, orders, prices, budgets and costs
(docs/model.md, constraints 1-5 and the objective)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from procure.engine.check.core import (
    COST_RTOL,
    Plan,
    codes_in,
    concat,
    delivery_names,
    family,
    no_violations,
    offer_names,
    table_of,
    tolerance,
    violations,
)
from procure.engine.model.index import blank_to_none, id_indices


@family("delivery")
def check_deliveries(plan: Plan) -> pd.DataFrame:
    """Every delivery is a real quantity >= 0, from an offer that exists, of an item its
    partner accepts for the demand it serves (the item itself, or a substitute the
    Substitutes sheet allows for that partner or for every partner)."""
    a, data = plan.given, plan.data
    q = plan.quantity
    names = delivery_names(plan)
    parts = [
        violations("delivery", names, np.where(np.isfinite(q), -q, np.inf), 0.0,
                   lambda k: f"quantity {q[k]!r} is not a number >= 0"),
        violations("delivery", names, (plan.alloc["offer"].to_numpy() < 0).astype(float), 0.0,
                   lambda k: f"no Offers row for supplier {a['supplier'].iat[k]!r} and item "
                             f"{a['item'].iat[k]!r}"),
    ]
    other = (a["item"] != a["demand_item"]).to_numpy()
    if other.any():
        subs = data.substitutes
        keys = a[["demand_item", "item", "partner"]].rename(
            columns={"demand_item": "item", "item": "substitute"})
        for_all = subs[subs["partner"].isna()][["item", "substitute"]].assign(ok=True)
        for_one = subs[subs["partner"].notna()][["item", "substitute", "partner"]].assign(ok=True)
        accepted = (
            keys.merge(for_all.drop_duplicates(["item", "substitute"]), on=["item", "substitute"],
                       how="left")["ok"].notna().to_numpy()
            | keys.merge(for_one.drop_duplicates(["item", "substitute", "partner"]),
                         on=["item", "substitute", "partner"], how="left")["ok"].notna().to_numpy()
        )
        parts.append(violations("delivery", names, np.where(other & ~accepted, q, 0.0), tolerance(q),
                                lambda k: f"{a['partner'].iat[k]} does not accept {a['item'].iat[k]} "
                                          f"for its demand of {a['demand_item'].iat[k]}"))
    return concat(parts)


@family("first_period")
def check_first_periods(plan: Plan) -> pd.DataFrame:
    """No delivery before its offer's first_period."""
    a = plan.alloc
    offer = a["offer"].to_numpy()
    known = offer >= 0
    first = np.where(known, plan.offers["first_pos"].to_numpy()[np.maximum(offer, 0)], -1)
    early = known & (a["period_pos"].to_numpy() < first)
    q = plan.quantity
    firsts = plan.offers["first_period"].to_numpy()
    return violations("first_period", delivery_names(plan), np.where(early, q, 0.0), tolerance(q),
                      lambda k: f"delivered in {plan.given['period'].iat[k]}, before the offer's "
                                f"first_period {firsts[offer[k]]}")


@family("ban")
def check_bans(plan: Plan) -> pd.DataFrame:
    """No delivery that a ban rule forbids."""
    a = plan.alloc
    if a.empty or not (plan.data.rules["rule"] == "ban").any():
        return no_violations()
    q = plan.quantity
    banned = np.zeros(len(a), dtype=bool)
    for ban in plan.data.rules[plan.data.rules["rule"] == "ban"].itertuples(index=False):
        partner = blank_to_none(ban.partner)
        banned |= (plan.partner_mask(partner) & plan.item_mask(blank_to_none(ban.item))
                   & plan.group_mask(blank_to_none(ban.group), partner))
    return violations("ban", delivery_names(plan), np.where(banned, q, 0.0), tolerance(q),
                      lambda k: f"{plan.given['supplier'].iat[k]} may not deliver "
                                f"{plan.given['item'].iat[k]} to {plan.given['partner'].iat[k]} "
                                "(a ban rule)")


@family("demand")
def check_demand(plan: Plan) -> pd.DataFrame:
    """Every Demand row is met exactly: the deliveries against it plus its shortfall equal its
    quantity; a shortfall only where the item has a shortfall_penalty, within [0, demand]."""
    data, a = plan.data, plan.alloc
    d = data.demand.reset_index(drop=True)
    items, partners, _, _ = id_indices(data)
    n_i, n_t = len(items), len(data.periods)

    def key(partner, item, period):
        return (partner.astype(np.int64) * n_i + item) * n_t + period

    rows = pd.Index(key(codes_in(d["partner"], partners), codes_in(d["item"], items),
                        codes_in(d["period"], pd.Index(data.periods))))
    c = plan.codes
    known = (c["partner"] >= 0) & (c["demand_item"] >= 0) & (a["period_pos"].to_numpy() >= 0)
    at = np.where(known, rows.get_indexer(key(c["partner"], c["demand_item"],
                                              a["period_pos"].to_numpy())), -1)
    q = plan.quantity
    delivered = np.bincount(at[at >= 0], weights=q[at >= 0], minlength=len(d))
    f = table_of(plan.result, "fulfilment")
    short = (f["shortfall"].to_numpy(dtype=float) if len(f) == len(d) and "shortfall" in f
             else np.zeros(len(d)))
    demand = d["quantity"].to_numpy(dtype=float)
    penalty = d["item"].map(data.items.set_index("item")["shortfall_penalty"]).to_numpy(dtype=float)

    def names(idx):
        return [f"{r.partner} / {r.item} / {r.period} (Demand row {r.source_row})"
                for r in d.iloc[idx].itertuples(index=False)]

    scale = np.maximum(demand, delivered + np.abs(short))
    return concat([
        violations("demand", names, np.abs(delivered + short - demand), tolerance(scale),
                   lambda k: f"delivered {delivered[k]:,.6g} + shortfall {short[k]:,.6g} of "
                             f"{demand[k]:,.6g} demanded"),
        violations("demand", names, np.where(np.isnan(penalty), np.abs(short), 0.0),
                   tolerance(demand),
                   lambda k: f"a shortfall of {short[k]:,.6g} on an item without a "
                             "shortfall_penalty (its demand is hard)"),
        violations("demand", names, np.maximum(-short, short - demand), tolerance(demand),
                   lambda k: f"shortfall {short[k]:,.6g} outside [0, {demand[k]:,.6g}]"),
        violations("demand", delivery_names(plan), np.where(at < 0, q, 0.0), tolerance(q),
                   lambda k: "a delivery against no Demand row"),
    ])


@family("offer_capacity")
def check_offer_capacity(plan: Plan) -> pd.DataFrame:
    """Per offer and period: deliveries <= its capacity (Capacity sheet, else Offers.capacity)."""
    a = plan.alloc
    offer = a["offer"].to_numpy()
    ok = (offer >= 0) & (a["period_pos"].to_numpy() >= 0)
    if not ok.any():
        return no_violations()
    n_t = len(plan.data.periods)
    key = offer[ok].astype(np.int64) * n_t + a["period_pos"].to_numpy()[ok]
    cells, inverse = np.unique(key, return_inverse=True)
    used = np.bincount(inverse, weights=plan.quantity[ok])
    o, t = np.divmod(cells, n_t)
    offers = plan.offers
    cap = offers["capacity"].to_numpy(dtype=float)[o]
    override = plan.data.capacity
    if len(override):  # the Capacity sheet's value for (offer, period), else Offers.capacity
        pairs = pd.MultiIndex.from_frame(offers[["supplier", "item"]])
        at_offer = pairs.get_indexer(pd.MultiIndex.from_frame(override[["supplier", "item"]]))
        at_period = pd.Index(plan.data.periods).get_indexer(override["period"])
        keys = pd.Index(at_offer.astype(np.int64) * n_t + at_period)
        hit = keys.get_indexer(cells)
        cap = np.where(hit >= 0, override["capacity"].to_numpy(dtype=float)[np.maximum(hit, 0)], cap)
    cap = np.where(np.isnan(cap), np.inf, cap)
    suppliers = offers["supplier"].to_numpy(dtype=object)[o]
    items = offers["item"].to_numpy(dtype=object)[o]
    periods = np.asarray(plan.data.periods, dtype=object)[t]

    def names(idx):
        return [f"{suppliers[k]} / {items[k]} / {periods[k]}" for k in idx]

    return violations("offer_capacity", names, used - cap, tolerance(used),
                      lambda k: f"delivers {used[k]:,.6g}, capacity {cap[k]:,.6g}")


@family("shared_capacity")
def check_shared_capacity(plan: Plan) -> pd.DataFrame:
    """Per supplier with a shared capacity and period: sum of capacity_use x quantity <= it."""
    a, data = plan.alloc, plan.data
    shared = data.suppliers["capacity"].to_numpy(dtype=float)
    supplier = plan.codes["supplier"]
    ok = (supplier >= 0) & (a["offer"].to_numpy() >= 0) & (a["period_pos"].to_numpy() >= 0)
    if np.isnan(shared).all() or not ok.any():
        return no_violations()
    n_t = len(data.periods)
    use = plan.offers["capacity_use"].to_numpy(dtype=float)[a["offer"].to_numpy()[ok]]
    key = supplier[ok].astype(np.int64) * n_t + a["period_pos"].to_numpy()[ok]
    cells, inverse = np.unique(key, return_inverse=True)
    used = np.bincount(inverse, weights=use * plan.quantity[ok])
    s, t = np.divmod(cells, n_t)
    cap = shared[s]
    names = data.suppliers["supplier"].to_numpy(dtype=object)[s]
    periods = np.asarray(data.periods, dtype=object)[t]
    return violations("shared_capacity", lambda idx: [f"{names[k]} / {periods[k]}" for k in idx],
                      np.where(np.isnan(cap), 0.0, used - cap), tolerance(used),
                      lambda k: f"uses {used[k]:,.6g} of its shared capacity {cap[k]:,.6g}")


@family("min_order")
def check_min_orders(plan: Plan) -> pd.DataFrame:
    """An offer that delivers at all delivers at least its min_order (pooled over partners and
    periods)."""
    o = plan.offers
    pooled = o["pooled"].to_numpy()
    need = o["min_order"].to_numpy(dtype=float)
    used = pooled > tolerance(need)
    return violations("min_order", offer_names(o), np.where(used, need - pooled, 0.0),
                      tolerance(need),
                      lambda k: f"orders {pooled[k]:,.6g}, below its min_order {need[k]:,.6g}")


@family("price")
def check_prices(plan: Plan) -> pd.DataFrame:
    """The unit price paid on every delivery is its offer's price at the pooled quantity (the
    tier reached for all_units, C(Q) / Q for incremental); the offers table says the same."""
    a, o = plan.alloc, plan.offers
    offer = a["offer"].to_numpy()
    known = offer >= 0
    expected = np.where(known, o["paid_price"].to_numpy()[np.maximum(offer, 0)], np.nan)
    paid = a["unit_price"].to_numpy(dtype=float)
    parts = [violations("price", delivery_names(plan), np.where(known, np.abs(paid - expected), 0.0),
                        COST_RTOL * np.maximum(1.0, np.abs(np.nan_to_num(expected))),
                        lambda k: f"paid {paid[k]:,.6g} a unit; the offer's price at its pooled "
                                  f"quantity is {expected[k]:,.6g}")]
    table = table_of(plan.result, "offers")
    if len(table) == len(o) and "purchase_cost" in table:
        reported = table["purchase_cost"].to_numpy(dtype=float)
        cost = o["purchase"].to_numpy()
        parts.append(violations("price", offer_names(o), np.abs(reported - cost),
                                COST_RTOL * np.maximum(1.0, np.abs(cost)),
                                lambda k: f"purchase cost {reported[k]:,.2f} reported, "
                                          f"{cost[k]:,.2f} at its price tiers"))
    return concat(parts)


@family("setup")
def check_setups(plan: Plan) -> pd.DataFrame:
    """An offer that delivers pays its setup_cost (the offers table's ``setup_cost``)."""
    o = plan.offers
    table = table_of(plan.result, "offers")
    if len(table) != len(o) or "setup_cost" not in table:
        return no_violations()
    setup = o["setup_cost"].to_numpy(dtype=float)
    paid = table["setup_cost"].to_numpy(dtype=float)
    pooled = o["pooled"].to_numpy()
    return violations("setup", offer_names(o), np.where(pooled > 0, setup - paid, 0.0),
                      COST_RTOL * np.maximum(1.0, setup),
                      lambda k: f"delivers {pooled[k]:,.6g} units but pays {paid[k]:,.2f} of its "
                                f"setup cost {setup[k]:,.2f}")


@family("budget")
def check_budgets(plan: Plan) -> pd.DataFrame:
    """Per partner with a budget: quantity x (base price + transport) <= budget."""
    budget = plan.data.partners["budget"].to_numpy(dtype=float)
    if np.isnan(budget).all():
        return no_violations()
    a = plan.alloc
    spent = plan.sums("partner", np.nan_to_num(plan.quantity * (a["base"].to_numpy() + a["cpu"].to_numpy())))
    return violations("budget", plan.names("partner"), np.where(np.isnan(budget), 0.0, spent - budget),
                      tolerance(spent),
                      lambda k: f"spends {spent[k]:,.2f} (base prices + transport), budget "
                                f"{budget[k]:,.2f}")


@family("cost")
def check_costs(plan: Plan) -> pd.DataFrame:
    """The cost parts recomputed from the plan: purchase (C(Q) of every offer), setup (every
    offer that delivers), transport (quantity x the Transport row), shortfall (shortfall x
    penalty); each against the result's figure, the total against their sum; and every
    allocation row's transport and cost."""
    data, a, o, r = plan.data, plan.alloc, plan.offers, plan.result
    q = plan.quantity
    f = table_of(r, "fulfilment")
    penalty = data.demand["item"].map(data.items.set_index("item")["shortfall_penalty"]).to_numpy(
        dtype=float)
    short = (f["shortfall"].to_numpy(dtype=float) if len(f) == len(penalty) and "shortfall" in f
             else np.zeros(len(penalty)))
    expected = {
        "purchase": float(o["purchase"].sum()),
        "setup": float(o["setup_cost"].to_numpy(dtype=float)[o["pooled"].to_numpy() > 0].sum()),
        "transport": float((q * a["cpu"].to_numpy()).sum()),
        "shortfall": float(np.nansum(short * penalty)),
    }
    expected["total_cost"] = sum(expected.values())
    names = list(expected)
    reported = np.array([_scalar(r, n) for n in names])
    want = np.array([expected[n] for n in names])
    # sums over many rows: a little more room than one computed figure
    parts = [violations("cost", names, np.abs(reported - want),
                        10 * COST_RTOL * np.maximum(1.0, np.abs(want)),
                        lambda k: f"{reported[k]:,.2f} reported, {want[k]:,.2f} recomputed")]
    transport = a["transport"].to_numpy(dtype=float) if "transport" in a else np.zeros(len(a))
    at_rate = q * a["cpu"].to_numpy()
    parts.append(violations("cost", delivery_names(plan), np.abs(transport - at_rate),
                            COST_RTOL * np.maximum(1.0, at_rate),
                            lambda k: f"transport {transport[k]:,.2f} reported, {at_rate[k]:,.2f} "
                                      "at the Transport sheet's rate"))
    if "cost" in a:
        row_cost = q * a["unit_price"].to_numpy(dtype=float) + transport
        given = a["cost"].to_numpy(dtype=float)
        parts.append(violations("cost", delivery_names(plan), np.abs(given - row_cost),
                                COST_RTOL * np.maximum(1.0, np.abs(row_cost)),
                                lambda k: f"cost {given[k]:,.2f} reported; quantity x unit price "
                                          f"+ transport is {row_cost[k]:,.2f}"))
    return concat(parts)


def _scalar(result, name: str) -> float:
    value = getattr(result, name, None)
    return float("nan") if value is None else float(value)
