"""The check family of the Rules sheet (docs/model.md, rules): shares and value shares,
workshare, quantities and supplier counts. Bans are the family ``ban`` of :mod:`.supply`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from procure.engine.check.core import (
    RTOL,
    Plan,
    concat,
    family,
    no_violations,
    tolerance,
    violations,
)
from procure.engine.model.index import blank_to_none, build_context, item_mask


@family("rule")
def check_rules(plan: Plan) -> pd.DataFrame:
    """Every rule but bans, one pass over the deliveries per rule."""
    rules = plan.data.rules.reset_index(drop=True)
    return concat([_CHECKS[r.rule](plan, r) for r in rules.itertuples(index=False)
                   if r.rule in _CHECKS])


def _subject(rule, subject=None) -> str:
    label = rule.name if isinstance(rule.name, str) and rule.name.strip() else rule.rule
    head = f"Rules!{rule.source_row} '{label}'"
    return head if subject is None else f"{head} for {subject}"


def _scope(plan: Plan, rule) -> np.ndarray:
    """Deliveries in the rule's scope: its partner (blank: the pool) and its items."""
    return plan.item_mask(blank_to_none(rule.item)) & plan.partner_mask(blank_to_none(rule.partner))


def _in_group(plan: Plan, rule) -> np.ndarray:
    return plan.group_mask(blank_to_none(rule.group), blank_to_none(rule.partner))


def _each(rule) -> str | None:
    return {"each_supplier": "supplier", "each_country": "country"}.get(rule.group)


def _share(plan: Plan, rule) -> pd.DataFrame:
    """min/max (value) share: quantity (or value) from the group against share x the scope's."""
    by_value = "value" in rule.rule
    weight = plan.quantity * (np.nan_to_num(plan.alloc["base"].to_numpy()) if by_value else 1.0)
    weight = np.where(_scope(plan, rule), weight, 0.0)
    total = float(weight.sum())
    unit = "of value" if by_value else "units"
    key = _each(rule)
    if key is not None:  # max only (validation): every supplier / country within the share
        got = plan.sums(key, weight)
        names = plan.names(key)
        return violations("rule", lambda idx: [_subject(rule, names[k]) for k in idx],
                          got - rule.share * total, tolerance(total),
                          lambda k: f"{got[k]:,.6g} of {total:,.6g} {unit} is "
                                    f"{got[k] / total:.4%}, above {rule.share:.4%}")
    in_group = float(weight[_in_group(plan, rule)].sum())
    is_min = rule.rule.startswith("min")
    miss = rule.share * total - in_group if is_min else in_group - rule.share * total
    return violations("rule", _subject(rule), miss, tolerance(total),
                      lambda k: f"{in_group:,.6g} of {total:,.6g} {unit} from {rule.group} is "
                                f"{in_group / total if total else 0:.4%}, "
                                f"{'below' if is_min else 'above'} {rule.share:.4%}")


def _workshare(plan: Plan, rule) -> pd.DataFrame:
    """For each partner in scope: value awarded to suppliers of its country, over all partners'
    orders of the items, >= share x the value of its own orders of them."""
    data, a = plan.data, plan.alloc
    items = plan.item_mask(blank_to_none(rule.item))
    value = np.where(items, plan.quantity * np.nan_to_num(a["base"].to_numpy()), 0.0)
    own = plan.sums("partner", value)
    awarded = plan.sums("country", value)
    home = plan.countries.get_indexer(data.partners["country"])
    home_value = np.where(home >= 0, awarded[np.maximum(home, 0)], 0.0)
    partner = blank_to_none(rule.partner)
    who = np.ones(len(own), dtype=bool) if partner is None else \
        (data.partners["partner"] == partner).to_numpy()
    names = plan.names("partner")
    return violations("rule", lambda idx: [_subject(rule, names[k]) for k in idx],
                      np.where(who, rule.share * own - home_value, 0.0),
                      tolerance(np.maximum(own, home_value)),
                      lambda k: f"{home_value[k]:,.2f} awarded to {names[k]}'s industry, below "
                                f"{rule.share:.4%} of its own orders ({own[k]:,.2f})")


def _quantity(plan: Plan, rule) -> pd.DataFrame:
    """min/max quantity from the group over the scope (each_*: every supplier / country)."""
    q = np.where(_scope(plan, rule), plan.quantity, 0.0)
    key = _each(rule)
    if key is not None:  # max only
        got = plan.sums(key, q)
        names = plan.names(key)
        return violations("rule", lambda idx: [_subject(rule, names[k]) for k in idx],
                          got - rule.quantity, tolerance(np.maximum(got, rule.quantity)),
                          lambda k: f"buys {got[k]:,.6g}, above {rule.quantity:,.6g}")
    got = float(q[_in_group(plan, rule)].sum())
    is_min = rule.rule == "min_quantity"
    miss = rule.quantity - got if is_min else got - rule.quantity
    return violations("rule", _subject(rule), miss, tolerance(max(got, rule.quantity)),
                      lambda k: f"buys {got:,.6g} from {rule.group}, "
                                f"{'below' if is_min else 'above'} {rule.quantity:,.6g}")


def _count(plan: Plan, rule) -> pd.DataFrame:
    """Per item in scope that the partner (or the pool) demands: the suppliers in group that
    deliver it (min: at least 1 unit, or all they can if less; max: any) against the count."""
    data, a = plan.data, plan.alloc
    partner = blank_to_none(rule.partner)
    demand = data.demand[data.demand["quantity"] > 0]
    if partner is not None:
        demand = demand[demand["partner"] == partner]
    items = pd.unique(demand.loc[item_mask(data, demand, blank_to_none(rule.item)), "item"])
    if not len(items):
        return no_violations()
    mask = _scope(plan, rule)
    if blank_to_none(rule.group) is not None:
        mask = mask & _in_group(plan, rule)
    pairs = pd.MultiIndex.from_arrays([a["item"].to_numpy()[mask], a["supplier"].to_numpy()[mask]])
    unique = pairs.unique()
    inverse = unique.get_indexer(pairs)
    delivered = np.bincount(inverse, weights=plan.quantity[mask], minlength=len(unique))
    is_min = rule.rule == "min_suppliers"
    counts = delivered > 0
    if is_min:
        counts = delivered >= 1 - RTOL
        # below one unit a supplier still counts when it delivers all it can to the scope
        small = np.flatnonzero((delivered > 0) & ~counts)
        if len(small):
            need = np.minimum(1.0, _reach(plan, rule, unique[small]))
            counts[small] = delivered[small] >= need * (1 - RTOL)
    per_item = pd.Series(counts.astype(float)).groupby(unique.get_level_values(0)).sum() \
        if len(unique) else pd.Series(dtype=float)
    got = pd.Series(items).map(per_item).fillna(0.0).to_numpy()
    miss = rule.quantity - got if is_min else got - rule.quantity
    return violations("rule", lambda idx: [_subject(rule, items[k]) for k in idx], miss, 0.5,
                      lambda k: f"{got[k]:g} suppliers deliver {items[k]}, "
                                f"{'fewer' if is_min else 'more'} than {rule.quantity:g}")


def _reach(plan: Plan, rule, pairs: pd.MultiIndex) -> np.ndarray:
    """What each (item, supplier) could deliver to the rule's scope at most: the bound the
    model uses for "all it can, if less than 1 unit" (from the data's delivery index)."""
    if plan.context is None:
        plan.context = build_context(plan.data)
    ctx = plan.context
    x = ctx.x
    scope = item_mask(plan.data, x, blank_to_none(rule.item))
    partner = blank_to_none(rule.partner)
    if partner is not None:
        scope = scope & (x["partner"] == partner).to_numpy()
    reach = np.minimum(np.bincount(x["offer"].to_numpy()[scope], weights=x["upper"].to_numpy()[scope],
                                   minlength=len(ctx.offers)), ctx.offers["total_bound"].to_numpy())
    at = pd.MultiIndex.from_frame(ctx.offers[["item", "supplier"]]).get_indexer(pairs)
    return np.where(at >= 0, reach[np.maximum(at, 0)], 0.0)


_CHECKS = {
    "min_share": _share, "max_share": _share, "min_value_share": _share, "max_value_share": _share,
    "workshare": _workshare, "min_quantity": _quantity, "max_quantity": _quantity,
    "min_suppliers": _count, "max_suppliers": _count,
}
